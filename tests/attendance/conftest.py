"""A clock the attendance pages and the completion rule read, moved by the test (no sleeps)."""

from datetime import datetime

import pytest

from tests.support import Clock, freeze_clock

__all__ = ["Clock", "frozen"]


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    """Now for the whole app (learnhub.timeutil): 09:00 in Cà Mau, 10/03/2026."""
    return freeze_clock(monkeypatch, datetime(2026, 3, 10, 2, 0))  # noqa: DTZ001 (naive UTC)
