"""Issue 18, build 2: no 503 under a burst. Every writer takes SQLite's write lock in one place
(db._begin_immediate), which asks again within the request when busy_timeout runs out; starting
and submitting an attempt read and grade first and hold the lock for their writes only."""

import sqlite3
import threading
import time
import uuid

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.audit.services import SYSTEM
from learnhub.quizzes import services
from learnhub.quizzes.models import Attempt, AttemptState
from tests.quizzes.test_issue18_lean_save import statements
from tests.support import csrf_token, signed_in_learner

pytestmark = pytest.mark.no_rollback

PASSWORD = "write lock passphrase"
#: busy_timeout in these tests: the lock is held longer than one wait, shorter than all of them.
BUSY_MS = 250
HOLD_S = 0.4


@pytest.fixture
def sqlite_only(app):
    if app.extensions["learnhub.engine"].dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")


@pytest.fixture
def short_busy_timeout(app, monkeypatch):
    """Connections that wait BUSY_MS for a lock (new ones: the pool is emptied around the test)."""
    engine = app.extensions["learnhub.engine"]
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", BUSY_MS)
    engine.dispose()
    yield
    monkeypatch.undo()
    engine.dispose()


def _database_file(app) -> str:
    return app.extensions["learnhub.engine"].url.database


def _hold_write_lock(path: str, seconds: float) -> threading.Thread:
    """Another connection takes the write lock and keeps it *seconds*; returns once it holds it."""
    held = threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    return thread


def _finish(app, attempt_id):
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        if not attempt.is_finished:
            services.submit_attempt(attempt, services.utcnow())
            db.session.commit()
        db.session.remove()


def test_a_start_waiting_for_the_write_lock_retries_and_gets_no_503(
    app, sqlite_only, short_busy_timeout
):
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Khóa", PASSWORD)
    holder = _hold_write_lock(_database_file(app), HOLD_S)
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    holder.join()
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    assert "/attempts/" in started.location
    _finish(app, int(started.location.rsplit("/", 1)[1]))


def test_a_submit_waiting_for_the_write_lock_retries_and_grades_once(
    app, sqlite_only, short_busy_timeout
):
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Khóa", PASSWORD)
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    holder = _hold_write_lock(_database_file(app), HOLD_S)
    submitted = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    holder.join()
    assert submitted.status_code == 302, submitted.get_data(as_text=True)[:300]
    assert submitted.location.endswith(f"/attempts/{attempt_id}/review")
    again = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert again.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state in (AttemptState.graded, AttemptState.needs_grading)
        assert attempt.submitted_at is not None
        db.session.remove()


def test_a_sign_in_waiting_for_the_write_lock_retries(app, sqlite_only, short_busy_timeout):
    login = f"lock-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        accounts.create_user(SYSTEM, full_name="Đỗ Thị Chờ", login=login, password=PASSWORD)
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    token = csrf_token(client, "/login")
    holder = _hold_write_lock(_database_file(app), HOLD_S)
    signed_in = client.post(
        "/login", data={"login": login, "password": PASSWORD, "csrf_token": token}
    )
    holder.join()
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:300]
    assert "/login" not in signed_in.location


def _locked_part(seen: list[str]) -> list[str]:
    """The statements sent while this request held SQLite's write lock."""
    begin = seen.index("BEGIN IMMEDIATE")
    return seen[begin : seen.index("COMMIT", begin) + 1]


def test_start_and_submit_hold_the_write_lock_for_their_writes_only(app, sqlite_only):
    """The session row, the quiz, the bank (the draw), the answers and their grading are read
    before BEGIN IMMEDIATE; under the lock only the re-check, the inserts or the result."""
    client, token, quiz_id = signed_in_learner(app, "Đỗ Văn Khóa", PASSWORD)
    engine = app.extensions["learnhub.engine"]
    with statements(engine) as seen:
        started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    assert started.status_code == 302
    locked = _locked_part(seen)
    assert seen.count("BEGIN IMMEDIATE") == 1, seen
    assert not any("FROM users" in s or "FROM quiz_questions" in s for s in locked), locked
    assert not any("FROM quizzes" in s or "FROM modules" in s for s in locked), locked
    assert any(s.startswith("INSERT INTO quiz_attempts ") for s in locked), locked
    attempt_id = int(started.location.rsplit("/", 1)[1])
    headers = {"X-CSRFToken": token}
    client.post(f"/attempts/{attempt_id}/items/1", json={"text": "x"}, headers=headers)

    with statements(engine) as seen:
        submitted = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 302
    locked = _locked_part(seen)
    assert seen.count("BEGIN IMMEDIATE") == 1, seen
    # The finishing UPDATE first, then one read of the answers (not one per item); the graded
    # signal's listeners (completion) read what they need by primary key.
    assert locked[1].startswith("UPDATE quiz_attempts "), locked
    item_reads = [s for s in locked if s.startswith("SELECT") and "FROM quiz_attempt_items" in s]
    assert len(item_reads) == 1, locked
    assert not any("FROM quiz_questions" in s for s in locked), locked
