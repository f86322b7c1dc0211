"""Issue 15, finding 5: a photo over 5 MB got Werkzeug's English "Redirecting…" page with status
413. A photo over the limit is scaled down and stored; a file too big that is not a photo gets
the app's own Vietnamese error page, on every upload route, MAX_CONTENT_LENGTH overflow included.
"""

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from learnhub.audit.services import Actor
from learnhub.catalog import services
from learnhub.classes import services as classes
from learnhub.timeutil import today
from tests.support import csrf_token, multipart

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5 * 1024 * 1024


def _photo(width: int = 3000, height: int = 2200) -> bytes:
    """A JPEG over 5 MB (noise does not compress), as a phone would send."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    assert out.tell() > LIMIT
    return out.getvalue()


def _upload(client, module, data: bytes, filename: str):
    token = csrf_token(client, f"/manage/modules/{module.id}")
    body, content_type = multipart({"csrf_token": token}, {"file": (data, filename)})
    return client.post(f"/manage/modules/{module.id}/assets", data=body, content_type=content_type)


def _is_app_413_page(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Redirecting" not in html
    assert '<html lang="vi"' in html
    assert "<h1>Tệp quá lớn</h1>" in html
    assert "Về trang chủ" in html


def test_finding_5_photo_over_the_limit_is_scaled_down_and_stored(
    client, app, login, trainer, db_session
):
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = _upload(client, module, _photo(), "Ảnh hội nghị.jpg")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Ảnh lớn hơn 5 MB nên đã được thu nhỏ trước khi lưu." in page
    db_session.refresh(module)
    digest = module.latest_version.assets["anh-hoi-nghi.jpg"]
    stored = db_session.get(services.StoredAsset, digest)
    assert stored.mime == "image/jpeg"
    assert stored.size <= LIMIT
    data = (Path(app.config["STORAGE_DIR"]) / "assets" / stored.stored_name).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) <= 2560
        assert image.size[0] > image.size[1]  # the proportions are kept


def test_finding_5_too_big_non_image_gets_the_apps_vietnamese_page(client, login, trainer):
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = _upload(client, module, b"%PDF-1.7\n" + b"\x00" * LIMIT, "tai-lieu.pdf")
    _is_app_413_page(response)


@pytest.fixture
def lop(trainer):
    return classes.open_class(
        Actor(trainer),
        services.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(code="TAI-1", title="Lớp tải tệp", starts_on=today(), ends_on=today()),
        [trainer],
    )


#: Every page with a file upload: its template, and the URL its form posts to.
UPLOADS = {
    "manage/module.html": "/manage/modules/{module}/assets",
    "quiz_manage/bank.html": "/manage/modules/{module}/questions/import",
    "classes/manage.html": "/manage/classes/{lop}/enrol-file",
    "attendance/paper.html": "/manage/classes/{lop}/paper",
    "admin/roster/upload.html": "/admin/users/import/",
    "certificates/issuer_edit.html": "/admin/issuers/{issuer}",
}


def test_every_upload_form_is_in_the_overflow_test():
    templates = ROOT / "learnhub" / "templates"
    found = {
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if 'enctype="multipart/form-data"' in path.read_text(encoding="utf-8")
    }
    assert found == set(UPLOADS)


@pytest.mark.parametrize("template", sorted(UPLOADS))
def test_finding_5_request_over_max_content_length_gets_the_apps_page(
    client, login, admin, lop, template, db_session
):
    from learnhub.certificates import services as certificates

    module = services.by_slug("ky-nang-doi-ngoai")
    url = UPLOADS[template].format(
        module=module.id, lop=lop.id, issuer=certificates.default_issuer().id
    )
    login(admin)
    token = csrf_token(client, "/dashboard")
    big = b"x" * (21 * 1024 * 1024)
    response = client.post(
        f"{url}?csrf_token={token}", data=big, content_type="multipart/form-data; boundary=xyz"
    )
    _is_app_413_page(response)
    assert re.search(r"<title>[^<]*Tệp quá lớn", response.get_data(as_text=True))
