"""`flask demo`: demo accounts and a demo class with history; running it again changes nothing."""

from sqlalchemy import func, select

from learnhub.accounts import services as accounts
from learnhub.attendance.models import AttendanceRecord
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
        == 1
    )
    second = runner.invoke(args=["demo"])
    assert "already exist" in second.output
    assert (
        db_session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.user_id == learner.id)
        )
        == 1
    )


def test_demo_refused_in_production(app):
    from learnhub import create_app

    prod = create_app({**app.config, "ENV": "production"})
    with prod.app_context():
        result = prod.test_cli_runner().invoke(args=["demo"])
    prod.extensions["learnhub.engine"].dispose()
    assert result.exit_code != 0
    assert "not in production" in result.output
