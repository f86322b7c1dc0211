"""Issue 18: the attempt page is kept whole per quiz, title, attempt number and whether the attempt
has a deadline (quizzes.views.ATTEMPT_PAGES), so every learner of one exam shares one render;
each still gets their own attempt: its id, submit URL, deadline, progress, answers and token."""

import re

from flask import template_rendered

from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt
from learnhub.quizzes.views import ATTEMPT_PAGES
from learnhub.timeutil import format_datetime
from tests.support import answer_for, csrf_token

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fresh(db_session, attempt_id: int) -> Attempt:
    attempt = db_session.get(Attempt, attempt_id)
    db_session.refresh(attempt)
    return attempt


def _start(app, login, user, quiz):
    client = app.test_client()
    login(user, c=client)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    url = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token}).location
    return client, url, int(url.rsplit("/", 1)[1])


def test_two_learners_share_one_kept_page_and_each_sees_their_own_attempt(
    app, login, create_user, quiz, db_session
):
    quiz.time_limit_minutes = 45
    db_session.flush()
    one, two = create_user("thi-mot", full_name="Lê Thị Một"), create_user("thi-hai")
    c1, url1, id1 = _start(app, login, one, quiz)
    c2, url2, id2 = _start(app, login, two, quiz)
    token1 = TOKEN.search(c1.get(url1).text)[1]  # the first page: rendered and kept
    answer = answer_for(services.snapshots(id1, [1])[1])
    saved = c1.post(f"/attempts/{id1}/items/1", json=answer, headers={"X-CSRFToken": token1})
    assert saved.get_json()["saved"] is True
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    hits = ATTEMPT_PAGES.counts["hits"]
    template_rendered.connect(record, app)
    try:
        page1, page2 = c1.get(url1).text, c2.get(url2).text
    finally:
        template_rendered.disconnect(record, app)
    assert ATTEMPT_PAGES.counts["hits"] == hits + 2
    assert "quizzes/attempt.html" not in rendered
    count = len(services.page_items(id1))
    for page, own, other, answered in ((page1, id1, id2, 1), (page2, id2, id1, 0)):
        assert f'data-attempt="{own}"' in page
        assert f'action="/attempts/{own}/submit"' in page
        assert f"/attempts/{other}/" not in page
        assert f"Đã trả lời {answered}/{count} câu." in page
    assert page1.count("checked") == page2.count("checked") + 1
    for page, attempt_id in ((page1, id1), (page2, id2)):
        deadline = db_session.get(Attempt, attempt_id).deadline_at
        assert f"Hết giờ lúc {format_datetime(deadline)}." in page
    assert "Lê Thị Một" in page1
    assert "Lê Thị Một" not in page2
    # Each learner's submit form carries their own token, and it submits their own attempt.
    token2 = TOKEN.search(page2)[1]
    assert token2 != TOKEN.search(page1)[1]
    submitted = c2.post(f"/attempts/{id2}/submit", data={"csrf_token": token2, "sure": "y"})
    assert submitted.status_code == 302
    assert _fresh(db_session, id2).is_finished
    assert not _fresh(db_session, id1).is_finished


def test_an_attempt_without_a_deadline_has_a_page_of_its_own(
    app, login, create_user, quiz, db_session
):
    quiz.time_limit_minutes = 30
    db_session.flush()
    timed, url = _start(app, login, create_user("co-han"), quiz)[:2]
    assert "Hết giờ lúc" in timed.get(url).text  # kept for this quiz, title and number
    quiz.time_limit_minutes = 0  # no limit
    db_session.flush()
    client, url, _attempt_id = _start(app, login, create_user("khong-han"), quiz)
    page = client.get(url).text
    assert "Hết giờ lúc" not in page
    assert "\x00" not in page


def test_the_words_quiz_js_writes_come_from_the_page_in_its_language(app, login, learner, quiz):
    script = (app.static_folder + "/js/quiz.js").replace("//", "/")
    with open(script, encoding="utf-8") as handle:
        assert not re.search(r"[À-ỹ]", handle.read())  # no Vietnamese of its own
    client, url, _attempt_id = _start(app, login, learner, quiz)
    vietnamese = client.get(url).text
    assert 'data-saving="Đang lưu…"' in vietnamese
    assert 'data-saved="Đã lưu lúc {t}"' in vietnamese
    token = TOKEN.search(vietnamese)[1]
    client.post("/lang", data={"csrf_token": token, "lang": "en", "next": url})
    english = client.get(url).text
    assert 'data-saving="Saving…"' in english
    assert 'data-saved="Saved at {t}"' in english
    assert 'data-offline="Not saved: the connection is lost.' in english
    assert 'data-js="Answers are saved as soon as you choose them."' in english
