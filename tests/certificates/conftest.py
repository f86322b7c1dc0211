"""A class with completed learners, ready for certificates."""

from datetime import date, time
from decimal import Decimal

import pytest

from learnhub import db
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.classes import services as classes
from learnhub.timeutil import utcnow


def open_class(trainer, code: str = "GCN-2026-01"):
    training_class = classes.open_class(
        Actor(trainer),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code=code,
            title="Lớp bồi dưỡng đối ngoại nhân dân khóa I năm 2026",
            starts_on=date(2026, 1, 5),
            ends_on=date(2026, 1, 9),
        ),
        [trainer],
    )
    classes.add_sessions(Actor(trainer), training_class, date(2026, 1, 5), 2, time(8), time(11), 4)
    return training_class


def complete(training_class, user, score: str | None = "8.5") -> Completion:
    """Record a completion directly (the completion rule itself is tested in attendance)."""
    classes.enrol(Actor(None), training_class, [user])
    completion = Completion(
        class_id=training_class.id,
        user_id=user.id,
        completed_at=utcnow(),
        rule={},
        score=Decimal(score) if score else None,
        attendance_share=Decimal(1),
    )
    db.session.add(completion)
    db.session.flush()
    return completion


@pytest.fixture
def klass(trainer):
    return open_class(trainer)
