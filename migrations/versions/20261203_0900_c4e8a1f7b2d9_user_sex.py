"""users: sex (giới tính), optional; the register prints it and documents say Ông / Bà by it

Revision ID: c4e8a1f7b2d9
Revises: f3b9d2c41a6e
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a1f7b2d9"
down_revision: str | None = "f3b9d2c41a6e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("sex", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(op.f("ck_users_sex"), "sex IN ('nam', 'nu')")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_sex"), type_="check")
        batch_op.drop_column("sex")
