"""Helpers shared by the tests: optional dependencies, CSRF tokens, bounded waits, a frozen
clock, the statements sent to the database."""

import os
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

T = TypeVar("T")

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def require(condition: bool, reason: str) -> None:
    """Skip when *condition* is false, or fail when LEARNHUB_REQUIRE_ALL is set (CI)."""
    if condition:
        return
    if os.environ.get("LEARNHUB_REQUIRE_ALL"):
        pytest.fail(f"required but missing: {reason}")
    pytest.skip(reason)


#: The password of the learners signed_in_learner creates.
LEARNER_PASSWORD = "learner passphrase"


def signed_in_learner(app, full_name: str, password: str = LEARNER_PASSWORD):
    """A new learner (outside any test transaction: for no_rollback tests) signed in through
    the form: (client, the session's CSRF token, the id of the demo module's quiz)."""
    import uuid

    from learnhub import db
    from learnhub.accounts import services as accounts
    from learnhub.audit.services import SYSTEM
    from learnhub.catalog import services as catalog
    from learnhub.quizzes import services

    login = f"learner-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        accounts.create_user(SYSTEM, full_name=full_name, login=login, password=password)
        quiz_id = services.ensure_quiz(catalog.by_slug("doi-ngoai-nhan-dan")).id
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    token = csrf_token(client, "/login")
    client.post("/login", data={"login": login, "password": password, "csrf_token": token})
    return client, csrf_token(client, f"/quizzes/{quiz_id}"), quiz_id


def finish_attempt(app, attempt_id: int) -> None:
    """Submit the attempt a no_rollback test started (its rows outlive the test, and a learner's
    open attempt would stand in the way of the next start)."""
    from learnhub import db
    from learnhub.quizzes import services
    from learnhub.quizzes.models import Attempt

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        services.submit_attempt(attempt, attempt.started_at)
        db.session.commit()
        db.session.remove()


def answer_for(snapshot: dict) -> dict:
    """An answer that fits a drawn question of any kind (its snapshot), right or not."""
    return {
        "single": {"choice": 0},
        "multi": {"choices": [0]},
        "truefalse": {"value": True},
        "matching": {"pairs": {}},
    }.get(snapshot["kind"], {"text": "x"})


def csrf_token(client, path: str = "/login") -> str:
    """A CSRF token of the client's session, read from a page that has a form."""
    html = client.get(path).get_data(as_text=True)
    found = CSRF.search(html)
    assert found, f"no CSRF token in {path}"
    return found.group(1)


def shared_testdata(*parts: str) -> Path:
    """A file of the workplace's shared test data (../shared/testdata beside the repository)."""
    root = Path(
        os.environ.get("LEARNHUB_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
    )
    path = root.joinpath("testdata", *parts)
    require(path.exists(), f"shared test data not found: {path}")
    return path


def multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory (Werkzeug's test client leaks a temporary
    file for large uploads); returns (body, content type)."""
    boundary = "----learnhub-test-boundary"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, (data, filename) in files.items():
        out += (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def rfc6238(secret_b32: str, unix_time: float, digits: int = 6, step: int = 30) -> str:
    """A TOTP code computed here, independently of learnhub.accounts.totp (RFC 6238, SHA-1)."""
    import base64
    import hashlib
    import hmac

    clean = secret_b32.replace(" ", "").upper()
    key = base64.b32decode(clean + "=" * (-len(clean) % 8))
    counter = int(unix_time // step).to_bytes(8, "big")
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    start = digest[19] & 0xF
    number = int.from_bytes(digest[start : start + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 30,
    interval: float = 0.05,
    what: str = "",
) -> T:
    """Poll *predicate* until it returns something true, and return that; fail the test with
    *what* when *timeout* seconds (monotonic) pass first. The one way the suite waits for
    something another thread or process does: never a bare sleep, never an unbounded loop.

    Deadlines are generous on purpose: on a loaded machine a wait that passes takes as long as
    it takes, and only a real hang runs into the deadline.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 1.0)


@dataclass
class Clock:
    """A frozen present moment, as naive UTC (how learnhub.timeutil.utcnow gives it)."""

    now: datetime

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    @property
    def timestamp(self) -> float:
        return self.now.replace(tzinfo=UTC).timestamp()


def freeze_clock(monkeypatch, now: datetime) -> Clock:
    """Freeze the app's calendar (learnhub.timeutil: utcnow() and today(), for every module and
    the live server) at *now* (naive UTC) for one test; the returned clock moves it on.

    A test whose rule depends on the date (a class has ended, a period, this year) freezes it,
    or builds its dates from today(): never compares fixed dates with the real calendar."""
    from learnhub import timeutil

    clock = Clock(now)
    monkeypatch.setattr(timeutil, "_now", lambda: clock.now.replace(tzinfo=UTC))
    return clock


@contextmanager
def statements(engine):
    """Every statement the engine sends (cursor executes), and every COMMIT and ROLLBACK."""
    seen: list[str] = []

    def on_execute(conn, cursor, sql, params, context, executemany):
        seen.append(" ".join(sql.split()))

    def on_commit(conn):
        seen.append("COMMIT")

    def on_rollback(conn):
        seen.append("ROLLBACK")

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)
        sa.event.remove(engine, "rollback", on_rollback)
