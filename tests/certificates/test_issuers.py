"""Admins set the issuer and signer; new certificates use them, issued ones never change."""

import io

from sqlalchemy import select

from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Issuer
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete
from tests.certificates.test_pdf import pdf_text
from tests.support import csrf_token

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _form(issuer, **changes):
    data = {
        "code": issuer.code,
        "parent_name": issuer.parent_name,
        "name": issuer.name,
        "place": issuer.place,
        "unit": issuer.unit.code if issuer.unit else "",
        "signer_authority": "KT.",
        "signer_for": "Giám đốc",
        "signer_title": "Phó Giám đốc",
        "signer_name": "Trần Thị Ký",
        "is_default": "y",
    }
    data.update(changes)
    return data


def test_admin_sets_the_signer(client, login, admin, klass, create_user, db_session):
    user = create_user(full_name="Đặng Thị Trước")
    complete(klass, user)
    before = certificates.issue(Actor(None), klass, user, utcnow())
    issuer = certificates.default_issuer()
    login(admin)
    assert "Trần Thị Ký" not in client.get("/admin/issuers/").get_data(as_text=True)
    token = csrf_token(client, f"/admin/issuers/{issuer.id}")
    data = _form(issuer, csrf_token=token)
    data["signature"] = (io.BytesIO(PNG), "chu-ky.png")
    response = client.post(
        f"/admin/issuers/{issuer.id}", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    db_session.refresh(issuer)
    assert issuer.signer_title == "PHÓ GIÁM ĐỐC"
    assert issuer.signer_for == "GIÁM ĐỐC"
    assert issuer.signature_png == PNG
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "issuer.save"))
    assert event.after["signer_name"] == "Trần Thị Ký"
    after_user = create_user(full_name="Đặng Văn Sau")
    complete(klass, after_user)
    after = certificates.issue(Actor(None), klass, after_user, utcnow())
    text = pdf_text(certificates.read_pdf(after))
    assert "KT. GIÁM ĐỐC" in text
    assert "Trần Thị Ký" in text
    assert b"/Subtype /Image" in certificates.read_pdf(after)  # the signature, as a data: URI
    assert "Trần Thị Ký" not in pdf_text(certificates.read_pdf(before))  # issued: unchanged


def test_bad_images_and_codes_are_refused(client, login, admin, db_session):
    issuer = certificates.default_issuer()
    login(admin)
    token = csrf_token(client, f"/admin/issuers/{issuer.id}")
    data = _form(issuer, csrf_token=token)
    data["seal"] = (io.BytesIO(b"<svg onload=alert(1)>"), "dau.png")
    html = client.post(
        f"/admin/issuers/{issuer.id}", data=data, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "PNG" in html
    db_session.refresh(issuer)
    assert issuer.seal_png is None
    other = Issuer(
        code="LHHN", name="LIÊN HIỆP", place="Cà Mau", signer_title="CHỦ TỊCH", signer_name=""
    )
    db_session.add(other)
    db_session.flush()
    html = client.post(
        f"/admin/issuers/{issuer.id}", data=_form(issuer, code="LHHN", csrf_token=token)
    ).get_data(as_text=True)
    assert "đã được dùng" in html
    html = client.post(
        f"/admin/issuers/{issuer.id}", data=_form(issuer, code="snv-1", csrf_token=token)
    ).get_data(as_text=True)
    db_session.refresh(issuer)
    assert issuer.code != "snv-1"
