"""Item analysis as Moodle reports it: facility, discrimination, and Cronbach's alpha; with the
question's text, a verdict a trainer can act on, and a caution when too few learners took it.

The thresholds are those of classical test theory as Moodle's documentation and most item-analysis
guides give them: facility above 90% (almost everyone right) is too easy, below 20% too hard; a
discrimination (item-rest correlation) below 20% tells strong and weak learners apart poorly, and a
negative one means the strong learners got it wrong more often (often a wrong key). With fewer
than MIN_LEARNERS learners these figures swing with every single answer: they are shown, marked
as not yet meaningful, and no question is flagged.
"""

import enum
import re
from dataclasses import dataclass
from math import sqrt
from statistics import mean, pvariance

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learnhub import db
from learnhub.quizzes.models import Attempt, AttemptState, Quiz

#: Fewer learners than this and the figures mean little (a correlation over 20 people still moves
#: by about ±0.4 by chance; over 2 it is ±1). Moodle's statistics carry the same warning.
MIN_LEARNERS = 20
#: Facility (%) above which a question is too easy, below which too hard.
TOO_EASY, TOO_HARD = 90.0, 20.0
#: Discrimination (%) below which a question tells strong and weak learners apart poorly.
LOW_DISCRIMINATION = 20.0
#: How much of a question's text the table shows.
SHORT_TEXT = 120


class Flag(enum.StrEnum):
    too_easy = "too_easy"
    too_hard = "too_hard"
    low_discrimination = "low_discrimination"
    negative_discrimination = "negative_discrimination"


FLAG_LABELS = {
    Flag.too_easy: _l("Quá dễ: gần như ai cũng làm đúng"),
    Flag.too_hard: _l("Quá khó: rất ít người làm đúng"),
    Flag.low_discrimination: _l("Phân biệt kém: người giỏi và người yếu làm như nhau"),
    Flag.negative_discrimination: _l(
        "Phân biệt ngược: người làm tốt cả bài lại hay sai câu này; hãy kiểm tra đáp án"
    ),
}


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    name: str
    attempts: int
    #: Mean fraction of credit, as a percentage (Moodle's facility index).
    facility: float
    #: Correlation between the item and the rest of the test, as a percentage.
    discrimination: float | None
    #: The question's text as learners saw it, shortened for the table (tags and markup removed).
    text: str = ""
    #: What a trainer should look at (empty when the question looks fine, or too few learners).
    flags: tuple[Flag, ...] = ()


def enough(learners: int) -> bool:
    """Whether *learners* are enough for the figures to mean something."""
    return learners >= MIN_LEARNERS


def flags_of(facility: float, discrimination: float | None) -> tuple[Flag, ...]:
    """The verdicts on one question's figures."""
    found = []
    if facility > TOO_EASY:
        found.append(Flag.too_easy)
    elif facility < TOO_HARD:
        found.append(Flag.too_hard)
    if discrimination is not None:
        if discrimination < 0:
            found.append(Flag.negative_discrimination)
        elif discrimination < LOW_DISCRIMINATION:
            found.append(Flag.low_discrimination)
    return tuple(found)


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """*text* without HTML tags and Markdown emphasis, on one line, at most *limit* characters."""
    plain = re.sub(r"<[^>]*>", " ", text)
    plain = re.sub(r"[*_`#]+", "", plain)
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


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
    """Per-question statistics over each learner's first graded attempt, alpha, learner count.
    Questions are flagged only when the learners are enough()."""
    stmt = (
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.state == AttemptState.graded)
        .order_by(Attempt.user_id, Attempt.number)
    )
    first: dict[int, Attempt] = {}
    for attempt in db.session.scalars(stmt):
        first.setdefault(attempt.user_id, attempt)
    rows = [{item.question_id: float(item.fraction) for item in a.items} for a in first.values()]
    snapshots = {item.question_id: item.snapshot for a in first.values() for item in a.items}
    judged = enough(len(rows))
    stats = []
    for qid in sorted(snapshots):
        pairs = [(row[qid], sum(row.values()) - row[qid]) for row in rows if qid in row]
        xs = [p[0] for p in pairs]
        r = _pearson(xs, [p[1] for p in pairs])
        facility = round(100 * mean(xs), 2) if xs else 0.0
        discrimination = None if r is None else round(100 * r, 2)
        stats.append(
            ItemStats(
                qid,
                snapshots[qid].get("name", ""),
                len(xs),
                facility,
                discrimination,
                short_text(snapshots[qid].get("text", "")),
                flags_of(facility, discrimination) if judged else (),
            )
        )
    common = sorted(set.intersection(*(set(row) for row in rows))) if rows else []
    alpha = cronbach_alpha([[row[q] for q in common] for row in rows])
    return stats, alpha, len(rows)
