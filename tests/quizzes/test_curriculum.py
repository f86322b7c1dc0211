"""Every shipped module's quiz can be taken end to end: all answers right gives 10/10."""

import random
from decimal import Decimal

import pytest

from learnhub.catalog import services as catalog
from learnhub.quizzes import grading, services
from learnhub.quizzes.models import AttemptState
from learnhub.timeutil import utcnow

SLUGS = [
    "doi-ngoai-nhan-dan",
    "ky-nang-doi-ngoai",
    "quan-ly-to-chuc-pcpnn",
    "vien-tro-khong-hoan-lai",
]


def right_answer(item) -> dict:
    return grading.model_answer(item.snapshot, item.order)


@pytest.mark.parametrize("slug", SLUGS)
def test_curriculum_quiz_end_to_end(slug, learner):
    module = catalog.by_slug(slug)
    quiz = services.ensure_quiz(module)
    assert len(services.active_questions(module)) >= 25
    now = utcnow()
    attempt = services.start_attempt(quiz, learner, now, random.Random(3))
    for item in attempt.items:
        services.save_answer(attempt, item.position, right_answer(item), now)
    services.submit_attempt(attempt, now)
    assert attempt.state == AttemptState.graded
    assert attempt.score == Decimal("10.00")
    assert attempt.passed
