"""Attempts: frozen questions, one in progress, answers saved as given, one graded result."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.quizzes import grading, services
from learnhub.quizzes.models import Attempt, AttemptState


def _answer_all_right(attempt, now):
    answers = {
        "TF": {"value": True},
        "MC": {"choice": 0},
        "MR": {"choices": [0, 1]},
        "SA": {"text": "vufo"},
        "NUM": {"text": "2011"},
        "ESSAY": {"text": "Bài viết."},
    }
    for item in attempt.items:
        services.save_answer(attempt, item.position, answers[item.snapshot["name"]], now)


def test_start_freezes_questions_and_resumes(quiz, learner, now, rng):
    attempt = services.start_attempt(quiz, learner, now, rng)
    assert [i.snapshot["name"] for i in attempt.items] == ["TF", "MC", "MR", "SA", "NUM", "ESSAY"]
    assert attempt.version_id == quiz.module.published_version_id
    # The bank changes later; the attempt keeps what the learner got.
    question = attempt.items[1].question
    services.update_question(Actor(None), question, "::MC:: Câu đã sửa {=X ~Y}")
    assert attempt.items[1].snapshot["text"] == "Cơ quan nào cấp Giấy đăng ký?"
    assert services.start_attempt(quiz, learner, now, rng).id == attempt.id


def test_all_right_gives_ten_after_essay_graded(quiz, learner, trainer, now, rng, db_session):
    attempt = services.start_attempt(quiz, learner, now, rng)
    _answer_all_right(attempt, now)
    services.submit_attempt(attempt, now)
    assert attempt.state == AttemptState.needs_grading
    assert attempt.score is None
    essay = attempt.items[-1]
    services.grade_essay(Actor(trainer), essay, Decimal("8"), "Khá tốt")
    assert attempt.state == AttemptState.graded
    assert attempt.score == grading.ten_point(Decimal("5.8"), Decimal(6))
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "attempt.grade", AuditEvent.object_id == str(attempt.id)
        )
    ).one()
    assert event.after["mark"] == "8"


def test_submit_twice_one_result(quiz, learner, now, rng):
    attempt = services.start_attempt(quiz, learner, now, rng)
    services.save_answer(attempt, 1, {"value": True}, now)
    first = services.submit_attempt(attempt, now)
    score = first.state
    again = services.submit_attempt(attempt, now + timedelta(minutes=1))
    assert again.id == first.id
    assert again.state == score
    assert again.submitted_at == now


def test_finished_attempt_never_changes(quiz, learner, now, rng):
    attempt = services.start_attempt(quiz, learner, now, rng)
    services.submit_attempt(attempt, now)
    with pytest.raises(services.AttemptFinished):
        services.save_answer(attempt, 1, {"value": False}, now)
    assert attempt.items[0].answer is None


def test_tampered_answer_stores_nothing(quiz, learner, now, rng):
    attempt = services.start_attempt(quiz, learner, now, rng)
    with pytest.raises(grading.InvalidAnswer):
        services.save_answer(attempt, 99, {"value": True}, now)  # not in the attempt
    with pytest.raises(grading.InvalidAnswer):
        services.save_answer(attempt, 2, {"choice": 7}, now)
    assert all(i.answer is None for i in attempt.items)


def test_time_limit_enforced_by_the_server(quiz, learner, now, rng):
    quiz.time_limit_minutes = 10
    attempt = services.start_attempt(quiz, learner, now, rng)
    assert attempt.deadline_at == now + timedelta(minutes=10)
    services.save_answer(
        attempt, 1, {"value": True}, now + timedelta(minutes=10, seconds=30)
    )  # grace
    with pytest.raises(services.DeadlinePassed):
        services.save_answer(attempt, 2, {"choice": 0}, now + timedelta(minutes=12))
    assert attempt.state != AttemptState.in_progress
    assert attempt.items[0].answer == {"value": True}
    assert attempt.items[1].answer is None


def test_overdue_attempt_submitted_with_what_was_saved(quiz, learner, now, rng):
    quiz.time_limit_minutes = 5
    attempt = services.start_attempt(quiz, learner, now, rng)
    services.save_answer(attempt, 1, {"value": True}, now)
    assert services.close_overdue(quiz, now + timedelta(minutes=7)) == 1
    assert attempt.is_finished
    assert attempt.items[0].fraction == 1


def test_override_gives_extra_time_and_attempt(quiz, learner, trainer, now, rng):
    quiz.time_limit_minutes = 10
    quiz.attempts_allowed = 1
    services.set_override(Actor(trainer), quiz, learner, 15, 1)
    first = services.start_attempt(quiz, learner, now, rng)
    assert first.deadline_at == now + timedelta(minutes=25)
    services.submit_attempt(first, now)
    second = services.start_attempt(quiz, learner, now, rng)
    services.submit_attempt(second, now)
    with pytest.raises(services.AttemptLimitReached):
        services.start_attempt(quiz, learner, now, rng)


def test_closed_quiz_refuses_start(quiz, learner, now, rng):
    quiz.close_at = now - timedelta(seconds=1)
    with pytest.raises(services.QuizClosed):
        services.start_attempt(quiz, learner, now, rng)


def test_per_category_draw(quiz, learner, now, rng):
    quiz.per_category = 1
    attempt = services.start_attempt(quiz, learner, now, rng)
    assert len(attempt.items) == 3
    assert len({i.snapshot["category"] for i in attempt.items}) == 3


def test_shuffled_choices_differ_between_attempts(quiz, learner, create_user, now):
    import random

    quiz.shuffle_choices = True
    quiz.shuffle_questions = True
    orders = set()
    for seed in range(8):
        user = create_user()
        attempt = services.start_attempt(quiz, user, now, random.Random(seed))
        orders.add(tuple(i.snapshot["name"] for i in attempt.items))
    assert len(orders) > 1


@pytest.mark.parametrize(
    ("method", "expected"),
    [("highest", "10.00"), ("last", "0.00"), ("first", "5.00"), ("average", "5.00")],
)
def test_grading_methods(quiz, method, expected):
    quiz.grading = method
    attempts = [
        Attempt(score=Decimal(s), state=AttemptState.graded, pass_mark=Decimal(5))
        for s in ("5", "10", "0")
    ]
    assert services.result_of(quiz, attempts) == Decimal(expected)


def test_regrade_dry_run_then_apply(quiz, learner, trainer, now, rng, db_session):
    quiz.module  # noqa: B018 (load)
    attempt = services.start_attempt(quiz, learner, now, rng)
    services.save_answer(attempt, 2, {"choice": 1}, now)  # "Bộ Nội vụ": wrong by the key
    grade = attempt.items[-1]
    services.submit_attempt(attempt, now)
    services.grade_essay(Actor(trainer), grade, Decimal(0), "")
    before = attempt.score
    mc = attempt.items[1].question
    services.update_question(
        Actor(trainer),
        mc,
        "::MC:: Cơ quan nào cấp Giấy đăng ký? {=Bộ Ngoại giao ~%100%Bộ Nội vụ ~UBND tỉnh}",
    )
    dry = services.regrade(Actor(trainer), quiz, dry_run=True)
    assert [(c.attempt.id, c.old, c.new) for c in dry] == [
        (attempt.id, before, before + Decimal("1.67"))
    ]
    assert attempt.score == before
    services.regrade(Actor(trainer), quiz, dry_run=False)
    assert attempt.score == before + Decimal("1.67")
    # The regraded item took the question's new revision, its column with its snapshot (the
    # attempt page keys its cached forms by the column).
    regraded = attempt.items[1]
    assert regraded.snapshot["revision"] == regraded.revision == 2
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "attempt.regrade")
        )
        == 1
    )


def test_gift_import_with_errors_imports_nothing(quiz_module, db_session):
    from learnhub.quizzes.models import Question

    before = db_session.scalar(select(func.count()).select_from(Question))
    with pytest.raises(services.GiftImportFailed) as info:
        services.import_gift(
            Actor(None), quiz_module, "::A:: ok {T}\n\n::B:: broken {=a ~b\n\n::C:: c {T}"
        )
    assert [e.line for e in info.value.errors] == [3]
    assert db_session.scalar(select(func.count()).select_from(Question)) == before


def test_reimport_does_not_duplicate(quiz_module):
    from tests.quizzes.conftest import BANK

    report = services.import_gift(Actor(None), quiz_module, BANK)
    assert (report.added, report.unchanged) == (0, 6)


def test_export_reads_back(quiz_module):
    from learnhub.formats import gift

    text = services.export_gift(quiz_module)
    questions, errors = gift.parse(text)
    assert errors == []
    assert [q.name for q in questions] == ["TF", "MC", "MR", "SA", "NUM", "ESSAY"]


@pytest.mark.parametrize("name", ["examples.txt", "questions.gift.txt"])
def test_moodle_files_import_and_round_trip_through_the_bank(quiz_module, name):
    from learnhub.formats import gift
    from tests.support import shared_testdata

    text = shared_testdata("moodle-gift", name).read_text(encoding="utf-8")
    parsed, errors = gift.parse(text)
    assert errors == []
    report = services.import_gift(Actor(None), quiz_module, text)
    unique = {services.question_hash(q) for q in parsed if q.kind != "description"}
    assert report.added + report.unchanged >= len(unique)
    exported = services.export_gift(quiz_module)
    again, errors = gift.parse(exported)
    assert errors == []
    exported_ids = {q.identity() for q in again}
    for q in parsed:
        assert q.identity() in exported_ids
