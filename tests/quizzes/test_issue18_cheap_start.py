"""Issue 18: the synchronised start of an exam is cheap. Starting an attempt reads the questions
as plain rows and writes the frozen items in one multi-row INSERT, with no ORM object per item;
the session a sign-in creates already holds the roles, so the first page after it does not read
the grants."""

import random

import pytest
import sqlalchemy as sa

from learnhub import db
from learnhub.accounts.models import RoleGrant
from learnhub.quizzes import services
from learnhub.quizzes import views as quizzes_views
from learnhub.quizzes.models import Attempt, AttemptItem, Question
from tests.support import answer_for, csrf_token, finish_attempt, signed_in_learner, statements


def test_a_start_freezes_every_question_in_one_insert_without_an_object_per_item(
    quiz, learner, now, db_session, app
):
    quiz.shuffle_questions = quiz.shuffle_choices = True
    db_session.flush()
    made: list[AttemptItem] = []

    def on_init(target, args, kwargs):
        made.append(target)

    sa.event.listen(AttemptItem, "init", on_init)
    try:
        with statements(app.extensions["learnhub.engine"]) as seen:
            attempt = services.start_attempt(quiz, learner, now, random.Random(7))
            db_session.flush()
    finally:
        sa.event.remove(AttemptItem, "init", on_init)
    assert made == []
    inserts = [s for s in seen if s.startswith("INSERT INTO quiz_attempt_items")]
    assert len(inserts) == 1, inserts
    # What was frozen is what the bank holds, in the drawn order, with the choices' order.
    bank = {
        q.id: q
        for q in db_session.scalars(sa.select(Question).where(Question.module_id == quiz.module_id))
    }
    items = sorted(attempt.items, key=lambda i: i.position)
    assert [i.position for i in items] == list(range(1, len(bank) + 1))
    assert {i.question_id for i in items} == set(bank)
    for item in items:
        question = bank[item.question_id]
        assert item.snapshot == {**question.data, "ignore_accents": question.ignore_accents}
        if item.kind in ("single", "multi"):
            assert sorted(item.order) == list(range(len(question.data["answers"])))
        assert item.answer is None
        assert item.fraction is None
        assert item.comment == ""
    # The same seed draws the same attempt as before the change (order of questions and choices).
    again = services._new_attempt(quiz, learner, now, random.Random(7))[2]
    assert [(r["question_id"], r["order"]) for r in again] == [
        (i.question_id, i.order) for i in items
    ]


def test_a_started_attempt_holds_what_was_written_without_reading_it_again(
    quiz, learner, now, db_session, app
):
    """The attempt a start returns was written by a Core INSERT: every column it wrote is
    already on the object (no SELECT to read its score, state or deadline back), and it is
    the session's own object for that row."""
    attempt = services.start_attempt(quiz, learner, now, random.Random(3))
    with statements(app.extensions["learnhub.engine"]) as seen:
        assert attempt.score is None
        assert attempt.submitted_at is None
        assert attempt.passed is None
        assert attempt.state == "in_progress"
        assert attempt.number == 1
        assert attempt.started_at == now
        assert not attempt.is_finished
    assert seen == []
    assert db_session.get(Attempt, attempt.id) is attempt
    assert len(attempt.items) == len(services.page_items(attempt.id))


def test_the_first_page_after_sign_in_does_not_read_the_grants(client, login, learner, app):
    login(learner)
    with client.session_transaction() as session:
        assert session["roles"] == {"for": learner.get_id(), "names": ["learner"]}
    with statements(app.extensions["learnhub.engine"]) as seen:
        response = client.get("/dashboard")
    assert response.status_code == 200
    assert not [s for s in seen if RoleGrant.__tablename__ in s], seen
    with client.session_transaction() as session:
        assert session["roles"] == {"for": learner.get_id(), "names": ["learner"]}


def test_the_attempt_page_reads_the_snapshots_only_for_forms_not_yet_cached(
    client, login, learner, quiz, app
):
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    url = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token}).location
    quizzes_views._FRAGMENTS.clear()
    engine = app.extensions["learnhub.engine"]
    with statements(engine) as cold:
        first = client.get(url)
    with statements(engine) as warm:
        second = client.get(url)
    assert first.status_code == second.status_code == 200

    def reads_snapshots(seen):
        return [
            s
            for s in seen
            if s.startswith("SELECT quiz_attempt_items.position, quiz_attempt_items.snapshot")
        ]

    assert len(reads_snapshots(cold)) == 1
    assert reads_snapshots(warm) == []
    # No item is loaded as an object either: one SELECT of the page's columns.
    assert not [s for s in warm if "quiz_attempt_items.comment" in s], warm


def test_the_attempt_page_survives_the_fragment_cache_filling_up(
    client, login, learner, quiz, app, monkeypatch
):
    """A page with some forms cached and one not: when storing that one fills the cache (it is
    cleared), the page still shows every question, from this render's own lookups."""
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    url = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token}).location
    attempt_id = int(url.rsplit("/", 1)[1])
    quizzes_views._FRAGMENTS.clear()
    assert client.get(url).status_code == 200  # every form cached
    answer = answer_for(services.snapshots(attempt_id, [1])[1])
    saved = client.post(
        f"/attempts/{attempt_id}/items/1", json=answer, headers={"X-CSRFToken": token}
    )
    assert saved.get_json()["saved"] is True  # one form now has a key not yet cached
    monkeypatch.setattr(quizzes_views, "_FRAGMENTS_MAX", len(quizzes_views._FRAGMENTS))
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    count = len(services.page_items(attempt_id))
    for position in range(1, count + 1):
        assert f'id="q{position}" data-position="{position}"' in html


@pytest.mark.no_rollback
def test_a_start_through_the_page_reads_nothing_after_its_commit(app):
    """The view takes the new attempt's id before committing: nothing reloads the attempt after
    the COMMIT (a round trip per start at the synchronised moment of an exam)."""
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Khóa")
    with statements(app.extensions["learnhub.engine"]) as seen:
        started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    assert started.status_code == 302
    attempt_id = int(started.location.rsplit("/", 1)[1])
    assert any(s.startswith("INSERT INTO quiz_attempt_items") for s in seen), seen
    assert seen[-1] == "COMMIT", seen
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.user.full_name == "Đỗ Văn Khóa"
        assert len(attempt.items) > 0
        db.session.remove()
    finish_attempt(app, attempt_id)


@pytest.mark.no_rollback
def test_a_start_holds_the_write_lock_for_its_two_inserts_only(app):
    """Between BEGIN IMMEDIATE and COMMIT a start (SQLite) sends the attempt's INSERT and its
    items' INSERT, nothing else: the learner's attempts were counted before, and the unique
    indexes refuse an INSERT that a concurrent start made stale. No savepoint: a refused
    INSERT undoes itself alone on SQLite (PostgreSQL keeps the savepoint, since there an error
    ends the whole transaction)."""
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Khóa")
    with statements(app.extensions["learnhub.engine"]) as seen:
        started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    assert started.status_code == 302
    if app.extensions["learnhub.engine"].dialect.name != "sqlite":
        assert any(s.startswith("SAVEPOINT") for s in seen), seen
        return
    locked = seen[seen.index("BEGIN IMMEDIATE") + 1 :]
    assert [s.split(" (")[0].split(" FROM")[0][:30] for s in locked] == [
        "INSERT INTO quiz_attempts",
        "INSERT INTO quiz_attempt_items",
        "COMMIT",
    ], locked


def _stale_once(monkeypatch, name: str, value) -> None:
    """services.<name> answers *value* the first time (as if read just before a concurrent
    request wrote), then reads the database again."""
    real = getattr(services, name)
    calls = []

    def stale(*args):
        calls.append(args)
        return value if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, name, stale)


def test_a_start_made_stale_by_a_finished_attempt_reads_again_and_takes_the_next_number(
    quiz, learner, now, db_session, monkeypatch
):
    """Between the count and the write, another request started and finished attempt 1: the
    INSERT as number 1 is refused by the unique index, and the start counts again under the
    write and becomes attempt 2 (not a refusal: one more attempt is allowed)."""
    quiz.attempts_allowed = 3
    first = services.start_attempt(quiz, learner, now, random.Random(1))
    services.submit_attempt(first, now)
    db_session.flush()
    _stale_once(monkeypatch, "_count", (0, None))
    second = services.start_attempt(quiz, learner, now, random.Random(2))
    db_session.flush()
    assert (second.number, second.state) == (2, "in_progress")
    numbers = db_session.scalars(
        sa.select(Attempt.number).where(Attempt.quiz_id == quiz.id, Attempt.user_id == learner.id)
    ).all()
    assert sorted(numbers) == [1, 2]
    assert len(second.items) == len(first.items)


def test_a_start_that_raced_another_start_returns_the_attempt_in_progress(
    quiz, learner, now, db_session, monkeypatch
):
    """Two starts at once (a double tap): the second read no attempt in progress, but the
    first one wrote it before the second's write. The one-in-progress index refuses the second
    INSERT, and the start returns the attempt in progress: still one attempt."""
    first = services.start_attempt(quiz, learner, now, random.Random(1))
    db_session.flush()
    _stale_once(monkeypatch, "_open_attempt_of", None)
    _stale_once(monkeypatch, "_count", (0, None))
    again = services.start_attempt(quiz, learner, now, random.Random(2))
    assert again is first
    count = db_session.scalar(
        sa.select(sa.func.count())
        .select_from(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.user_id == learner.id)
    )
    assert count == 1
