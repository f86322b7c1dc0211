"""A fixed-window rate limiter kept in the database, so every server process shares the count.

One row per key (RateWindow): the start of the current window and the hits in it. A hit is one
INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement, atomic on SQLite and PostgreSQL alike.
The caller owns the transaction (on SQLite, call db.write_transaction() first in a GET request)
and commits it.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import String, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from learnhub import db

_EPOCH = datetime(2000, 1, 1)  # noqa: DTZ001 (naive UTC, as stored)


class RateWindow(db.Base):
    """Hits per key in a fixed time window (public verification, shared by every server)."""

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    hits: Mapped[int] = mapped_column(default=0)


def window_start(window: timedelta, now: datetime) -> datetime:
    """The start of the fixed window *now* falls in (windows are aligned, the same everywhere)."""
    return _EPOCH + ((now - _EPOCH) // window) * window


def retry_after(window: timedelta, now: datetime) -> int:
    """Whole seconds until the current window ends (at least 1): the Retry-After value."""
    left = window_start(window, now) + window - now
    return max(1, math.ceil(left.total_seconds()))


def hit(key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one hit for *key*; False when it is over *limit* hits in the current window."""
    start = window_start(window, now)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(RateWindow).values(key=key[:200], window_start=start, hits=1)
    stored = RateWindow.__table__.c
    # A newer window starts again at 1; a hit stamped with an older window (a server whose
    # clock lags) counts into the newer one rather than resetting it.
    newer = stored.window_start < stmt.excluded.window_start
    stmt = stmt.on_conflict_do_update(
        index_elements=[stored.key],
        set_={
            "hits": case((newer, 1), else_=stored.hits + 1),
            "window_start": case((newer, stmt.excluded.window_start), else_=stored.window_start),
        },
    ).returning(stored.hits)
    hits = db.session.execute(stmt).scalar_one()
    return hits <= limit


def purge(before: datetime) -> int:
    """Delete windows that started before *before* (housekeeping); returns how many."""
    result = db.session.execute(delete(RateWindow).where(RateWindow.window_start < before))
    return result.rowcount or 0
