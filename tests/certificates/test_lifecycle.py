"""Issue once, numbers per issuer and year, revoke, re-issue, confirmation, automatic issue."""

import errno
from datetime import date

import pytest
from sqlalchemy import select

from learnhub import pdf
from learnhub.attendance import services as attendance
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import (
    Certificate,
    IssueJob,
    JobState,
    Kind,
    RevokeReason,
    Status,
)
from learnhub.classes import services as classes
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete, open_class


def test_issued_once_and_numbered_in_order(klass, create_user, db_session):
    people = [create_user(full_name=f"Học Viên {i}") for i in range(3)]
    for user in people:
        complete(klass, user)
    issued = [certificates.issue(Actor(None), klass, u, utcnow()) for u in people]
    again = certificates.issue(Actor(None), klass, people[0], utcnow())
    assert again.id == issued[0].id  # idempotent
    year = issued[0].year
    numbers = [c.register_no for c in issued]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert [c.number_label for c in issued] == [f"{n:03d}/{year}/GCN-SNV" for n in numbers]
    assert len({c.code for c in issued}) == 3
    assert all(len(c.code) == 26 for c in issued)  # 128 bits in base32


def test_not_completed_cannot_be_issued(klass, learner):
    classes.enrol(Actor(None), klass, [learner])
    with pytest.raises(certificates.CertificateError):
        certificates.issue(Actor(None), klass, learner, utcnow())


def test_review_says_who_and_why(klass, create_user):
    done, missing = create_user(full_name="Đã Xong"), create_user(full_name="Chưa Xong")
    complete(klass, done)
    classes.enrol(Actor(None), klass, [missing])
    rows = {c.user.full_name: c for c in certificates.review(klass)}
    assert rows["Đã Xong"].will_issue
    assert not rows["Chưa Xong"].will_issue
    assert rows["Chưa Xong"].reasons  # e.g. lessons not read, quiz not passed


def test_revoke_reissue_and_confirmation(klass, learner, trainer, db_session):
    complete(klass, learner)
    actor = Actor(trainer)
    first = certificates.issue(actor, klass, learner, utcnow())
    with pytest.raises(certificates.CertificateError, match="lý do"):
        certificates.reissue(actor, first, utcnow(), "  ")
    new = certificates.reissue(actor, first, utcnow(), "Sai ngày sinh")
    assert certificates.reissue(actor, first, utcnow(), "lần nữa").id == new.id  # idempotent
    assert first.status == Status.superseded
    assert new.supersedes_id == first.id
    assert new.register_no == first.register_no + 1
    assert new.number_label != first.number_label
    lost = certificates.confirm_lost(actor, new, utcnow())
    assert lost.kind == Kind.confirmation
    assert lost.number_label == f"{lost.register_no:03d}/{lost.year}/GXN-SNV"
    assert lost.refers_to_id == new.id
    assert new.status == Status.valid  # the original stays valid
    certificates.revoke(actor, new, RevokeReason.error, "Sai ngày sinh", utcnow())
    assert new.status == Status.revoked
    # Revoking again (a double submit) changes nothing; a superseded one cannot be revoked.
    again = certificates.revoke(actor, new, RevokeReason.other, "", utcnow())
    assert again.revoke_reason == "error"
    with pytest.raises(certificates.CertificateError):
        certificates.revoke(actor, first, RevokeReason.other, "", utcnow())
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "certificate")
        .order_by(AuditEvent.id)
    ).all()
    assert actions[-5:] == [
        "certificate.issue",
        "certificate.issue",
        "certificate.supersede",
        "certificate.issue",
        "certificate.revoke",
    ]


def test_validity_period_from_the_module(klass, learner, monkeypatch):
    monkeypatch.setitem(
        klass.module.published_version.meta,
        "certificate",
        {"issue": "review", "validity_months": 24},
    )
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    assert cert.valid_until is not None
    assert (cert.valid_until.year - cert.issued_on.year) * 12 + (
        cert.valid_until.month - cert.issued_on.month
    ) == 24
    assert cert.state(cert.issued_on) == "valid"
    assert cert.state(date(cert.valid_until.year + 1, 1, 1)) == "expired"


def test_automatic_issue_on_completion(trainer, learner, db_session, monkeypatch):
    """Build 7: recording the completion only queues a job (dispatched after commit); the job
    renders and issues."""
    klass = open_class(trainer, "AUTO-2026")
    klass.rule = {"lessons": "none", "quiz": False, "attendance_share": 0}
    monkeypatch.setitem(klass.module.published_version.meta, "certificate", {"issue": "auto"})
    classes.enrol(Actor(None), klass, [learner])

    def no_render(*_args, **_kwargs):
        raise AssertionError("a PDF was rendered where the completion was recorded")

    with monkeypatch.context() as m:
        m.setattr(pdf, "render", no_render)
        assert attendance.evaluate(klass, learner, utcnow()) is not None
    assert db_session.scalar(select(Certificate).where(Certificate.user_id == learner.id)) is None
    job = db_session.scalar(select(IssueJob).where(IssueJob.class_id == klass.id))
    assert job.state == JobState.queued
    assert db_session.info[jobs._AFTER_COMMIT] == [job.id]  # handed over once committed
    db_session.info.pop(jobs._AFTER_COMMIT)
    assert jobs.run(job.id).issued == 1
    cert = db_session.scalar(select(Certificate).where(Certificate.user_id == learner.id))
    assert cert is not None
    assert cert.status == Status.valid
    assert cert.issued_by_id is None  # issued by the system, at completion


def test_disk_full_burns_no_number(klass, create_user, monkeypatch, db_session):
    people = [create_user(full_name=f"Người {i}") for i in range(2)]
    for user in people:
        complete(klass, user)

    def no_space(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    first = certificates.issue(Actor(None), klass, people[1 - 1], utcnow())
    with monkeypatch.context() as m:
        m.setattr(certificates.os, "replace", no_space)
        with pytest.raises(certificates.CertificateError, match="chưa cấp số vào sổ"):
            certificates.issue(Actor(None), klass, people[1], utcnow())
    assert certificates.valid_certificate(klass, people[1]) is None
    second = certificates.issue(Actor(None), klass, people[1], utcnow())
    assert second.register_no == first.register_no + 1
