"""Register numbers under concurrent issue, bulk jobs that resume, and the command line."""

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import Completion
from learnhub.audit.services import SYSTEM, Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, IssueJob, Issuer, JobState
from learnhub.classes import services as classes
from learnhub.classes.models import TrainingClass
from learnhub.timeutil import utcnow
from tests.certificates.conftest import open_class
from tests.quizzes.test_concurrency import _run_together

pytestmark = pytest.mark.no_rollback


def committed_class(app, learners: int) -> tuple[int, list[int]]:
    """A committed class with *learners* completed learners and its own issuer (so that its
    register starts at 1, and the default issuer's register stays as rolled-back tests expect)."""
    issuer_code = f"T{uuid.uuid4().hex[:8].upper()}"
    with app.app_context():
        tag = uuid.uuid4().hex[:8]
        trainer = accounts.create_user(
            SYSTEM,
            full_name="Giảng Viên Đồng Thời",
            login=f"gv-{tag}",
            password="giảng viên 2026",
            roles=[accounts.Grant(Role.trainer, None)],
        )
        klass = open_class(trainer, f"CC-{tag}")
        issuer = Issuer(
            code=issuer_code,
            name="SỞ NỘI VỤ",
            parent_name="UBND TỈNH CÀ MAU",
            place="Cà Mau",
            signer_title="GIÁM ĐỐC",
            signer_name="",
        )
        db.session.add(issuer)
        db.session.flush()
        klass.issuer_id = issuer.id
        people = [
            accounts.create_user(
                SYSTEM, full_name=f"Nguyễn Văn Thứ {i}", login=f"hv-{tag}-{i}", password=None
            )
            for i in range(learners)
        ]
        classes.enrol(SYSTEM, klass, people)
        for user in people:
            db.session.add(
                Completion(
                    class_id=klass.id,
                    user_id=user.id,
                    completed_at=utcnow(),
                    rule={},
                    score=Decimal("7.5"),
                    attendance_share=Decimal(1),
                )
            )
        db.session.commit()
        ids = (klass.id, [u.id for u in people])
        db.session.remove()
        return ids


def _certificates(app, class_id: int) -> list[Certificate]:
    with app.app_context():
        rows = db.session.scalars(
            select(Certificate).where(Certificate.class_id == class_id).order_by(Certificate.id)
        ).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_fifty_concurrent_issues_give_fifty_consecutive_numbers(app):
    class_id, user_ids = committed_class(app, 50)

    def issue(i):
        klass = db.session.get(TrainingClass, class_id)
        cert = certificates.issue(SYSTEM, klass, db.session.get(User, user_ids[i]), utcnow())
        db.session.commit()
        return cert.register_no

    numbers, errors = _run_together(app, issue, n=50)
    assert errors == []
    assert sorted(numbers) == list(range(1, 51))
    rows = _certificates(app, class_id)
    assert sorted(r.register_no for r in rows) == list(range(1, 51))


def test_double_click_gives_one_certificate(app):
    class_id, (user_id,) = committed_class(app, 1)

    def issue(_i):
        klass = db.session.get(TrainingClass, class_id)
        cert = certificates.issue(SYSTEM, klass, db.session.get(User, user_id), utcnow())
        db.session.commit()
        return cert.id

    ids, errors = _run_together(app, issue, n=4)
    assert errors == []
    assert len(set(ids)) == 1
    assert len(_certificates(app, class_id)) == 1


def test_a_job_that_dies_half_way_resumes_without_issuing_twice(app, monkeypatch):
    class_id, user_ids = committed_class(app, 6)
    real_issue = certificates.issue
    calls = []

    def dies_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        return real_issue(*args, **kwargs)

    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        job = jobs.start(Actor(None), klass, utcnow())
        db.session.commit()
        job_id = job.id
        assert job.total == 6
        with monkeypatch.context() as m:
            m.setattr(certificates, "issue", dies_on_the_fourth)
            job = jobs.run(job_id)
        assert job.state == JobState.failed
        assert job.issued == 3
        assert "worker killed" in job.error
        job = jobs.run(job_id)  # resume
        assert job.state == JobState.done
        assert job.issued == 6
        db.session.remove()
    rows = _certificates(app, class_id)
    assert len(rows) == 6
    assert sorted(r.user_id for r in rows) == sorted(user_ids)
    assert sorted(r.register_no for r in rows) == list(range(1, 7))


def test_browser_issue_runs_in_a_worker_thread(app, login):
    class_id, _user_ids = committed_class(app, 3)
    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        trainer = klass.trainers[0]
        db.session.remove()
    client = app.test_client()
    with app.app_context():
        login(db.session.get(User, trainer.id), password="giảng viên 2026", c=client)
        db.session.remove()
    from tests.support import csrf_token

    token = csrf_token(client, f"/classes/{class_id}/certificates")
    response = client.post(f"/classes/{class_id}/certificates/issue", data={"csrf_token": token})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    from tests.support import wait_until

    def job_states() -> list[JobState]:
        with app.app_context():
            states = db.session.scalars(
                select(IssueJob.state).where(IssueJob.class_id == class_id)
            ).all()
            db.session.remove()
        return states

    def finished() -> bool:
        return all(s in (JobState.done, JobState.failed) for s in job_states())

    wait_until(finished, timeout=120, what="the issue job to finish")
    assert job_states() == [JobState.done]
    page = client.get(job_url).get_data(as_text=True)
    assert "3/3" in page
    assert len(_certificates(app, class_id)) == 3
    # A second click after it finished issues nothing more (and whatever job it may have
    # started is waited for before counting).
    token = csrf_token(client, f"/classes/{class_id}/certificates")
    client.post(f"/classes/{class_id}/certificates/issue", data={"csrf_token": token})
    wait_until(finished, timeout=120, what="any second issue job to finish")
    assert len(_certificates(app, class_id)) == 3


def test_cli_issue_and_verify(app, tmp_path):
    class_id, _user_ids = committed_class(app, 2)
    runner = app.test_cli_runner()
    with app.app_context():
        code = db.session.get(TrainingClass, class_id).code
        db.session.remove()
    result = runner.invoke(args=["certificates", "issue", "--class", code])
    assert result.exit_code == 0, result.output
    assert "2 issued" in result.output
    again = runner.invoke(args=["certificates", "issue", "--class", code])
    assert "0 issued" in again.output
    rows = _certificates(app, class_id)
    assert len(rows) == 2
    with app.app_context():
        cert = db.session.get(Certificate, rows[0].id)
        pdf = tmp_path / "gcn.pdf"
        pdf.write_bytes(certificates.read_pdf(cert))
        qr = certificates.qr_text(cert)
        db.session.remove()
    assert runner.invoke(args=["certificates", "verify", str(pdf)]).exit_code == 0
    assert runner.invoke(args=["certificates", "verify", qr]).exit_code == 0
    url, token = qr.split("#")
    tampered = token.replace(token[10], "A" if token[10] != "A" else "B", 1)
    result = runner.invoke(args=["certificates", "verify", f"{url}#{tampered}"])
    assert result.exit_code == 1
    assert "INVALID" in result.output
    junk = tmp_path / "x.pdf"
    junk.write_bytes(b"%PDF-1.7 not really")
    assert runner.invoke(args=["certificates", "verify", str(junk)]).exit_code != 0
    missing = runner.invoke(args=["certificates", "issue", "--class", "KHONG-CO"])
    assert missing.exit_code != 0
    assert "no class" in missing.output
