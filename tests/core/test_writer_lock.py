"""Issue 18: the writers of one process queue on an in-process lock before SQLite's write lock
(db._begin_immediate), so a waiting writer wakes when the one before it ends its transaction
instead of polling in SQLite's busy handler; the lock is released however a transaction ends."""

import threading

import pytest
import sqlalchemy as sa

from learnhub import db

pytestmark = pytest.mark.no_rollback


@pytest.fixture
def engine(app):
    engine = app.extensions["learnhub.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    yield engine
    engine.dispose()  # no connection with busy_timeout 0 stays in the pool


def _writer(engine) -> sa.Connection:
    """A connection that never waits in SQLite's busy handler: if it asks SQLite for the write
    lock while another connection holds it, BEGIN IMMEDIATE fails at once."""
    conn = engine.connect()
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    conn.commit()
    return conn.execution_options(sqlite_immediate=True)


def _process_lock(engine) -> threading.Lock:
    return db._WRITER_LOCKS[engine.url.database]


def test_a_second_writer_of_the_process_waits_for_the_first_to_commit(engine):
    first = _writer(engine)
    first.begin()
    first.exec_driver_sql("SELECT 1")
    outcome: list[str] = []
    asked = threading.Event()

    def second_writer():
        conn = _writer(engine)
        try:
            asked.set()
            with conn.begin():
                conn.exec_driver_sql("SELECT 1")
            outcome.append("wrote")
        except sa.exc.OperationalError as exc:
            outcome.append(str(exc.orig))
        finally:
            conn.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert asked.wait(5)
    thread.join(0.3)
    # Without the process's lock the second writer's BEGIN IMMEDIATE (busy_timeout 0) fails
    # LOCK_ATTEMPTS times at once with "database is locked".
    assert thread.is_alive()
    assert outcome == []
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == ["wrote"]
    assert not _process_lock(engine).locked()


@pytest.mark.parametrize("end", ["commit", "rollback", "close", "invalidate"])
def test_the_process_lock_is_released_however_the_transaction_ends(engine, end):
    conn = _writer(engine)
    conn.begin()
    assert _process_lock(engine).locked()
    if end == "invalidate":  # the DBAPI connection is dropped (as after a disconnect error)
        conn.invalidate()
        assert not _process_lock(engine).locked()
        conn.rollback()
        conn.close()
    else:
        getattr(conn, end)()
        if end != "close":
            conn.close()
    assert not _process_lock(engine).locked()


def test_engines_for_the_same_file_share_one_process_lock(engine):
    other = db.make_engine(str(engine.url))
    try:
        assert db._WRITER_LOCKS[other.url.database] is _process_lock(engine)
    finally:
        other.dispose()


def test_a_failed_begin_leaves_the_process_lock_free(engine, monkeypatch):
    """Another process holds SQLite's lock for longer than every wait: the writer gets the
    error (the app answers 503) and the next writer of this process is not blocked by it."""
    import sqlite3

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    outsider = sqlite3.connect(engine.url.database, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        conn = _writer(engine)
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            conn.begin()
        conn.close()
        assert not _process_lock(engine).locked()
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
