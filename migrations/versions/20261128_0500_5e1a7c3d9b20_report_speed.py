"""report speed: enrolments carry their attendance periods by status; classes indexed by ends_on

Revision ID: 5e1a7c3d9b20
Revises: a72684223ac4
Create Date: 2026-11-28 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1a7c3d9b20"
down_revision: str | None = "a72684223ac4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "present": "present_periods",
    "late": "late_periods",
    "excused": "excused_periods",
    "absent": "absent_periods",
}


def upgrade() -> None:
    with op.batch_alter_table("classes") as batch:
        batch.create_index(batch.f("ix_classes_ends_on"), ["ends_on"], unique=False)
    with op.batch_alter_table("enrolments") as batch:
        for column in COLUMNS.values():
            batch.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))
    # Existing records: the same sums attendance.services.recount keeps from now on.
    for status, column in COLUMNS.items():
        op.execute(
            sa.text(
                f"UPDATE enrolments SET {column} = COALESCE(("  # noqa: S608 (fixed names)
                " SELECT SUM(s.periods) FROM attendance_records a"
                " JOIN class_sessions s ON s.id = a.session_id"
                " WHERE s.class_id = enrolments.class_id AND a.user_id = enrolments.user_id"
                " AND a.status = :status), 0)"
            ).bindparams(status=status)
        )


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        for column in COLUMNS.values():
            batch.drop_column(column)
    with op.batch_alter_table("classes") as batch:
        batch.drop_index(batch.f("ix_classes_ends_on"))
