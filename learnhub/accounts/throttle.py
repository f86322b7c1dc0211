"""Sign-in throttling per account and per address, with a progressive delay (ASVS 6.3.1).

State lives in the database, so it holds across processes and servers.
"""

import unicodedata
from datetime import datetime, timedelta

from learnhub import db
from learnhub.accounts.models import LoginThrottle


def account_key(login: str) -> str:
    return f"account:{unicodedata.normalize('NFC', login).strip().casefold()[:200]}"


def ip_key(ip: str) -> str:
    return f"ip:{ip[:60]}"


def blocked_for(keys: list[str], now: datetime) -> int:
    """Seconds until every key allows another attempt (0 when none is blocked)."""
    rows = db.session.query(LoginThrottle).filter(LoginThrottle.key.in_(keys)).all()
    waits = [(r.blocked_until - now).total_seconds() for r in rows if r.blocked_until]
    return max([0, *[int(w) + 1 for w in waits if w > 0]])


def delay_after(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after *failures*: none for the first *free*, then doubling up to *cap*."""
    if failures < free:
        return 0
    return min(2 ** (failures - free), cap)


def record_failure(key: str, free: int, cap: int, now: datetime) -> None:
    row = db.session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, last_failure_at=now)
        db.session.add(row)
    elif now - row.last_failure_at > timedelta(days=1):
        row.failures = 0  # a day without failures forgives the past ones
    row.failures += 1
    row.last_failure_at = now
    wait = delay_after(row.failures, free, cap)
    row.blocked_until = now + timedelta(seconds=wait) if wait else None
    db.session.flush()


def clear(key: str) -> None:
    row = db.session.get(LoginThrottle, key)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def factor_key(user_id: int) -> str:
    """The key of a user's second sign-in step (two-factor or recovery code). Kept apart from the
    account key, which a correct password clears: knowing the password buys no code guesses."""
    return f"factor:{user_id}"
