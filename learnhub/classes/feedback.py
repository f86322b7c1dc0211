"""Learners' evaluations of a class (phiếu đánh giá khóa học) and their summary.

- **When**: a learner on the roster (not withdrawn) may answer once the class's last own
  session has started (or, without sessions, once the class is over), once per class (a unique
  constraint keeps it so under double submission).
- **Anonymous**: the learner's id is stored only to refuse a second answer. The summary (page,
  class dossier) shows the number of answers, the mean of each mark and the comments in
  alphabetical order, never who wrote what, and nothing but the number until at least
  MIN_RESPONSES learners have answered (with fewer, a mark could be traced to a person).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learnhub import db
from learnhub.accounts.models import User
from learnhub.classes.models import ClassFeedback, Enrolment, TrainingClass
from learnhub.textutil import collation_key

#: Below this many answers only the count is shown (anonymity).
MIN_RESPONSES = 3
CRITERIA = ("content", "trainers", "organisation")


class AlreadyGiven(Exception):
    """The learner has already evaluated this class."""


@dataclass(frozen=True)
class FeedbackData:
    content: int
    trainers: int
    organisation: int
    comment: str = ""


@dataclass(frozen=True)
class Summary:
    responses: int
    learners: int
    #: Mean of each criterion (None when hidden or no answer), keyed by CRITERIA.
    means: dict[str, Decimal | None]
    comments: list[str]

    @property
    def shown(self) -> bool:
        return self.responses >= MIN_RESPONSES


def is_open(training_class: TrainingClass, now: datetime) -> bool:
    """Whether the class may be evaluated at *now* (naive UTC): its last own session has
    started, or, without sessions, the class is over."""
    sessions = training_class.own_sessions
    if sessions:
        return now >= max(s.starts for s in sessions)
    return training_class.has_ended(now)


def on_roster(user: User, training_class: TrainingClass) -> bool:
    stmt = select(Enrolment.id).where(
        Enrolment.class_id == training_class.id,
        Enrolment.user_id == user.id,
        Enrolment.withdrawn_at.is_(None),
    )
    return db.session.scalar(stmt) is not None


def given(user: User, training_class: TrainingClass) -> bool:
    stmt = select(ClassFeedback.id).where(
        ClassFeedback.class_id == training_class.id, ClassFeedback.user_id == user.id
    )
    return db.session.scalar(stmt) is not None


def submit(user: User, training_class: TrainingClass, data: FeedbackData) -> ClassFeedback:
    """Record *user*'s evaluation (the caller has checked they may); AlreadyGiven when they
    have answered before, including a concurrent second submission."""
    row = ClassFeedback(
        class_id=training_class.id,
        user_id=user.id,
        content=data.content,
        trainers=data.trainers,
        organisation=data.organisation,
        comment=data.comment.strip(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as exc:
        raise AlreadyGiven from exc
    return row


def summary(training_class: TrainingClass) -> Summary:
    """The anonymous summary of a class's evaluations (see the module docstring)."""
    columns = [getattr(ClassFeedback, c) for c in CRITERIA]
    row = db.session.execute(
        select(func.count(ClassFeedback.id), *(func.sum(c) for c in columns)).where(
            ClassFeedback.class_id == training_class.id
        )
    ).one()
    responses = row[0]
    learners = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.class_id == training_class.id, Enrolment.withdrawn_at.is_(None)
        )
    )
    if responses < MIN_RESPONSES:
        return Summary(responses, learners, dict.fromkeys(CRITERIA), [])
    means = {
        name: (Decimal(total) / Decimal(responses)).quantize(Decimal("0.01"))
        for name, total in zip(CRITERIA, row[1:], strict=True)
    }
    comments = db.session.scalars(
        select(ClassFeedback.comment).where(
            ClassFeedback.class_id == training_class.id, ClassFeedback.comment != ""
        )
    )
    return Summary(responses, learners, means, sorted(comments, key=collation_key))
