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
        # Batch mode lets ALTER TABLE work on SQLite; harmless on PostgreSQL.
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
