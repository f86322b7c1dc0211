"""Item analysis as Moodle reports it: facility, discrimination, and Cronbach's alpha."""

from dataclasses import dataclass
from math import sqrt
from statistics import mean, pvariance

from sqlalchemy import select

from learnhub import db
from learnhub.quizzes.models import Attempt, AttemptState, Quiz


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    name: str
    attempts: int
    #: Mean fraction of credit, as a percentage (Moodle's facility index).
    facility: float
    #: Correlation between the item and the rest of the test, as a percentage.
    discrimination: float | None


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sx = sqrt(sum((x - mx) ** 2 for x in xs))
    sy = sqrt(sum((y - my) ** 2 for y in ys))
    if sx == 0 or sy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy)


def cronbach_alpha(matrix: list[list[float]]) -> float | None:
    """Alpha for rows of item scores (one row per attempt, the same items in each row)."""
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    k = len(matrix[0])
    item_variances = [pvariance([row[i] for row in matrix]) for i in range(k)]
    total_variance = pvariance([sum(row) for row in matrix])
    if total_variance == 0:
        return None
    return k / (k - 1) * (1 - sum(item_variances) / total_variance)


def analyse(quiz: Quiz) -> tuple[list[ItemStats], float | None, int]:
    """Per-question statistics over each learner's first graded attempt, alpha, attempt count."""
    stmt = (
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.state == AttemptState.graded)
        .order_by(Attempt.user_id, Attempt.number)
    )
    first: dict[int, Attempt] = {}
    for attempt in db.session.scalars(stmt):
        first.setdefault(attempt.user_id, attempt)
    rows = [{item.question_id: float(item.fraction) for item in a.items} for a in first.values()]
    names = {
        item.question_id: item.snapshot.get("name", "") for a in first.values() for item in a.items
    }
    stats = []
    for qid in sorted(names):
        pairs = [(row[qid], sum(row.values()) - row[qid]) for row in rows if qid in row]
        xs = [p[0] for p in pairs]
        r = _pearson(xs, [p[1] for p in pairs])
        stats.append(
            ItemStats(
                qid,
                names[qid],
                len(xs),
                round(100 * mean(xs), 2) if xs else 0.0,
                None if r is None else round(100 * r, 2),
            )
        )
    common = sorted(set.intersection(*(set(row) for row in rows))) if rows else []
    alpha = cronbach_alpha([[row[q] for q in common] for row in rows])
    return stats, alpha, len(rows)
