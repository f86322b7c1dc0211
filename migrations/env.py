"""Alembic environment: the engine comes from the LearnHub app (see learnhub/cli.py)."""

from alembic import context

import learnhub.models  # noqa: F401  (load every model onto Base.metadata)
from learnhub.db import Base

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from learnhub import create_app

        engine = create_app().extensions["learnhub.engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table to alter it on SQLite; dropping the old copy of a
            # table others refer to must not trip their foreign keys. SQLite's own procedure
            # (lang_altertable.html): keys off outside the transaction, a foreign_key_check
            # before the commit, keys on again.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            # Batch mode lets ALTER TABLE work on SQLite; harmless on PostgreSQL. One
            # transaction for the whole upgrade on both (SQLite's DDL is transactional too):
            # a migration that stops leaves the database as it was.
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,
                compare_type=True,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _foreign_key_check(connection)
            connection.commit()
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def _foreign_key_check(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")


run_migrations_online()
