"""A writer that finds SQLite's write lock taken asks again itself after short pauses
(db.QUICK_WAITS) before leaving the wait to SQLite's busy handler, whose pauses are 1, 2, 5 ms
and more while an answer save holds the lock for about 0.1 ms."""

import sqlite3

import pytest

from learnhub import db


@pytest.fixture
def engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield engine
    engine.dispose()


def _writer_begins(engine):
    conn = engine.connect().execution_options(sqlite_immediate=True)
    conn.begin()  # the begin event: db._begin_immediate
    return conn


def test_a_writer_asks_again_after_each_short_pause_and_gets_the_lock(engine, monkeypatch):
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        if len(pauses) == 3:
            other.execute("COMMIT")  # the holder lets go during the third pause

    monkeypatch.setattr(db.time, "sleep", pause)
    conn = _writer_begins(engine)
    try:
        assert pauses == list(db.QUICK_WAITS[:3])
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        # SQLite's own wait is back for the rest of the transaction.
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
        conn.commit()
    finally:
        conn.close()
        other.close()


def test_a_lock_held_past_the_short_pauses_is_waited_for_as_before(engine, monkeypatch):
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    pauses = []
    monkeypatch.setattr(db.time, "sleep", pauses.append)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(db, "LOCK_ATTEMPTS", 2)
    with pytest.raises(Exception, match="locked"):
        _writer_begins(engine)
    assert pauses == list(db.QUICK_WAITS)  # every short pause, then SQLite's own waits
    other.execute("COMMIT")
    conn = _writer_begins(engine)
    assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 50
    conn.close()
    other.close()
