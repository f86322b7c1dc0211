"""Register numbers under concurrent issue, bulk jobs that resume, and the command line."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import Completion
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM, Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import (
    Certificate,
    IssueJob,
    Issuer,
    JobState,
    Kind,
    RevokeReason,
    Status,
)
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
        # Committed people stay for the rest of the run: not named as the people another test
        # searches for (test_finding4_5's "Nguyen" search pages through its results).
        people = [
            accounts.create_user(
                SYSTEM, full_name=f"Phạm Văn Thứ {i}", login=f"hv-{tag}-{i}", password=None
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


@pytest.fixture
def pool_of_five(app):
    """The session bound, for this test, to an engine with five connections and no overflow,
    whose callers give up after 3 s of waiting for one."""
    engine = db.make_engine(app.config["DATABASE_URL"], pool_size=5, max_overflow=0, pool_timeout=3)
    db.session.remove()
    db.session.configure(bind=engine)
    yield engine
    db.session.remove()
    db.session.configure(bind=app.extensions["learnhub.engine"])
    engine.dispose()


def test_fifty_concurrent_issues_give_fifty_consecutive_numbers(app, pool_of_five):
    """Finding 8: fifty threads issuing at once with a pool of five connections. Each waits for
    the process's issue slot before it checks out a connection, so none waits for the pool (on
    main, threads held their connection while waiting for the issue lock: QueuePool limit)."""
    class_id, user_ids = committed_class(app, 50)

    def issue(i):
        with certificates.issuing():
            cert = jobs.issue_one(SYSTEM, class_id, user_ids[i])
            db.session.commit()
            return cert.register_no

    numbers, errors = _run_together(app, issue, n=50)
    assert errors == []
    assert sorted(numbers) == list(range(1, 51))
    assert pool_of_five.pool.checkedout() == 0
    rows = _certificates(app, class_id)
    assert sorted(r.register_no for r in rows) == list(range(1, 51))


def test_a_bulk_job_uses_one_connection_at_a_time(app, pool_of_five):
    """Three jobs of one class at once (double clicks, two servers' worth) with a pool of five:
    every learner gets one certificate, numbers stay consecutive."""
    class_id, user_ids = committed_class(app, 12)
    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        ids = []
        for _ in range(3):
            job = IssueJob(class_id=klass.id, total=0, created_at=utcnow())
            db.session.add(job)
            db.session.flush()
            ids.append(job.id)
        db.session.commit()
        db.session.remove()
    _states, errors = _run_together(app, lambda i: jobs.run(ids[i]).state, n=3)
    assert errors == []
    rows = _certificates(app, class_id)
    assert sorted(r.user_id for r in rows) == sorted(user_ids)
    assert sorted(r.register_no for r in rows) == list(range(1, 13))


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


@pytest.mark.parametrize("workers", [1, 2])
def test_a_job_that_dies_half_way_resumes_without_issuing_twice(app, monkeypatch, workers):
    # Both loops (one render process, a pool of them) store each learner's PDF once, in order.
    monkeypatch.setitem(app.config, "PDF_WORKERS", workers)
    class_id, user_ids = committed_class(app, 6)
    real_store = certificates.store
    calls = []

    def dies_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        return real_store(*args, **kwargs)

    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        job = jobs.start(Actor(None), klass, utcnow())
        db.session.commit()
        job_id = job.id
        assert job.total == 6
        with monkeypatch.context() as m:
            m.setattr(certificates, "store", dies_on_the_fourth)
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
    checked = runner.invoke(args=["certificates", "verify", str(pdf)])
    assert checked.exit_code == 0, checked.output
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


def _one_certificate(app) -> tuple[int, int]:
    class_id, (user_id,) = committed_class(app, 1)
    with app.app_context():
        klass = db.session.get(TrainingClass, class_id)
        cert = certificates.issue(SYSTEM, klass, db.session.get(User, user_id), utcnow())
        db.session.commit()
        ids = (class_id, cert.id)
        db.session.remove()
    return ids


def test_finding2_two_simultaneous_confirmations_take_one_number(app):
    class_id, cert_id = _one_certificate(app)

    def confirm(_i):
        cert = db.session.get(Certificate, cert_id)
        made = certificates.confirm_lost(SYSTEM, cert, utcnow())
        db.session.commit()
        return made.id

    ids, errors = _run_together(app, confirm, n=4)
    assert errors == []
    assert len(set(ids)) == 1
    rows = _certificates(app, class_id)
    assert [r.kind for r in rows] == [Kind.certificate, Kind.confirmation]
    assert sorted(r.register_no for r in rows) == [1, 2]  # no number burnt either


def test_simultaneous_reissues_and_revocations_change_a_certificate_once(app):
    class_id, cert_id = _one_certificate(app)

    def reissue(_i):
        cert = db.session.get(Certificate, cert_id)
        made = certificates.reissue(SYSTEM, cert, utcnow(), "Sai ngày sinh")
        db.session.commit()
        return made.id

    ids, errors = _run_together(app, reissue, n=3)
    assert errors == []
    assert len(set(ids)) == 1
    new_id = ids[0]

    def revoke(_i):
        cert = db.session.get(Certificate, new_id)
        certificates.revoke(SYSTEM, cert, RevokeReason.error, "", utcnow())
        db.session.commit()

    _results, errors = _run_together(app, revoke, n=3)
    assert errors == []
    rows = _certificates(app, class_id)
    assert [(r.register_no, r.status) for r in rows] == [
        (1, Status.superseded),
        (2, Status.revoked),
    ]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "certificate",
                AuditEvent.object_id.in_([str(cert_id), str(new_id)]),
            )
        ).all()
        db.session.remove()
    assert sorted(actions) == sorted(
        ["certificate.issue", "certificate.issue", "certificate.supersede", "certificate.revoke"]
    )


def test_the_database_refuses_a_second_confirmation_or_reissue(app):
    """The unique indexes are the last word, whatever the Python above them does."""
    _class_id, cert_id = _one_certificate(app)
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        for column in ("refers_to_id", "supersedes_id"):
            copies = []
            for _ in range(2):
                code = uuid.uuid4().hex[:26].upper()
                copy = Certificate(
                    **{
                        c.key: getattr(cert, c.key)
                        for c in Certificate.__table__.columns
                        if c.key not in ("id", "code", "serial", "register_no", "number_label")
                    }
                )
                copy.code, copy.serial = code, code[:11]
                copy.register_no, copy.number_label = 900 + len(copies), f"X{code[:8]}"
                copy.kind = Kind.confirmation if column == "refers_to_id" else Kind.certificate
                copy.status = Status.valid if column == "refers_to_id" else Status.revoked
                setattr(copy, column, cert.id)
                copies.append(copy)
            db.session.add(copies[0])
            db.session.flush()
            db.session.add(copies[1])
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
        db.session.remove()


def test_auto_issue_is_rendered_by_a_worker_not_the_request(app, monkeypatch):
    """Build 7: marking the last lesson read records the completion and queues the automatic
    issue; the PDF is rendered by the job's worker thread after the request committed."""
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        trainer = accounts.create_user(
            SYSTEM,
            full_name="Giảng Viên Tự Động",
            login=f"gv-tc-{tag}",
            password=None,
            roles=[accounts.Grant(Role.trainer, None)],
        )
        klass = open_class(trainer, f"AUTO-{tag}")
        klass.rule = {"lessons": "none", "quiz": False, "attendance_share": 0}
        issuer = Issuer(  # its own register: the default one stays as rolled-back tests expect
            code=f"A{tag.upper()}",
            name="SỞ NỘI VỤ",
            place="Cà Mau",
            signer_title="GIÁM ĐỐC",
            signer_name="",
        )
        db.session.add(issuer)
        db.session.flush()
        klass.issuer_id = issuer.id
        learner = accounts.create_user(
            SYSTEM, full_name="Phan Thị Tự Cấp", login=f"hv-tc-{tag}", password="học viên 2026 tự"
        )
        classes.enrol(SYSTEM, klass, [learner])
        db.session.commit()
        class_id, login = klass.id, learner.login
        module = klass.module
        slug, lesson = module.slug, module.published_version.lessons[0].slug
        db.session.remove()

    real_settings = certificates.certificate_settings

    def auto_for_this_class(training_class):
        settings = real_settings(training_class)
        return {**settings, "issue": "auto"} if training_class.id == class_id else settings

    monkeypatch.setattr(certificates, "certificate_settings", auto_for_this_class)
    renders = []
    real_render = certificates.render_pdf

    def watched(cert, issuer):
        renders.append(threading.current_thread().name)
        return real_render(cert, issuer)

    monkeypatch.setattr(certificates, "render_pdf", watched)
    client = app.test_client()
    from tests.support import csrf_token

    token = csrf_token(client, "/login")
    credentials = {"login": login, "password": "học viên 2026 tự", "csrf_token": token}
    assert client.post("/login", data=credentials).status_code == 302
    token = csrf_token(client, f"/modules/{slug}/lessons/{lesson}")
    response = client.post(f"/modules/{slug}/lessons/{lesson}/read", data={"csrf_token": token})
    assert response.status_code == 302
    request_thread = threading.current_thread().name
    for _ in range(300):
        rows = _certificates(app, class_id)
        if rows:
            break
        time.sleep(0.1)
    assert len(rows) == 1
    assert rows[0].issued_by_id is None
    assert renders
    assert request_thread not in renders
    assert all(name.startswith("issue-job-") for name in renders)
