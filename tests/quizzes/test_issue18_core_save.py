"""Issue 18, build 1 continued: the answer save's own work. Its UPDATE is a Core statement (no
ORM bulk-update machinery, nothing mapped loaded besides the signed-in user), it signs no new
CSRF token (the page's token lives as long as the session), and a JSON body is not parsed as a
form at the door; NUL in a JSON answer is still refused or removed, never stored."""

from datetime import timedelta

import sqlalchemy as sa

from learnhub import db
from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt
from tests.support import csrf_token


def test_a_save_runs_no_orm_statement_but_the_signed_in_users_row(client, started, db_session):
    attempt_id, token = started
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    url = f"/attempts/{attempt_id}/items/{items['TF'].position}"
    db_session.expire_all()  # the request loads its user again, as a real one does
    seen: list[str] = []

    def on_orm_execute(state):
        if state.is_orm_statement:  # a statement on mapped classes (Core ones are not)
            seen.append(f"{str(state.statement).split()[0]} {state.bind_mapper}")

    sa.event.listen(db.session, "do_orm_execute", on_orm_execute)
    try:
        response = client.post(url, json={"value": True}, headers={"X-CSRFToken": token})
    finally:
        sa.event.remove(db.session, "do_orm_execute", on_orm_execute)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] is True
    # At most the user's row (by primary key; none when the test's session already holds it).
    assert all(s.startswith("SELECT") and "User" in s for s in seen), seen
    assert len(seen) <= 1, seen
    db_session.expire_all()
    stored = {i.snapshot["name"]: i.answer for i in db_session.get(Attempt, attempt_id).items}
    assert stored["TF"] is not None


def test_a_save_signs_no_new_token_and_the_pages_token_keeps_working(client, started, db_session):
    attempt_id, token = started
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    url = f"/attempts/{attempt_id}/items/{items['MC'].position}"
    for choice in (0, 1, 2, 1, 0):  # the whole quiz on the page's token
        saved = client.post(url, json={"choice": choice}, headers={"X-CSRFToken": token})
        assert saved.status_code == 200
        assert saved.get_json() == {
            "saved": True,
            "position": items["MC"].position,
            "at": saved.get_json()["at"],
        }
    refused = client.post(url, json={"choice": 1}, headers={"X-CSRFToken": token + "x"})
    assert refused.status_code == 400
    db_session.expire_all()
    assert db_session.get(type(items["MC"]), items["MC"].id).answer == {"choice": 0}


def test_nul_in_a_json_answer_is_never_stored(client, started, db_session):
    attempt_id, token = started
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    response = client.post(
        f"/attempts/{attempt_id}/items/{items['SA'].position}",
        json={"text": "VU\x00FO"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    db_session.expire_all()
    answer = db_session.get(type(items["SA"]), items["SA"].id).answer
    assert answer is None or "\x00" not in answer["text"]


def test_nul_in_a_form_body_or_the_query_is_still_refused_at_the_door(client, started, db_session):
    attempt_id, token = started
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    url = f"/attempts/{attempt_id}/items/{items['SA'].position}"
    form = client.post(url, data={"csrf_token": token, "text": "VU\x00FO"})
    assert form.status_code == 400
    query = client.post(url + "?x=a%00b", json={"text": "VUFO"}, headers={"X-CSRFToken": token})
    assert query.status_code == 400
    db_session.expire_all()
    assert db_session.get(type(items["SA"]), items["SA"].id).answer is None


def test_a_timed_attempts_page_in_time_does_not_read_the_quiz(
    client, login, learner, quiz, db_session
):
    """An exam is timed: every page view asks whether the attempt is overdue. Before its
    deadline the answer is no whatever the grace, so the quiz's row (where the grace is) is not
    read; after the deadline and its grace the attempt is submitted, as before."""
    quiz.time_limit_minutes = 30
    db_session.flush()
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    db_session.expire_all()  # the request loads its rows again, as a real one does
    seen: list[str] = []

    def on_orm_execute(state):
        if state.is_orm_statement:
            seen.append(str(state.bind_mapper))

    sa.event.listen(db.session, "do_orm_execute", on_orm_execute)
    try:
        page = client.get(f"/attempts/{attempt_id}")
    finally:
        sa.event.remove(db.session, "do_orm_execute", on_orm_execute)
    assert page.status_code == 200
    assert not any("Quiz" in mapper for mapper in seen), seen
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline_at = services.utcnow() - timedelta(seconds=quiz.grace_seconds + 1)
    db_session.flush()
    overdue = client.get(f"/attempts/{attempt_id}")
    assert overdue.status_code == 302
    assert overdue.location.endswith("/review")
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).is_finished
