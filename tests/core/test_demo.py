"""`flask demo`: demo accounts and a demo class with history; running it again changes nothing."""

from sqlalchemy import func, select

from learnhub.accounts import services as accounts
from learnhub.attendance.models import AttendanceRecord
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate
from learnhub.classes import services as classes
from learnhub.quizzes.models import Attempt


def test_demo_creates_accounts_and_a_class_with_history(runner, db_session):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "admin      demo-quantri-2026" in first.output
    training_class = classes.by_code("DNND-2026-01")
    assert len(training_class.sessions) == 3
    assert {u.login for u in classes.roster(training_class)} == {"hocvien1", "hocvien2"}
    assert db_session.scalar(select(func.count()).select_from(AttendanceRecord)) >= 2
    learner = accounts.find_by_login("hocvien1")
    assert (
        db_session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.user_id == learner.id)
        )
        == 2  # one per demo class
    )
    # The finished cohort: hocvien1 completed it and holds a certificate stored as a PDF.
    (cert,) = db_session.scalars(select(Certificate).where(Certificate.user_id == learner.id))
    assert cert.training_class.code == "KNDN-2026-01"
    assert certificates.storage_path(cert.pdf_sha256).is_file()
    assert b"%PDF" in certificates.read_pdf(cert)[:8]
    assert cert.data["score"]
    second = runner.invoke(args=["demo"])
    assert "already exist" in second.output
    assert (
        db_session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.user_id == learner.id)
        )
        == 2
    )
    assert len(db_session.scalars(select(Certificate)).all()) >= 1


def test_demo_refused_in_production(app):
    from learnhub import create_app

    prod = create_app({**app.config, "ENV": "production"})
    with prod.app_context():
        result = prod.test_cli_runner().invoke(args=["demo"])
    prod.extensions["learnhub.engine"].dispose()
    assert result.exit_code != 0
    assert "not in production" in result.output
