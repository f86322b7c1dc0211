"""Issue 18: a published lesson's page is kept whole (catalog.views.LESSON_PAGES): a warm page
reads one row besides the user's and renders no template, and every reader still gets their own
page: their roles' links, their name, their token, whether they have read the lesson, their
messages."""

import re

from flask import template_rendered

from learnhub.accounts.models import Role
from learnhub.catalog import views
from tests.catalog.test_issue18_lesson_cache import _published
from tests.support import statements

URL = "/modules/{}/lessons/bai-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _rendered(app):
    """The templates rendered while it is open."""
    seen: list[str] = []

    def record(sender, template, context, **extra):
        seen.append(template.name)

    template_rendered.connect(record, app)
    return seen, lambda: template_rendered.disconnect(record, app)


def test_a_warm_lesson_page_reads_one_row_and_renders_nothing(
    client, login, admin, learner, db_session, app
):
    _published(admin, "giu-ca-trang", "Nội dung **giữ nguyên**.\n")
    db_session.flush()
    login(learner)
    url = URL.format("giu-ca-trang")
    cold = client.get(url)
    assert cold.status_code == 200
    hits = views.LESSON_PAGES.counts["hits"]
    seen, stop = _rendered(app)
    try:
        with statements(app.extensions["learnhub.engine"]) as sql:
            warm = client.get(url)
    finally:
        stop()
    assert warm.status_code == 200
    assert views.LESSON_PAGES.counts["hits"] == hits + 1
    assert seen == []
    reads = [s for s in sql if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(reads) == 2, reads
    assert "FROM users" in reads[0]
    assert "module_versions" in reads[1]
    assert "lesson_progress" in reads[1]
    assert "<strong>giữ nguyên</strong>" in warm.text
    assert TOKEN.sub("", warm.text) == TOKEN.sub("", cold.text)


def test_every_reader_of_a_kept_lesson_page_gets_their_own_page(
    app, login, admin, create_user, db_session
):
    _published(admin, "giu-cho-moi-nguoi", "Nội dung chung.\n")
    db_session.flush()
    url = URL.format("giu-cho-moi-nguoi")
    readers = [
        create_user("qt2", roles=(Role.admin,), full_name="Phạm Quản Trị"),
        create_user("hv-a", full_name="Mai <Học> & Viên"),
        create_user("hv-b", full_name="Trần Thị Bê"),
    ]
    clients = []
    for user in readers:
        client = app.test_client()
        login(user, c=client)
        clients.append(client)
    hits = views.LESSON_PAGES.counts["hits"]
    pages = [client.get(url).text for client in clients]
    # The admin's page and the first learner's were made; the second learner's was kept.
    assert views.LESSON_PAGES.counts["hits"] == hits + 1
    admin_page, a_page, b_page = pages
    assert "/admin/users" in admin_page
    assert "/admin/users" not in a_page
    assert "/admin/users" not in b_page
    assert "Mai &lt;Học&gt; &amp; Viên" in a_page
    assert "Trần Thị Bê" not in a_page
    assert "Trần Thị Bê" in b_page
    assert "Mai &lt;Học&gt;" not in b_page
    assert "Phạm Quản Trị" not in a_page + b_page
    a_token = set(TOKEN.findall(a_page))
    b_token = set(TOKEN.findall(b_page))
    assert len(a_token) == len(b_token) == 1
    assert a_token != b_token
    # Each reader's token is accepted for them: the first learner marks the lesson read.
    assert clients[1].post(f"{url}/read", data={"csrf_token": a_token.pop()}).status_code == 302
    assert "Bạn đã đọc bài này" in clients[1].get(url).text
    after = clients[2].get(url).text
    assert "Bạn đã đọc bài này" not in after
    assert "Đánh dấu đã đọc" in after
    assert "Trần Thị Bê" in after


def test_a_message_shows_once_on_a_kept_lesson_page(client, login, admin, learner, db_session):
    _published(admin, "giu-thong-bao", "Nội dung.\n")
    db_session.flush()
    login(learner)
    url = URL.format("giu-thong-bao")
    assert client.get(url).status_code == 200  # kept
    with client.session_transaction() as signed:
        signed["_flashes"] = [("info", "Lời nhắn chỉ một lần")]
    assert "Lời nhắn chỉ một lần" in client.get(url).text
    again = client.get(url).text
    assert "Lời nhắn chỉ một lần" not in again
    assert "Đánh dấu đã đọc" in again
