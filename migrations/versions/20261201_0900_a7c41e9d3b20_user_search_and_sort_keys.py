"""users: search_key (folded name, login, e-mail) and sort_key (Vietnamese name order)

Revision ID: a7c41e9d3b20
Revises: e15a0c1d2b3f
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from learnhub.textutil import fold, name_sort_string, nfc

revision: str = "a7c41e9d3b20"
down_revision: str | None = "e15a0c1d2b3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("full_name", sa.String),
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("search_key", sa.String),
    sa.column("sort_key", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("search_key", sa.String(length=600), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("sort_key", sa.String(length=400), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_users_sort_key"), ["sort_key"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.full_name, users.c.username, users.c.email))
    for user_id, full_name, username, email in rows.all():
        key = fold(" ".join(nfc(p or "") for p in (full_name, username, email)))[:600]
        conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(search_key=key, sort_key=name_sort_string(full_name or ""))
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_sort_key"))
        batch_op.drop_column("sort_key")
        batch_op.drop_column("search_key")
