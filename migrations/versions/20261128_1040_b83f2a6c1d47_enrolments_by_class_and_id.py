"""enrolments indexed by (class_id, id): the first enrolment of a period's classes in one probe
per class (the completion records page starts its walk there)

Revision ID: b83f2a6c1d47
Revises: 5e1a7c3d9b20
Create Date: 2026-11-28 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b83f2a6c1d47"
down_revision: str | None = "5e1a7c3d9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.create_index("ix_enrolments_class_id_id", ["class_id", "id"], unique=False)
        batch.drop_index("ix_enrolments_class_id")


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.create_index("ix_enrolments_class_id", ["class_id"], unique=False)
        batch.drop_index("ix_enrolments_class_id_id")
