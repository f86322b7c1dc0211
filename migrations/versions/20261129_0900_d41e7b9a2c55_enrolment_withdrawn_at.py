"""enrolments.withdrawn_at: a learner taken off a class's roster keeps their records

Revision ID: d41e7b9a2c55
Revises: b83f2a6c1d47
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d41e7b9a2c55"
down_revision: str | None = "b83f2a6c1d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("withdrawn_at")
