"""quiz_attempt_items: revision, the snapshot's question revision in a column of its own (the
attempt page keys its cached forms by it without reading the snapshot's JSON)

Revision ID: e2b7c5d90a14
Revises: a7d3e9b15c42
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b7c5d90a14"
down_revision: str | None = "a7d3e9b15c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_items = sa.table(
    "quiz_attempt_items", sa.column("snapshot", sa.JSON), sa.column("revision", sa.Integer)
)


def upgrade() -> None:
    with op.batch_alter_table("quiz_attempt_items") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    # The items written before: the revision their snapshot froze (those without one keep 1,
    # the column's default, and are not rewritten).
    revision = _items.c.snapshot["revision"].as_integer()
    op.execute(_items.update().where(revision.is_not(None)).values(revision=revision))


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempt_items") as batch_op:
        batch_op.drop_column("revision")
