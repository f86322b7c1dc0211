"""Issue 18, build 1: a lean hot path. An answer save is the session row and ONE guarded UPDATE in
a write of its own; a save the UPDATE refuses is explained after, outside the lock; roles come
from the signed session, and a change of roles (a session version bump) takes effect at once."""

import re
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt, AttemptItem, AttemptState
from tests.support import answer_for, csrf_token, finish_attempt, statements

PASSWORD = "lean save passphrase"


def _kind(sql: str) -> str:
    if sql.startswith("SELECT") and "FROM users" in sql:
        return "session row"
    if sql.startswith("UPDATE quiz_attempt_items"):
        return "UPDATE"
    return sql


@pytest.mark.no_rollback
def test_the_save_path_issues_at_most_4_statements(app):
    """Which four, counted around a real POST through the test client (the learner has opened
    the attempt page, as the autosave script runs from it):

    - SQLite: the session row (users by primary key; its reads run without BEGIN), BEGIN
      IMMEDIATE, the guarded UPDATE, COMMIT: the write lock is held for the UPDATE alone;
    - PostgreSQL: the session row, the guarded UPDATE, COMMIT (psycopg opens the transaction
      with the first statement; that BEGIN is not a statement of ours, and makes the fourth).

    The roles come from the signed session, not from user_roles; nothing reads the attempt,
    the item or the quiz: the UPDATE's guard and RETURNING stand in for them.
    """
    login = f"lean-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        accounts.create_user(SYSTEM, full_name="Lê Văn Nhanh", login=login, password=PASSWORD)
        quiz = services.ensure_quiz(catalog.by_slug("doi-ngoai-nhan-dan"))
        quiz_id = quiz.id
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    token = csrf_token(client, "/login")
    assert client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    token = csrf_token(client, f"/quizzes/{quiz_id}")
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    assert client.get(f"/attempts/{attempt_id}").status_code == 200
    with app.app_context():
        item = db.session.scalar(
            sa.select(AttemptItem).where(
                AttemptItem.attempt_id == attempt_id, AttemptItem.position == 1
            )
        )
        answer = answer_for(item.snapshot)
        db.session.remove()

    engine = app.extensions["learnhub.engine"]
    sessions_begun = []

    def on_begin(session, transaction, connection):
        sessions_begun.append(connection)

    checked_out = engine.pool.checkedout()
    sa.event.listen(Session, "after_begin", on_begin)
    try:
        with statements(engine) as seen:
            response = client.post(
                f"/attempts/{attempt_id}/items/1", json=answer, headers={"X-CSRFToken": token}
            )
    finally:
        sa.event.remove(Session, "after_begin", on_begin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] is True
    # The answer save's door writes on a Core connection of its own (db.LeanWrite): no ORM
    # session transaction, and the connection is back in the pool.
    assert sessions_begun == []
    assert engine.pool.checkedout() == checked_out
    assert len(seen) <= 4, seen
    expected = ["session row", "UPDATE", "COMMIT"]
    if engine.dialect.name == "sqlite":
        expected = ["session row", "BEGIN IMMEDIATE", "UPDATE", "COMMIT"]
    assert [_kind(s) for s in seen] == expected, seen
    update = next(s for s in seen if s.startswith("UPDATE"))
    # The guard: this user's attempt, in progress, before its deadline, this position.
    for condition in ("user_id", "state", "deadline_at", "position"):
        assert condition in update, update
    with app.app_context():
        stored = db.session.get(AttemptItem, item.id)
        assert stored.answer is not None
        db.session.remove()
    finish_attempt(app, attempt_id)


def test_a_save_to_someone_elses_attempt_is_404_and_stores_nothing(
    client, login, create_user, learner, quiz, db_session
):
    other = create_user("nguoikhac", full_name="Trần Thị Khác")
    attempt = services.start_attempt(quiz, learner, services.utcnow())
    db_session.flush()
    login(other)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    response = client.post(
        f"/attempts/{attempt.id}/items/1", json={"value": True}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    response = client.post(f"/attempts/{attempt.id}/items/1", data={"csrf_token": token})
    assert response.status_code == 404
    db_session.expire_all()
    assert all(i.answer is None for i in db_session.get(Attempt, attempt.id).items)


def test_a_save_to_a_question_the_attempt_lacks_is_404(client, login, learner, quiz, db_session):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    response = client.post(
        f"/attempts/{attempt_id}/items/99", json={"value": True}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404


def test_a_short_answer_is_stored_trimmed_and_a_wrong_shape_stores_nothing(
    client, login, learner, quiz, db_session
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    url = f"/attempts/{attempt_id}/items/"
    headers = {"X-CSRFToken": token}
    saved = client.post(url + str(items["SA"].position), json={"text": "  VUFO "}, headers=headers)
    assert saved.status_code == 200
    wrong = client.post(url + str(items["MC"].position), json={"choice": 9}, headers=headers)
    assert wrong.status_code == 400
    kind = client.post(url + str(items["TF"].position), json={"text": "x"}, headers=headers)
    assert kind.status_code == 400
    db_session.expire_all()
    assert db_session.get(AttemptItem, items["SA"].id).answer == {"text": "VUFO"}
    assert db_session.get(AttemptItem, items["MC"].id).answer is None
    assert db_session.get(AttemptItem, items["TF"].id).answer is None


def test_a_save_within_the_grace_after_the_deadline_is_stored(
    client, login, learner, quiz, db_session
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline_at = services.utcnow() - services.timedelta(seconds=10)  # grace: 60 s
    db_session.flush()
    tf = next(i for i in attempt.items if i.snapshot["name"] == "TF")
    response = client.post(
        f"/attempts/{attempt_id}/items/{tf.position}",
        json={"value": True},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    db_session.expire_all()
    assert db_session.get(AttemptItem, tf.id).answer == {"value": True}
    assert db_session.get(Attempt, attempt_id).state == AttemptState.in_progress


def test_a_change_of_roles_takes_effect_on_the_next_request(
    client, login, learner, admin, db_session
):
    login(learner)
    assert client.get("/manage/modules/").status_code in (403, 404)
    version = learner.session_version
    accounts.set_roles(
        SYSTEM, learner, [accounts.Grant(Role.trainer), accounts.Grant(Role.learner)]
    )
    db_session.flush()
    assert learner.session_version > version
    # The session that remembered the old roles has ended …
    assert client.get("/").status_code == 302
    # … and the next sign-in carries the new ones.
    login(learner)
    assert client.get("/manage/modules/").status_code == 200


def test_the_attempt_page_translates_with_its_once_resolved_gettext(
    client, login, learner, quiz, db_session
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    url = started.location
    html = client.get(url).get_data(as_text=True)
    assert "Câu 1." in html
    assert ">Lưu</button>" in html
    client.post("/lang", data={"lang": "en", "csrf_token": token, "next": url})
    html = client.get(url).get_data(as_text=True)
    assert "Question 1." in html
    assert ">Save</button>" in html
    assert "Answered 0/6 questions." in html


@pytest.mark.no_rollback
def test_a_burst_of_saves_gets_no_503_and_loses_no_answer(app):
    """Build 2: learners saving at the same moment from their own connections all get 200 (on
    SQLite the lock is held for one UPDATE, and a writer that waits retries within the request);
    every acknowledged answer is stored."""
    learners, saves = 6, 15
    quiz_id = None
    with app.app_context():
        quiz_id = services.ensure_quiz(catalog.by_slug("doi-ngoai-nhan-dan")).id
        logins = [f"burst-{uuid.uuid4().hex[:8]}" for _ in range(learners)]
        for login in logins:
            accounts.create_user(SYSTEM, full_name="Võ Thị Đông", login=login, password=PASSWORD)
        db.session.commit()
        db.session.remove()
    clients = []
    for login in logins:
        client = app.test_client()
        token = csrf_token(client, "/login")
        client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
        token = csrf_token(client, f"/quizzes/{quiz_id}")
        started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
        clients.append((client, token, int(started.location.rsplit("/", 1)[1])))
    with app.app_context():
        kinds = {
            (i.attempt_id, i.position): i.snapshot
            for i in db.session.scalars(
                sa.select(AttemptItem).where(AttemptItem.attempt_id.in_([c[2] for c in clients]))
            )
        }
        db.session.remove()
    barrier = threading.Barrier(learners)
    statuses: list[int] = []
    acknowledged: dict[tuple[int, int], dict] = {}

    def run(client, token, attempt_id):
        barrier.wait(timeout=30)
        for position in range(1, saves + 1):
            answer = answer_for(kinds[(attempt_id, position)])
            response = client.post(
                f"/attempts/{attempt_id}/items/{position}",
                json=answer,
                headers={"X-CSRFToken": token},
            )
            statuses.append(response.status_code)
            if response.status_code == 200:
                acknowledged[(attempt_id, position)] = answer

    threads = [threading.Thread(target=run, args=c) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * (learners * saves)
    with app.app_context():
        stored = {
            (i.attempt_id, i.position): i.answer
            for i in db.session.scalars(
                sa.select(AttemptItem).where(
                    AttemptItem.attempt_id.in_(list({k[0] for k in acknowledged}))
                )
            )
        }
        assert all(stored[key] is not None for key in acknowledged)
        for _client, _token, attempt_id in clients:
            services.submit_attempt(db.session.get(Attempt, attempt_id), services.utcnow())
        db.session.commit()
        db.session.remove()


def test_the_question_fragments_are_cached_per_revision_and_stay_exact(
    client, login, learner, admin, quiz, db_session
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    url = started.location
    attempt_id = int(url.rsplit("/", 1)[1])
    first = client.get(url).get_data(as_text=True)
    again = client.get(url).get_data(as_text=True)  # every question from the cache
    strip = re.compile(r'value="[^"]*" name="csrf_token"|name="csrf_token" value="[^"]*"')
    assert strip.sub("", first) == strip.sub("", again)
    assert 'id="t4"' in first or 'id="t5"' in first  # positions put back into the fragments
    # An answered question is shown with its answer, not the unanswered fragment.
    items = {i.snapshot["name"]: i for i in db_session.get(Attempt, attempt_id).items}
    mc = items["MC"]
    client.post(
        f"/attempts/{attempt_id}/items/{mc.position}",
        json={"choice": 1},
        headers={"X-CSRFToken": token},
    )
    html = client.get(url).get_data(as_text=True)
    assert 'name="choice" value="1" checked' in html
    # Each cached form is put back with this attempt's save URL, its position and this session's
    # token; the answered one says it is saved.
    for item in items.values():
        assert f'action="/attempts/{attempt_id}/items/{item.position}"' in html
        assert f'id="q{item.position}" data-position="{item.position}"' in html
    questions = html.split('<div id="attempt"', 1)[1].split("</div>", 1)[0]
    page_token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    assert questions.count(f'name="csrf_token" value="{page_token}"') == len(items)
    answered = html.split(f'id="q{mc.position}"', 1)[1].split("</form>", 1)[0]
    assert "Đã lưu" in answered
    assert "\x00" not in html
    # The English page takes the English fragments.
    client.post("/lang", data={"lang": "en", "csrf_token": token, "next": url})
    assert "Select one or more answers." in client.get(url).get_data(as_text=True)
    client.post("/lang", data={"lang": "vi", "csrf_token": token, "next": url})
    # A new revision of a question: the next attempt shows the new text and choices.
    question = db_session.get(services.Question, items["MC"].question_id)
    services.update_question(
        services.Actor(admin),
        question,
        "::MC:: Cơ quan nào cấp Giấy đăng ký? {=Bộ Ngoại giao ~Sở Nội vụ ~Văn phòng UBND}",
    )
    db_session.flush()
    submit = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert submit.status_code == 302
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    html = client.get(started.location).get_data(as_text=True)
    assert "Văn phòng UBND" in html
    assert "UBND tỉnh" not in html
