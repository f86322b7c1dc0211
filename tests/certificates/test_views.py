"""Certificate pages: ownership (404 for anyone else's), downloads from storage, the class's
review page, revocation and re-issue through the browser, the ZIP."""

import io
import zipfile

import pytest
from sqlalchemy import select

from learnhub import pdf
from learnhub.accounts.models import Role
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Status
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete
from tests.support import csrf_token


@pytest.fixture
def two(klass, create_user, unit):
    """Certificates of A (Sở Nội vụ) and B (a commune)."""
    a = create_user("hv-a", full_name="Phạm Thị A", unit=unit("CM-SNV"))
    b = create_user("hv-b", full_name="Võ Văn B", unit=unit("X-THOI-BINH"))
    out = []
    for user in (a, b):
        complete(klass, user)
        out.append(certificates.issue(Actor(None), klass, user, utcnow()))
    return a, b, out[0], out[1]


def test_someone_elses_certificate_does_not_exist(client, login, two, caplog):
    a, b, cert_a, cert_b = two
    login(a)
    with client.get(f"/certificates/{cert_a.id}/pdf") as own:
        assert own.status_code == 200
        assert own.data.startswith(b"%PDF")
    for url in (
        f"/certificates/{cert_b.id}",
        f"/certificates/{cert_b.id}/pdf",
        f"/certificates/{cert_a.id}/pdf?user_id={b.id}",
    ):
        with client.get(url) as response:
            if "user_id" in url:  # the parameter is ignored: still A's own certificate
                assert response.data == certificates.read_pdf(cert_a)
            else:
                assert response.status_code == 404
                assert b"%PDF" not in response.data
    # Walking the ids finds nothing but A's own.
    found = []
    for cert_id in range(max(cert_a.id, cert_b.id) + 20):
        with client.get(f"/certificates/{cert_id}/pdf") as response:
            if response.status_code == 200:
                found.append(cert_id)
    assert found == [cert_a.id]
    assert f"access denied: actor={a.id} route=GET /certificates/{cert_b.id}/pdf" in caplog.text


def test_hr_sees_only_its_units_people(client, login, two, create_user, unit):
    _a, _b, cert_a, cert_b = two
    hr = create_user("hr-thoibinh", roles=(Role.hr,), scope=unit("X-THOI-BINH"))
    login(hr)
    with client.get(f"/certificates/{cert_b.id}/pdf") as response:
        assert response.status_code == 200
    with client.get(f"/certificates/{cert_a.id}/pdf") as response:
        assert response.status_code == 404


def test_downloads_are_served_from_storage_never_rendered(client, login, two, monkeypatch):
    a, _b, cert_a, _ = two
    login(a)

    def no_render(*args, **kwargs):
        raise AssertionError("a download rendered a PDF")

    monkeypatch.setattr(pdf, "render", no_render)
    for _ in range(5):
        with client.get(f"/certificates/{cert_a.id}/pdf") as response:
            assert response.status_code == 200
            assert response.data == certificates.read_pdf(cert_a)
            assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_tampered_stored_file_is_not_served(client, login, two):
    a, _b, cert_a, _ = two
    path = certificates.storage_path(cert_a.pdf_sha256)
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b"%PDF", b"%PDX", 1))
        login(a)
        with client.get(f"/certificates/{cert_a.id}/pdf") as response:
            assert response.status_code == 503
    finally:
        path.write_bytes(original)


def test_my_certificates_page(client, login, two):
    a, _b, cert_a, cert_b = two
    login(a)
    html = client.get("/certificates/").get_data(as_text=True)
    assert cert_a.number_label in html
    assert cert_b.number_label not in html


def test_trainer_reviews_revokes_and_reissues(client, login, trainer, klass, two, db_session):
    _a, _b, cert_a, cert_b = two
    login(trainer)
    review = client.get(f"/classes/{klass.id}/certificates").get_data(as_text=True)
    assert "Phạm Thị A" in review
    assert cert_a.number_label in review
    token = csrf_token(client, f"/certificates/{cert_a.id}")
    response = client.post(
        f"/certificates/{cert_a.id}/revoke",
        data={"csrf_token": token, "reason": "error", "note": "Sai ngày sinh"},
    )
    assert response.status_code == 302
    db_session.refresh(cert_a)
    assert cert_a.status == Status.revoked
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "certificate.revoke", AuditEvent.object_id == str(cert_a.id)
        )
    )
    assert event.actor_id == trainer.id
    assert event.after["reason"] == "error"
    response = client.post(f"/certificates/{cert_b.id}/reissue", data={"csrf_token": token})
    assert response.status_code == 302  # no reason given: refused, nothing changed
    db_session.refresh(cert_b)
    assert cert_b.status == Status.valid
    response = client.post(
        f"/certificates/{cert_b.id}/reissue",
        data={"csrf_token": token, "reason": "Sai tên đơn vị"},
    )
    assert response.status_code == 302
    db_session.refresh(cert_b)
    assert cert_b.status == Status.superseded
    new_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert cert_b.number_label in new_page  # "re-issued, replaces …"
    with client.get(f"/classes/{klass.id}/certificates.zip") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        names = archive.namelist()
    assert len(names) == 1  # A's is revoked, B's superseded: only B's new one is valid
    assert archive.read(names[0]).startswith(b"%PDF")


def test_learner_cannot_manage(client, login, two, klass):
    a, _b, cert_a, _ = two
    login(a)
    token = csrf_token(client, "/dashboard")
    for url in (
        f"/certificates/{cert_a.id}/revoke",
        f"/certificates/{cert_a.id}/reissue",
        f"/classes/{klass.id}/certificates/issue",
    ):
        assert client.post(url, data={"csrf_token": token, "reason": "other"}).status_code == 404
    assert cert_a.status == Status.valid
    assert client.get(f"/classes/{klass.id}/certificates.zip").status_code == 404
