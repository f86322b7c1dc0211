"""Issue 14, finding 4: a quiz closing before it opens was accepted."""

from datetime import timedelta

from learnhub import db
from learnhub.catalog.services import by_slug
from learnhub.quizzes import services
from tests.support import csrf_token


def _settings(open_on: str, close_on: str) -> dict:
    return {
        "title": "Bài kiểm tra cuối khóa",
        "open_on": open_on,
        "close_on": close_on,
        "time_limit_minutes": "30",
        "attempts_allowed": "2",
        "grading": "highest",
        "pass_mark": "5",
        "per_category": "0",
        "review_after_submit": "score",
        "review_after_close": "full",
    }


def test_finding4_quiz_closing_before_it_opens_refused(client, login, trainer):
    quiz = services.ensure_quiz(by_slug("doi-ngoai-nhan-dan"))
    login(trainer)
    url = f"/manage/quizzes/{quiz.id}/settings"
    data = _settings("10/12/2026", "09/12/2026")
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    assert "Ngày đóng bài kiểm tra không được trước ngày mở." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (quiz.open_at, quiz.close_at) == (None, None)
    data = _settings("10/12/2026", "10/12/2026")  # open for one day
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.expire_all()
    assert quiz.close_at - quiz.open_at == timedelta(days=1)
