"""Issue 14, findings 1 and 2: the certificate lifecycle is one state machine. A revoked learner
is not a candidate again (only an explicit re-issue, with a reason, gives a new number); a
confirmation follows its certificate on /verify, the person page, the register page, XLSX and
PDF; a double-submitted confirmation or re-issue takes one number."""

import re
import secrets

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, Kind, RevokeReason, Status
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete
from tests.certificates.test_register import pdf_text
from tests.support import csrf_token


def _page(client, url: str) -> str:
    with client.get(url, environ_base={"REMOTE_ADDR": f"10.9.{secrets.randbelow(250)}.7"}) as r:
        assert r.status_code == 200, url
        return r.get_data(as_text=True)


def _row(html: str, name: str) -> str:
    """The review page's table row of one learner."""
    return re.search(rf"<tr><td>{name}</td>(.*?)</tr>", html, re.S).group(1)


def _last(db_session, cert) -> int:
    """The last number of *cert*'s register (its issuer, its year)."""
    return db_session.scalar(
        select(func.max(Certificate.register_no)).where(
            Certificate.issuer_id == cert.issuer_id, Certificate.year == cert.year
        )
    )


def test_finding1_a_revoked_learner_is_not_a_candidate_again(
    client, login, klass, trainer, create_user, db_session
):
    people = [create_user(full_name=n) for n in ("Lê Thị Hai", "Trần Văn Ba", "Võ Thị Tư")]
    for user in people:
        complete(klass, user)
    actor = Actor(trainer)
    issued = [certificates.issue(actor, klass, u, utcnow()) for u in people]
    hai, ba = issued[0], issued[1]
    certificates.revoke(actor, hai, RevokeReason.not_met, "", utcnow())
    # Ba's certificate is re-issued (superseded), then the re-issue is revoked too.
    again = certificates.reissue(actor, ba, utcnow(), "Sai ngày sinh")
    certificates.revoke(actor, again, RevokeReason.error, "", utcnow())
    db_session.flush()

    login(trainer)
    html = _page(client, f"/classes/{klass.id}/certificates")
    for name, shown in (("Lê Thị Hai", hai), ("Trần Văn Ba", again)):
        row = _row(html, name)
        assert "sẽ được cấp" not in row
        assert shown.number_label in row
    assert "0 sẽ được cấp" in html
    # Issuing the class gives nobody a new number.
    last = _last(db_session, hai)
    job = jobs.start(actor, klass, utcnow())
    assert job.total == 0
    for user in people:
        assert jobs.issue_one(actor, klass.id, user.id) is None
    with pytest.raises(certificates.CertificateError, match="cấp lại"):
        certificates.issue(actor, klass, people[0], utcnow())
    assert _last(db_session, hai) == last

    # Only the explicit re-issue, with a reason, from the certificate's page.
    token = csrf_token(client, f"/certificates/{hai.id}")
    page = _page(client, f"/certificates/{hai.id}")
    assert "Lý do cấp lại" in page
    response = client.post(f"/certificates/{hai.id}/reissue", data={"csrf_token": token})
    assert _last(db_session, hai) == last  # no reason
    data = {"csrf_token": token, "reason": "Hội đồng xét lại: đủ điều kiện"}
    response = client.post(f"/certificates/{hai.id}/reissue", data=data)
    assert response.status_code == 302
    new = certificates.valid_certificate(klass, people[0])
    assert new.register_no == last + 1
    assert new.supersedes_id == hai.id
    db_session.refresh(hai)
    assert hai.status == Status.revoked  # stays revoked: the new one names it
    # A second submit of the same form gives the same certificate, no second number.
    response = client.post(f"/certificates/{hai.id}/reissue", data=data)
    assert response.headers["Location"].endswith(f"/certificates/{new.id}")
    assert _last(db_session, hai) == last + 1
    event = db_session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "certificate.reissue", AuditEvent.object_id == str(hai.id))
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None
    assert event.actor_id == trainer.id
    assert event.after["reason"] == "Hội đồng xét lại: đủ điều kiện"


def test_finding2_a_confirmation_follows_its_certificate_everywhere(
    client, login, admin, klass, learner, db_session
):
    complete(klass, learner)
    actor = Actor(admin)
    cert = certificates.issue(actor, klass, learner, utcnow())
    gxn = certificates.confirm_lost(actor, cert, utcnow())
    assert gxn.state(cert.issued_on) == "valid"
    certificates.revoke(actor, cert, RevokeReason.fraud, "thi hộ", utcnow())
    db_session.flush()
    db_session.expire_all()
    gxn = db_session.get(Certificate, gxn.id)
    assert gxn.status == Status.valid  # nothing stored on it...
    assert gxn.effective_status == "revoked"  # ...it follows its certificate
    assert (
        db_session.scalar(select(Certificate.effective_status).where(Certificate.id == gxn.id))
        == "revoked"
    )

    verify = _page(client, f"/verify/{gxn.code}")
    assert "đang có hiệu lực" not in verify
    assert "đã bị thu hồi" in verify
    assert cert.number_label in verify

    login(admin)
    person = _page(client, f"/reports/people/{learner.id}")
    assert f"{gxn.number_label} (Đã thu hồi)" in person
    assert f"{gxn.number_label} (Có hiệu lực)" not in person

    base = f"issuer={cert.issuer_id}&year={cert.year}"
    register = _page(client, f"/register/?{base}&q={gxn.serial}")
    assert "Đã thu hồi" in register
    valid_only = _page(client, f"/register/?{base}&status=valid&kind=confirmation")
    assert gxn.number_label not in valid_only
    revoked_only = _page(client, f"/register/?{base}&status=revoked&kind=confirmation")
    assert gxn.number_label in revoked_only
    with client.get(f"/register/export.xlsx?{base}&q={gxn.serial}") as response:
        import io

        book = load_workbook(io.BytesIO(response.data))
        cells = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("Đã thu hồi") for v in cells)
    assert not any(isinstance(v, str) and v.startswith("Có hiệu lực") for v in cells)
    with client.get(f"/register/export.pdf?{base}&q={gxn.serial}") as response:
        text = pdf_text(response.data)
    assert gxn.number_label in text
    assert "Đã thu hồi" in text
    assert "Có hiệu lực" not in text
    # The certificate page of the confirmation says so too, and offers no new confirmation.
    page = _page(client, f"/certificates/{gxn.id}")
    assert "Đã thu hồi" in page
    assert "Cấp giấy xác nhận hoàn thành" not in page


def test_finding2_two_quick_confirmation_posts_issue_one_number(
    client, login, admin, klass, learner, db_session
):
    complete(klass, learner)
    cert = certificates.issue(Actor(admin), klass, learner, utcnow())
    db_session.flush()
    login(admin)
    token = csrf_token(client, f"/certificates/{cert.id}")
    first = client.post(f"/certificates/{cert.id}/confirmation", data={"csrf_token": token})
    second = client.post(f"/certificates/{cert.id}/confirmation", data={"csrf_token": token})
    assert first.headers["Location"] == second.headers["Location"]
    confirmations = db_session.scalars(
        select(Certificate).where(Certificate.refers_to_id == cert.id)
    ).all()
    assert len(confirmations) == 1
    assert confirmations[0].kind == Kind.confirmation
