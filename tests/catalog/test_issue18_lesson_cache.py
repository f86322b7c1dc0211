"""Issue 18: lesson HTML is rendered once per content (a cache keyed by the text itself), the
page's reader-independent parts once per published version (keyed by its content hash), and a
new version of a lesson shows its new text at once."""

import re

from learnhub.catalog import services as catalog
from learnhub.catalog import views
from learnhub.quizzes import services as quizzes
from tests.support import csrf_token, statements


def _without_tokens(html: str) -> str:
    # Every CSRF field (its token carries the second it was signed), whatever its attributes' order.
    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "", html)


def _publish(actor, module, body):
    draft = catalog.current_draft(module)
    catalog.set_lesson(draft, "bai-1", "Bài 1", body, [])
    catalog.save_draft(actor, module, draft)
    catalog.publish(actor, module)


def _published(admin, slug: str, body: str):
    """A module with one lesson (*body*) and a one-question bank, published."""
    actor = quizzes.Actor(admin)
    module = catalog.create_module(
        actor,
        slug,
        {"title": "Bộ nhớ đệm", "category": "ky-nang", "summary": "x", "periods": 1},
        admin,
    )
    quizzes.import_gift(actor, module, "::TF:: Câu hỏi đúng sai.{T}\n")
    _publish(actor, module, body)
    return actor, module


def test_a_new_lesson_version_shows_its_new_text_and_the_same_text_renders_once(
    client, login, admin, learner, db_session
):
    actor, module = _published(admin, "bo-nho-dem-bai-hoc", "Nội dung **bản một**.\n")
    db_session.flush()
    login(learner)
    url = "/modules/bo-nho-dem-bai-hoc/lessons/bai-1"
    before = views._lesson_html.cache_info()
    parts_before = dict(views.parts_counts)
    pages_before = dict(views.LESSON_PAGES.counts)
    first = client.get(url).get_data(as_text=True)
    assert "<strong>bản một</strong>" in first
    second = client.get(url).get_data(as_text=True)
    assert "<strong>bản một</strong>" in second
    after = views._lesson_html.cache_info()
    assert after.misses == before.misses + 1  # rendered once
    # The parts were made once; the second page was the kept page, filled in.
    assert views.parts_counts["misses"] == parts_before["misses"] + 1
    assert views.parts_counts["hits"] == parts_before["hits"]
    assert views.LESSON_PAGES.counts["hits"] == pages_before["hits"] + 1
    assert _without_tokens(first) == _without_tokens(second)
    _publish(actor, module, "Nội dung **bản hai**.\n")
    db_session.flush()
    html = client.get(url).get_data(as_text=True)
    assert "<strong>bản hai</strong>" in html
    assert "bản một" not in html


def test_the_cached_parts_keep_each_readers_progress_and_language(
    client, login, admin, learner, create_user, db_session
):
    _published(admin, "bo-nho-dem-hai-nguoi", "Nội dung **chung**.\n")
    db_session.flush()
    url = "/modules/bo-nho-dem-hai-nguoi/lessons/bai-1"
    login(learner)
    token = csrf_token(client, url)
    assert client.post(f"{url}/read", data={"csrf_token": token}).status_code == 302
    assert "Bạn đã đọc bài này" in client.get(url).get_data(as_text=True)
    other = client.application.test_client()
    login(create_user("nguoidockhac", full_name="Đỗ Thị Khác"), c=other)
    page = other.get(url).get_data(as_text=True)
    assert "Bạn đã đọc bài này" not in page
    assert "Đánh dấu đã đọc" in page
    assert "Bài 1/1" in page
    token = csrf_token(other, url)
    other.post("/lang", data={"csrf_token": token, "lang": "en"})
    english = other.get(url).get_data(as_text=True)
    assert "Lesson 1/1" in english
    assert "Bài 1/1" not in english
    assert "<strong>chung</strong>" in english


def test_a_lesson_page_reads_the_module_and_its_published_version_in_one_statement(
    client, login, admin, learner, db_session, app
):
    _published(admin, "mot-cau-lenh", "Nội dung.\n")
    db_session.flush()
    login(learner)
    url = "/modules/mot-cau-lenh/lessons/bai-1"
    assert client.get(url).status_code == 200  # the parts now cached
    with statements(app.extensions["learnhub.engine"]) as seen:
        page = client.get(url)
    assert page.status_code == 200
    versions = [s for s in seen if "FROM module_versions" in s or "JOIN module_versions" in s]
    assert len(versions) == 1, seen
    assert "FROM modules" in versions[0], versions
    # The mark-read form writes its CSRF field without a form object; the token is accepted.
    form = page.text.split('action="/modules/mot-cau-lenh/lessons/bai-1/read"', 1)[1]
    token = re.match(r'>\s*<input type="hidden" name="csrf_token" value="([^"]+)">', form)[1]
    marked = client.post("/modules/mot-cau-lenh/lessons/bai-1/read", data={"csrf_token": token})
    assert marked.status_code == 302
    assert "Bạn đã đọc bài này" in client.get(url).text
