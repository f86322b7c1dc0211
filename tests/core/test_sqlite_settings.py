"""The settings every SQLite connection of LearnHub gets (db._sqlite_pragmas), read back from a
real connection, and the WAL left to grow past SQLite's default checkpoint of 1,000 pages
(db.WAL_AUTOCHECKPOINT_PAGES: answer saves rewrite the same pages, and a checkpoint copies
each page once)."""

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
