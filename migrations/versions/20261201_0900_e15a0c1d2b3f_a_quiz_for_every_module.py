"""a quiz for every module: modules created in the browser before quizzes were made with them

Revision ID: e15a0c1d2b3f
Revises: d1f4c8a2e7b3
Create Date: 2026-12-01 09:00:00
"""

import json
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "e15a0c1d2b3f"
down_revision: str | None = "d1f4c8a2e7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Core tables as they are at this revision (models change later).
modules = sa.table("modules", sa.column("id", sa.Integer), sa.column("latest_version_id"))
versions = sa.table("module_versions", sa.column("id", sa.Integer), sa.column("meta", sa.JSON))
quizzes = sa.table(
    "quizzes",
    sa.column("module_id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("time_limit_minutes", sa.Integer),
    sa.column("attempts_allowed", sa.Integer),
    sa.column("grading", sa.String),
    sa.column("pass_mark", sa.Numeric(5, 2)),
    sa.column("per_category", sa.Integer),
    sa.column("shuffle_questions", sa.Boolean),
    sa.column("shuffle_choices", sa.Boolean),
    sa.column("review_after_submit", sa.String),
    sa.column("review_after_close", sa.String),
    sa.column("grace_seconds", sa.Integer),
)


def _row(module_id: int, meta: object) -> dict:
    """The quiz quizzes.services.ensure_quiz makes from a version's [quiz] settings."""
    if isinstance(meta, str):
        meta = json.loads(meta)
    settings = (meta or {}).get("quiz", {}) if isinstance(meta, dict) else {}
    return {
        "module_id": module_id,
        "title": settings.get("title", "Kiểm tra"),
        "time_limit_minutes": settings.get("time_limit_minutes", 0),
        "attempts_allowed": settings.get("attempts", 0),
        "grading": settings.get("grading", "highest"),
        "pass_mark": Decimal(str(settings.get("pass_mark", 5.0))).quantize(Decimal("0.01")),
        "per_category": settings.get("per_category", 0),
        "shuffle_questions": settings.get("shuffle_questions", True),
        "shuffle_choices": settings.get("shuffle_choices", True),
        "review_after_submit": "score",
        "review_after_close": "full",
        "grace_seconds": 60,
    }


def upgrade() -> None:
    bind = op.get_bind()
    missing = bind.execute(
        sa.select(modules.c.id, versions.c.meta)
        .select_from(modules.outerjoin(versions, versions.c.id == modules.c.latest_version_id))
        .where(~sa.exists().where(quizzes.c.module_id == modules.c.id))
        .order_by(modules.c.id)
    ).all()
    rows = [_row(module_id, meta) for module_id, meta in missing]
    if rows:
        op.bulk_insert(quizzes, rows)


def downgrade() -> None:
    # Data only: the quizzes made here cannot be told from others (and may hold attempts).
    pass
