"""class feedback: a learner's evaluation of a class (phiếu đánh giá khóa học), one per learner
per class

Revision ID: f3b9d2c41a6e
Revises: a7c41e9d3b20
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3b9d2c41a6e"
down_revision: str | None = "a7c41e9d3b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "class_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.Integer(), nullable=False),
        sa.Column("trainers", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "content BETWEEN 1 AND 5", name=op.f("ck_class_feedback_content_1_to_5")
        ),
        sa.CheckConstraint(
            "trainers BETWEEN 1 AND 5", name=op.f("ck_class_feedback_trainers_1_to_5")
        ),
        sa.CheckConstraint(
            "organisation BETWEEN 1 AND 5", name=op.f("ck_class_feedback_organisation_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_class_feedback_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_class_feedback_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_feedback")),
        sa.UniqueConstraint("class_id", "user_id", name=op.f("uq_class_feedback_class_id_user_id")),
    )
    op.create_index(
        op.f("ix_class_feedback_class_id"), "class_feedback", ["class_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_class_feedback_class_id"), table_name="class_feedback")
    op.drop_table("class_feedback")
