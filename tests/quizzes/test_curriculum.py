"""Every shipped module's quiz can be taken end to end: all answers right gives 10/10."""

import random
from decimal import Decimal

import pytest

from learnhub.catalog import services as catalog
from learnhub.quizzes import services
from learnhub.quizzes.models import AttemptState
from learnhub.timeutil import utcnow

SLUGS = [
    "doi-ngoai-nhan-dan",
    "ky-nang-doi-ngoai",
    "quan-ly-to-chuc-pcpnn",
    "vien-tro-khong-hoan-lai",
]


def right_answer(item) -> dict:
    s, order = item.snapshot, item.order
    weights = [Decimal(s["answers"][i]["weight"]) for i in order] if s["answers"] else []
    if item.kind == "single":
        return {"choice": weights.index(max(weights))}
    if item.kind == "multi":
        return {"choices": [n for n, w in enumerate(weights) if w > 0]}
    if item.kind == "truefalse":
        return {"value": s["truth"]}
    if item.kind == "short":
        return {"text": next(a["text"] for a in s["answers"] if Decimal(a["weight"]) == 100)}
    if item.kind == "numerical":
        return {"text": next(a["text"] for a in s["answers"] if a["text"] != "*")}
    if item.kind == "matching":
        rights = [r for _l, r in s["pairs"]]
        wanted = [r for left, r in s["pairs"] if left]
        return {
            "pairs": {str(i): [rights[o] for o in order].index(r) for i, r in enumerate(wanted)}
        }
    raise AssertionError(item.kind)


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
