"""The settings every SQLite connection of LearnHub gets (db._sqlite_pragmas), read back from a
real connection, and the WAL left to grow past SQLite's default checkpoint of 1,000 pages
(db.WAL_AUTOCHECKPOINT_PAGES: answer saves rewrite the same pages, and a checkpoint copies
each page once)."""

import pytest
import sqlalchemy as sa

from learnhub import db


def test_every_connection_gets_the_settings_and_the_wal_grows_past_a_thousand_pages(tmp_path):
    path = tmp_path / "settings.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            read = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "wal_autocheckpoint")
            }
        assert read == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL
            "wal_autocheckpoint": db.WAL_AUTOCHECKPOINT_PAGES,
        }
        with engine.begin() as conn:
            page = conn.exec_driver_sql("PRAGMA page_size").scalar()
            conn.exec_driver_sql("CREATE TABLE filler (body BLOB)")
        for _ in range(30):  # commits of about 100 pages each, 3,000 in all
            with engine.begin() as conn:
                conn.execute(
                    sa.text("INSERT INTO filler VALUES (:body)"), [{"body": b"x" * page}] * 100
                )
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 2_000 * page  # not checkpointed at 1,000 pages
    finally:
        engine.dispose()


def test_a_read_transaction_begins_on_sqlite_itself_and_a_failed_begin_is_sqlalchemys_error(
    tmp_path,
):
    """A reader's BEGIN (db._begin_deferred) goes to SQLite's connection directly, not through
    SQLAlchemy's execution path: it still begins the transaction its reads share, and a BEGIN
    SQLite refuses is raised as SQLAlchemy's own error, as every other statement's."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'begin.sqlite'}")
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, sql, *a: sent.append(sql))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            assert conn.connection.driver_connection.in_transaction  # BEGIN was sent
            assert sent == ["SELECT 1"]  # …and not through SQLAlchemy's execution
        with engine.connect() as conn:
            # SQLite refuses a BEGIN inside a transaction: the BEGIN SQLAlchemy's begin sends
            # after this one fails, and its error is SQLAlchemy's.
            conn.connection.driver_connection.execute("BEGIN")
            with pytest.raises(sa.exc.OperationalError, match="within a transaction"):
                conn.exec_driver_sql("SELECT 1")
            assert sent[-1] == "BEGIN"
    finally:
        engine.dispose()
