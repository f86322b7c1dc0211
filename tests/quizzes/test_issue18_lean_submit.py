"""Issue 18: a submit holds the write (SQLite's lock, where every other writer waits; at the end
of an exam a whole class submits within seconds) for its writes only. The answers are read as
plain rows and graded before it; under it, the finishing UPDATE, one read of the answers (not
of the questions), the grades in one executemany and the result. An answer saved between the
grading and the write is graded as it was stored."""

import random

import pytest
import sqlalchemy as sa

from learnhub import db
from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt, AttemptItem, AttemptState
from tests.quizzes.test_issue18_build2_write_lock import _locked_part
from tests.support import answer_for, signed_in_learner, statements


def _single_choices(item: AttemptItem) -> tuple[dict, dict]:
    """A right and a wrong answer to a single-choice item, as the learner sends them."""
    by_fraction = {
        services._fraction(item.snapshot, item.order, {"choice": i}): {"choice": i}
        for i in range(len(item.snapshot["answers"]))
    }
    return by_fraction[max(by_fraction)], by_fraction[min(by_fraction)]


def test_an_answer_saved_after_the_grading_read_is_graded_as_stored(
    quiz, learner, now, db_session, monkeypatch
):
    attempt = services.start_attempt(quiz, learner, now, random.Random(5))
    db_session.flush()
    items = sorted(attempt.items, key=lambda i: i.position)
    for item in items:
        services.store_answer(attempt.id, learner.id, item.position, answer_for(item.snapshot), now)
    late = next(i for i in items if i.kind == "single")
    right, wrong = _single_choices(late)
    services.store_answer(attempt.id, learner.id, late.position, wrong, now)
    db_session.expire_all()

    real = db.write_transaction

    def a_save_lands_first() -> None:
        # The learner's last autosave, landing after the submit read and graded the answers.
        db_session.execute(
            sa.update(AttemptItem).where(AttemptItem.id == late.id).values(answer=right)
        )
        real()

    monkeypatch.setattr(services.db, "write_transaction", a_save_lands_first)
    submitted = services.submit_attempt(db_session.get(Attempt, attempt.id), now)
    monkeypatch.undo()
    db_session.flush()
    db_session.expire_all()

    stored = db_session.get(AttemptItem, late.id)
    assert stored.answer == right
    assert stored.fraction == services._fraction(stored.snapshot, stored.order, right)
    assert stored.fraction != services._fraction(stored.snapshot, stored.order, wrong)
    fractions = [
        i.fraction
        for i in db_session.scalars(sa.select(AttemptItem).filter_by(attempt_id=attempt.id))
    ]
    state, score = services._result(fractions)
    again = db_session.get(Attempt, attempt.id)
    assert (again.state, again.score) == (state, score)
    assert (submitted.state, submitted.score) == (state, score)


def test_a_submit_returns_the_result_it_wrote_and_its_items_as_stored(
    quiz, learner, now, db_session
):
    """The attempt a submit returns holds the result it wrote (no stale state), and items the
    caller had loaded before are read again on their next use, with their grades."""
    attempt = services.start_attempt(quiz, learner, now, random.Random(6))
    db_session.flush()
    for item in attempt.items:  # loaded before the submit
        services.store_answer(attempt.id, learner.id, item.position, answer_for(item.snapshot), now)
    submitted = services.submit_attempt(attempt, now)
    assert submitted.state in (AttemptState.graded, AttemptState.needs_grading)
    assert submitted.submitted_at == now
    stored = db_session.execute(
        sa.select(AttemptItem.id, AttemptItem.fraction).where(AttemptItem.attempt_id == attempt.id)
    ).all()
    assert {i.id: i.fraction for i in submitted.items} == dict(stored)
    assert (submitted.state, submitted.score) == services._result([f for _, f in stored])
    assert services.submit_attempt(submitted, now) is submitted  # a second submit: same result
    assert submitted.state in (AttemptState.graded, AttemptState.needs_grading)


@pytest.mark.no_rollback
def test_a_submit_reads_no_question_and_loads_no_item_under_the_write(app):
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Nộp")
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    with app.app_context():
        positions = len(services.page_items(attempt_id))
        snapshots = services.snapshots(attempt_id, list(range(1, positions + 1)))
        db.session.remove()
    for position, snapshot in snapshots.items():
        client.post(
            f"/attempts/{attempt_id}/items/{position}",
            json=answer_for(snapshot),
            headers={"X-CSRFToken": token},
        )
    engine = app.extensions["learnhub.engine"]
    with statements(engine) as seen:
        submitted = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 302
    # SQLite: from BEGIN IMMEDIATE to COMMIT; PostgreSQL (row locks): from the finishing UPDATE.
    if "BEGIN IMMEDIATE" in seen:
        locked = _locked_part(seen)
    else:
        locked = seen[next(i for i, s in enumerate(seen) if s.startswith("UPDATE quiz_attempts")) :]
    item_statements = [s for s in locked if "quiz_attempt_items" in s]
    # One read of the answers (id and answer only) and one UPDATE of the grades.
    assert [s.split(" FROM")[0].split(" SET")[0] for s in item_statements] == [
        "SELECT quiz_attempt_items.id, quiz_attempt_items.answer",
        "UPDATE quiz_attempt_items",
    ], locked
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state in (AttemptState.graded, AttemptState.needs_grading)
        graded = [i.fraction for i in attempt.items]
        assert (attempt.state, attempt.score) == services._result(graded)
        db.session.remove()
