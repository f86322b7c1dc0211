"""Learner pages and trainer authoring through HTTP; XSS (case 1), link fields (case 3),
uploads (case 17), permissions."""

import re

import pytest

from learnhub.accounts.models import Role
from learnhub.catalog import services
from tests.support import csrf_token, multipart

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_search_ignores_accents_and_case(client, login, learner):
    login(learner)
    html = client.get("/modules/?q=KY NANG").get_data(as_text=True)
    assert 'href="/modules/ky-nang-doi-ngoai"' in html
    assert 'href="/modules/quan-ly-to-chuc-pcpnn"' not in html
    html = client.get("/modules/?q=chi thi 04").get_data(as_text=True)
    assert 'href="/modules/doi-ngoai-nhan-dan"' in html
    assert 'href="/modules/vien-tro-khong-hoan-lai"' not in html
    none = client.get("/modules/?q=xyzxyz%25_").get_data(as_text=True)
    assert "Không tìm thấy chuyên đề nào" in none


def test_search_finds_by_words_without_diacritics(client, login, learner):
    login(learner)
    html = client.get("/modules/?q=doi ngoai").get_data(as_text=True)
    assert "Đối ngoại nhân dân" in html
    assert 'href="/modules/doi-ngoai-nhan-dan"' in html


def test_read_lessons_progress_and_resume(client, login, learner):
    login(learner)
    module = services.by_slug("doi-ngoai-nhan-dan")
    lessons = module.published_version.lessons
    page = client.get(f"/modules/{module.slug}").get_data(as_text=True)
    assert f"Đã đọc 0/{len(lessons)} bài" in page
    assert "Bắt đầu học" in page
    token = csrf_token(client, f"/modules/{module.slug}/lessons/{lessons[0].slug}")
    response = client.post(
        f"/modules/{module.slug}/lessons/{lessons[0].slug}/read", data={"csrf_token": token}
    )
    assert response.location.endswith(f"/lessons/{lessons[1].slug}")
    page = client.get(f"/modules/{module.slug}").get_data(as_text=True)
    assert f"Đã đọc 1/{len(lessons)} bài" in page
    resume = re.search(r'href="([^"]+)">Học tiếp', page)
    assert resume is not None
    assert resume.group(1) == f"/modules/{module.slug}/lessons/{lessons[1].slug}"


def test_lesson_page_is_light_and_needs_no_script(client, login, learner):
    login(learner)
    module = services.by_slug("doi-ngoai-nhan-dan")
    for lesson in module.published_version.lessons:
        response = client.get(f"/modules/{module.slug}/lessons/{lesson.slug}")
        body = response.get_data()
        css = client.get("/static/css/app.css")
        assert len(body) + len(css.get_data()) <= 50 * 1024
        css.close()
        assert b"<script" not in body
        assert "<table>" in response.get_data(as_text=True) or lesson.body.count("|") < 4


def test_unpublished_module_hidden_from_learners(client, login, learner, admin):
    module = services.create_module(
        services.Actor(admin),
        "nhap-rieng",
        {"title": "Bản nháp riêng", "category": "ky-nang", "summary": "x", "periods": 1},
        admin,
    )
    login(learner)
    assert client.get(f"/modules/{module.slug}").status_code == 404
    assert "Bản nháp riêng" not in client.get("/modules/").get_data(as_text=True)


@pytest.fixture
def scoped_trainer(create_user, unit):
    return create_user(
        "gv-thoibinh", roles=(Role.trainer,), unit=unit("X-THOI-BINH"), scope=unit("X-THOI-BINH")
    )


def test_trainer_scope_limits_editing(client, login, scoped_trainer, admin, unit):
    shared = services.by_slug("doi-ngoai-nhan-dan")
    own = services.create_module(
        services.Actor(scoped_trainer),
        "cua-xa",
        {"title": "Của xã", "category": "ky-nang", "summary": "x", "periods": 1},
        scoped_trainer,
    )
    login(scoped_trainer)
    assert client.get(f"/manage/modules/{shared.id}").status_code == 403
    assert client.get(f"/manage/modules/{own.id}").status_code == 200
    listing = client.get("/manage/modules/").get_data(as_text=True)
    assert "Của xã" in listing
    assert shared.published_version.title not in listing


def _save_lesson(client, module, slug, title, body, action="save", refs=""):
    token = csrf_token(client, f"/manage/modules/{module.id}")
    url = (
        f"/manage/modules/{module.id}/lessons/{slug}"
        if slug
        else f"/manage/modules/{module.id}/lessons/new"
    )
    data = {"csrf_token": token, "title": title, "body": body, "legal_refs": refs, "action": action}
    if not slug:
        data["slug"] = "lien-ket"
    return client.post(url, data=data)


def test_trainer_edits_previews_publishes_and_diffs(client, login, trainer, db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    lesson = module.published_version.lessons[0]
    published = module.published_version.number
    login(trainer)
    preview = _save_lesson(
        client,
        module,
        lesson.slug,
        lesson.title,
        lesson.body + "\n**Điểm mới**\n",
        action="preview",
    )
    assert preview.status_code == 200
    assert "<strong>Điểm mới</strong>" in preview.get_data(as_text=True)
    assert module.latest_version.number == published  # preview saves nothing
    saved = _save_lesson(
        client, module, lesson.slug, lesson.title, lesson.body + "\n**Điểm mới**\n"
    )
    assert saved.status_code == 302
    db_session.refresh(module)
    assert module.latest_version.number == published + 1
    assert module.published_version.number == published  # learners still see the old one
    token = csrf_token(client, f"/manage/modules/{module.id}")
    client.post(
        f"/manage/modules/{module.id}/publish", data={"csrf_token": token, "action": "publish"}
    )
    db_session.refresh(module)
    assert module.published_version.number == published + 1
    diff = client.get(f"/manage/modules/{module.id}/versions/{published}/{published + 1}")
    html = diff.get_data(as_text=True)
    assert '<ins class="add">+**Điểm mới**</ins>' in html


def test_reorder_lessons(client, login, trainer, db_session):
    module = services.by_slug("ky-nang-doi-ngoai")
    first, second = (x.slug for x in module.latest_version.lessons[:2])
    login(trainer)
    token = csrf_token(client, f"/manage/modules/{module.id}")
    client.post(
        f"/manage/modules/{module.id}/lessons/{second}/move",
        data={"csrf_token": token, "direction": "up"},
    )
    db_session.refresh(module)
    assert [x.slug for x in module.latest_version.lessons[:2]] == [second, first]
    assert [x.position for x in module.latest_version.lessons] == list(
        range(1, len(module.latest_version.lessons) + 1)
    )


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '" onmouseover="alert(1)',
]


@pytest.mark.parametrize("payload", XSS)
def test_stored_xss_in_trainer_content_is_inert(
    client, app, login, trainer, learner, db_session, payload
):
    """Security case 1: titles, bodies and references with script, seen by a learner."""
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = _save_lesson(
        client,
        module,
        None,
        f"Bài {payload}",
        f"Nội dung {payload}\n\n[x](javascript:alert(1))",
        refs=f"Nghị định {payload}",
    )
    # The javascript: link is refused and shown as a problem, nothing saved.
    assert response.status_code == 200
    assert "dùng giao thức bị cấm" in response.get_data(as_text=True)
    token = csrf_token(client, f"/manage/modules/{module.id}")
    saved = client.post(
        f"/manage/modules/{module.id}/lessons/new",
        data={
            "csrf_token": token,
            "slug": "bai-xss",
            "title": f"Bài {payload}",
            "body": f"Nội dung {payload}",
            "legal_refs": f"Nghị định {payload}",
            "action": "save",
        },
    )
    assert saved.status_code == 302
    services.publish(services.Actor(trainer), module)
    reader = app.test_client()
    login(learner, c=reader)
    for url in (
        f"/modules/{module.slug}",
        f"/modules/{module.slug}/lessons/bai-xss",
        "/references/",
        f"/manage/modules/{module.id}",
    ):
        html = reader.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
        assert not re.search(r"<[^>]+\son(error|load|mouseover)=", html)
    body = reader.get(f"/modules/{module.slug}/lessons/bai-xss").get_data(as_text=True)
    assert "Nội dung" in body


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "JaVaScRiPt:alert(1)",
        "vbscript:x",
    ],
)
def test_link_fields_allow_http_only(client, login, trainer, target):
    """Security case 3 (link fields): lesson links with dangerous schemes are refused."""
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = _save_lesson(client, module, None, "Liên kết", f"[bấm]({target})")
    assert response.status_code == 200
    assert "dùng giao thức bị cấm" in response.get_data(as_text=True)


def _upload(client, module, data: bytes, filename: str):
    token = csrf_token(client, f"/manage/modules/{module.id}")
    body, content_type = multipart({"csrf_token": token}, {"file": (data, filename)})
    return client.post(f"/manage/modules/{module.id}/assets", data=body, content_type=content_type)


def test_upload_checks_type_by_content_and_serves_safely(client, app, login, trainer, db_session):
    """Security case 17."""
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    for data, name in (
        (b"<html><script>alert(1)</script>", "evil.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.png"),
        (b"GIF8<html><script>alert(1)</script>", "poly.gif"),
    ):
        response = _upload(client, module, data, name)
        assert response.status_code == 302
        db_session.refresh(module)
        assert not module.latest_version.assets
    response = _upload(client, module, PNG, "../../app.py\x00.png")
    db_session.refresh(module)
    (name,) = module.latest_version.assets
    assert name == "app-py.png"
    stored = services.db.session.get(services.StoredAsset, module.latest_version.assets[name])
    assert "app" not in stored.stored_name
    assert len(stored.stored_name) == 32
    served = client.get(f"/modules/{module.slug}/assets/{name}")
    assert served.status_code == 200
    assert served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    served.close()
    long_name = "Sơ đồ tổ chức " * 25 + ".png"
    _upload(client, module, PNG[:-1] + b"\x83", long_name)
    db_session.refresh(module)
    assert all(len(n) <= 64 for n in module.latest_version.assets)


def test_upload_size_limit(client, login, trainer):
    """A file over 5 MB that is not a photo is refused (a photo is scaled down: issue 15)."""
    module = services.by_slug("ky-nang-doi-ngoai")
    login(trainer)
    response = _upload(client, module, b"%PDF-1.7\n" + b"\x00" * (5 * 1024 * 1024), "big.pdf")
    assert response.status_code == 413
    response.close()


def test_references_page_lists_everything_citing_a_document(client, login, learner):
    login(learner)
    index = client.get("/references/").get_data(as_text=True)
    assert "Nghị định 58/2022/NĐ-CP" in index
    page = client.get("/references/?doc=Nghị định 58/2022/NĐ-CP").get_data(as_text=True)
    assert "Câu hỏi" in page
    assert "Bài học" in page
    assert "Quản lý hoạt động của các tổ chức phi chính phủ nước ngoài" in page


def test_dashboard_shows_started_modules(client, login, learner):
    module = services.by_slug("doi-ngoai-nhan-dan")
    login(learner)
    assert "Bạn chưa bắt đầu chuyên đề nào" in client.get("/dashboard").get_data(as_text=True)
    services.mark_read(learner, module, module.published_version.lessons[0])
    html = client.get("/dashboard").get_data(as_text=True)
    total = len(module.published_version.lessons)
    assert f"đã đọc 1/{total} bài" in html
