"""A clock the attendance pages read, moved by the test (no sleeps)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from learnhub.attendance import services as attendance_services
from learnhub.attendance import views as attendance_views


@dataclass
class Clock:
    """Now, as naive UTC (how learnhub.timeutil.utcnow gives it)."""

    now: datetime

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    @property
    def timestamp(self) -> float:
        return self.now.replace(tzinfo=UTC).timestamp()


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    """Now for the attendance pages and the completion rule: 09:00 in Cà Mau, 10/03/2026."""
    clock = Clock(datetime(2026, 3, 10, 2, 0))  # noqa: DTZ001 (naive UTC, as stored)
    monkeypatch.setattr(attendance_views, "utcnow", lambda: clock.now)
    # The completion rule's clock (a class is complete only once it has ended) reads the same now.
    monkeypatch.setattr(attendance_services, "utcnow", lambda: clock.now)
    return clock
