"""unit report summary: figures per (class, unit) and one row per person and class, filled
from the base tables (reports/summary.py keeps them afterwards)

Revision ID: b8e2d5a17c90
Revises: c4e8a1f7b2d9
Create Date: 2026-12-02 08:30:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "b8e2d5a17c90"
down_revision: str | None = "c4e8a1f7b2d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIODS = ("present_periods", "late_periods", "excused_periods", "absent_periods")


def upgrade() -> None:
    op.create_table(
        "report_unit_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("enrolments", sa.Integer(), nullable=False),
        sa.Column("present_periods", sa.Integer(), nullable=False),
        sa.Column("late_periods", sa.Integer(), nullable=False),
        sa.Column("excused_periods", sa.Integer(), nullable=False),
        sa.Column("absent_periods", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("certified", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_report_unit_figures_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_unit_figures")),
    )
    op.create_index(
        op.f("ix_report_unit_figures_class_id"), "report_unit_figures", ["class_id"], unique=False
    )
    op.create_index(
        "ix_report_unit_figures_period", "report_unit_figures", ["ends_on", "unit_id"], unique=False
    )
    op.create_table(
        "report_unit_persons",
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_report_unit_persons_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_report_unit_persons_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "user_id", name=op.f("pk_report_unit_persons")),
    )
    op.create_index(
        "ix_report_unit_persons_period",
        "report_unit_persons",
        ["ends_on", "unit_id", "module_id", "user_id"],
        unique=False,
    )
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    """The summary of the existing data (Core tables as they are at this revision)."""
    meta = sa.MetaData()
    classes = sa.Table("classes", meta, autoload_with=conn)
    users = sa.Table("users", meta, autoload_with=conn)
    enrolments = sa.Table("enrolments", meta, autoload_with=conn)
    completions = sa.Table("completions", meta, autoload_with=conn)
    certificates = sa.Table("certificates", meta, autoload_with=conn)
    figures_t = sa.Table("report_unit_figures", meta, autoload_with=conn)
    persons_t = sa.Table("report_unit_persons", meta, autoload_with=conn)
    info = {
        cid: (m, e)
        for cid, m, e in conn.execute(
            sa.select(classes.c.id, classes.c.module_id, classes.c.ends_on)
        )
    }
    figures: dict = {}

    def row(class_id, unit_id) -> dict:
        if (class_id, unit_id) not in figures:
            module_id, ends_on = info[class_id]
            figures[class_id, unit_id] = {
                "class_id": class_id,
                "unit_id": unit_id,
                "module_id": module_id,
                "ends_on": ends_on,
                "enrolments": 0,
                **dict.fromkeys(PERIODS, 0),
                "completed": 0,
                "scored": 0,
                "score_sum": Decimal(0),
                "certified": 0,
            }
        return figures[class_id, unit_id]

    active = enrolments.c.withdrawn_at.is_(None)
    stmt = (
        sa.select(
            enrolments.c.class_id,
            users.c.unit_id,
            sa.func.count(),
            *(sa.func.sum(enrolments.c[name]) for name in PERIODS),
        )
        .join(users, users.c.id == enrolments.c.user_id)
        .where(active)
        .group_by(enrolments.c.class_id, users.c.unit_id)
    )
    for class_id, unit_id, count, *periods in conn.execute(stmt):
        r = row(class_id, unit_id)
        r["enrolments"] = count
        r.update({name: int(n or 0) for name, n in zip(PERIODS, periods, strict=True)})
    stmt = (
        sa.select(
            completions.c.class_id,
            users.c.unit_id,
            sa.func.count(),
            sa.func.count(completions.c.score),
            sa.func.sum(completions.c.score),
        )
        .join(users, users.c.id == completions.c.user_id)
        .group_by(completions.c.class_id, users.c.unit_id)
    )
    for class_id, unit_id, count, scored, score_sum in conn.execute(stmt):
        r = row(class_id, unit_id)
        r["completed"], r["scored"] = count, scored
        r["score_sum"] = Decimal(str(score_sum)) if score_sum is not None else Decimal(0)
    stmt = (
        sa.select(certificates.c.class_id, users.c.unit_id, sa.func.count())
        .join(users, users.c.id == certificates.c.user_id)
        .where(certificates.c.kind == "certificate", certificates.c.status == "valid")
        .group_by(certificates.c.class_id, users.c.unit_id)
    )
    for class_id, unit_id, count in conn.execute(stmt):
        row(class_id, unit_id)["certified"] = count
    if figures:
        conn.execute(sa.insert(figures_t), list(figures.values()))
    stmt = (
        sa.select(enrolments.c.class_id, enrolments.c.user_id, users.c.unit_id)
        .join(users, users.c.id == enrolments.c.user_id)
        .where(active)
    )
    batch = []
    for class_id, user_id, unit_id in conn.execute(stmt):
        module_id, ends_on = info[class_id]
        batch.append(
            {
                "class_id": class_id,
                "user_id": user_id,
                "unit_id": unit_id,
                "module_id": module_id,
                "ends_on": ends_on,
            }
        )
        if len(batch) >= 5000:
            conn.execute(sa.insert(persons_t), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(persons_t), batch)


def downgrade() -> None:
    op.drop_index("ix_report_unit_persons_period", table_name="report_unit_persons")
    op.drop_table("report_unit_persons")
    op.drop_index("ix_report_unit_figures_period", table_name="report_unit_figures")
    op.drop_index(op.f("ix_report_unit_figures_class_id"), table_name="report_unit_figures")
    op.drop_table("report_unit_figures")
