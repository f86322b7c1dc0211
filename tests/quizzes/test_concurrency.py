"""Races against the real database (SQLite file or PostgreSQL), from separate connections:
two starts give one attempt; two submits give one result."""

import threading
import uuid

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt, AttemptState, Quiz
from learnhub.timeutil import utcnow

pytestmark = pytest.mark.no_rollback


def _run_together(app, work, n=2):
    """Run work(i) in n threads, each with its own app context and session, at the same moment."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[i] = work(i)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


@pytest.fixture
def committed_learner(app):
    with app.app_context():
        user = accounts.create_user(
            SYSTEM,
            full_name="Phạm Thị Race",
            login=f"race-{uuid.uuid4().hex[:8]}",
            password="race condition passphrase",
        )
        db.session.commit()
        yield user.id
        db.session.remove()


def _quiz_id(app) -> int:
    with app.app_context():
        quiz = services.ensure_quiz(catalog.by_slug("doi-ngoai-nhan-dan"))
        db.session.commit()
        return quiz.id


def _start(quiz_id, user_id):
    db.write_transaction()
    quiz = db.session.get(Quiz, quiz_id)
    user = db.session.get(accounts.User, user_id)
    attempt = services.start_attempt(quiz, user, utcnow())
    db.session.commit()
    return attempt.id


def test_two_simultaneous_starts_give_one_attempt(app, committed_learner):
    quiz_id = _quiz_id(app)
    results, errors = _run_together(app, lambda i: _start(quiz_id, committed_learner))
    assert errors == []
    assert results[0] == results[1]
    with app.app_context():
        attempts = (
            db.session.query(Attempt).filter_by(quiz_id=quiz_id, user_id=committed_learner).all()
        )
        assert len(attempts) == 1
        db.session.remove()


def test_two_simultaneous_submits_give_one_result(app, committed_learner):
    quiz_id = _quiz_id(app)
    with app.app_context():
        attempt_id = _start(quiz_id, committed_learner)
        attempt = db.session.get(Attempt, attempt_id)
        services.save_answer(attempt, 1, _any_answer(attempt.items[0]), utcnow())
        db.session.commit()
        db.session.remove()

    def submit(i):
        db.write_transaction()
        attempt = db.session.get(Attempt, attempt_id)
        done = services.submit_attempt(attempt, utcnow())
        db.session.commit()
        return (done.state, done.submitted_at, done.score)

    results, errors = _run_together(app, submit)
    assert errors == []
    assert results[0] == results[1]
    assert results[0][0] != AttemptState.in_progress
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.items[0].answer is not None
        db.session.remove()


def _any_answer(item):
    kind = item.snapshot["kind"]
    return {
        "single": {"choice": 0},
        "multi": {"choices": [0]},
        "truefalse": {"value": True},
        "short": {"text": "x"},
        "numerical": {"text": "1"},
        "essay": {"text": "x"},
        "matching": {"pairs": {"0": 0}},
    }[kind]


def _write_after_both_read(monkeypatch) -> None:
    """Each of two threads takes the write only when both have reached it: both have read
    (and drawn, or graded) what they write from before either writes."""
    both_read = threading.Barrier(2)
    real = db.write_transaction

    def after_both_read() -> None:
        both_read.wait(timeout=10)
        real()

    monkeypatch.setattr(services.db, "write_transaction", after_both_read)


def test_two_starts_that_both_read_before_either_writes_give_one_attempt(
    app, committed_learner, monkeypatch
):
    """A double tap where both starts count the learner's attempts and draw before either
    writes (a start reads outside the write): the second INSERT is refused by the one-in-
    progress index, and that start returns the first one's attempt."""
    quiz_id = _quiz_id(app)
    _write_after_both_read(monkeypatch)

    def start(_i):
        quiz = db.session.get(Quiz, quiz_id)
        user = db.session.get(accounts.User, committed_learner)
        attempt = services.start_attempt(quiz, user, utcnow())
        db.session.commit()
        return attempt.id

    results, errors = _run_together(app, start)
    monkeypatch.undo()
    assert errors == []
    assert results[0] == results[1]
    with app.app_context():
        attempts = (
            db.session.query(Attempt).filter_by(quiz_id=quiz_id, user_id=committed_learner).all()
        )
        assert [(a.id, a.number, a.state) for a in attempts] == [
            (results[0], 1, AttemptState.in_progress)
        ]
        db.session.remove()


def test_two_submits_that_both_grade_before_either_writes_give_one_result(
    app, committed_learner, monkeypatch
):
    """Both submits read and grade the answers before either writes (a submit grades outside
    the write): the finishing UPDATE lets one through, and the other returns its result."""
    quiz_id = _quiz_id(app)
    with app.app_context():
        attempt_id = _start(quiz_id, committed_learner)
        attempt = db.session.get(Attempt, attempt_id)
        for item in attempt.items:
            services.save_answer(attempt, item.position, _any_answer(item), utcnow())
        db.session.commit()
        db.session.remove()
    _write_after_both_read(monkeypatch)

    def submit(_i):
        done = services.submit_attempt(db.session.get(Attempt, attempt_id), utcnow())
        db.session.commit()
        return (done.state, done.submitted_at, done.score)

    results, errors = _run_together(app, submit)
    monkeypatch.undo()
    assert errors == []
    assert results[0] == results[1]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert (attempt.state, attempt.submitted_at, attempt.score) == results[0]
        assert (attempt.state, attempt.score) == services._result(
            [item.fraction for item in attempt.items]
        )
        db.session.remove()
