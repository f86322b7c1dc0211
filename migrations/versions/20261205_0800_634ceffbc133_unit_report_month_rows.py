"""unit report: month rows (the additive figures per month, unit, module and rule; the people
of each module and month as a bitset over user ids) for ranges of whole months, and the class's
version and rule copied into report_unit_figures (the month rows are keyed by them); filled from
the per-class rows (reports/summary.py keeps them afterwards)

Revision ID: 634ceffbc133
Revises: e2b7c5d90a14
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "634ceffbc133"
down_revision: str | None = "e2b7c5d90a14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = (
    "enrolments",
    "present_periods",
    "late_periods",
    "excused_periods",
    "absent_periods",
    "completed",
    "scored",
    "score_sum",
    "certified",
)


def upgrade() -> None:
    op.create_table(
        "report_module_month_persons",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("persons", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("month", "module_id", name=op.f("pk_report_module_month_persons")),
    )
    op.create_table(
        "report_unit_month_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit_key", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("version_key", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES[:7]),
        sa.Column("score_sum", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("certified", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_unit_month_figures")),
        sa.UniqueConstraint(
            "month",
            "unit_key",
            "module_id",
            "version_key",
            "rule",
            name="uq_report_unit_month_figures_key",
        ),
    )
    with op.batch_alter_table("report_unit_figures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rule", sa.Text(), nullable=True))
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    """The new columns and rows from the existing per-class rows (Core tables as they are at
    this revision)."""
    meta = sa.MetaData()
    figures = sa.Table("report_unit_figures", meta, autoload_with=conn)
    persons = sa.Table("report_unit_persons", meta, autoload_with=conn)
    classes = sa.Table("classes", meta, autoload_with=conn)
    months = sa.Table("report_unit_month_figures", meta, autoload_with=conn)
    sets = sa.Table("report_module_month_persons", meta, autoload_with=conn)
    of_class = classes.c.id == figures.c.class_id
    conn.execute(
        figures.update().values(
            version_id=sa.select(classes.c.version_id).where(of_class).scalar_subquery(),
            rule=sa.select(sa.cast(classes.c.rule, sa.Text)).where(of_class).scalar_subquery(),
        )
    )
    if conn.dialect.name == "postgresql":
        month = sa.cast(sa.func.date_trunc("month", figures.c.ends_on), sa.Date)
    else:
        month = sa.func.date(figures.c.ends_on, "start of month")
    key = (
        month,
        sa.func.coalesce(figures.c.unit_id, 0),
        figures.c.module_id,
        sa.func.coalesce(figures.c.version_id, 0),
        sa.func.coalesce(figures.c.rule, ""),
    )
    sums = sa.select(*key, *(sa.func.sum(figures.c[name]) for name in FIGURES)).group_by(*key)
    columns = ("month", "unit_key", "module_id", "version_key", "rule", *FIGURES)
    conn.execute(sa.insert(months).from_select(columns, sums))
    found: dict[tuple, bytearray] = {}
    places = sa.select(persons.c.module_id, persons.c.ends_on, persons.c.user_id)
    for module_id, ends_on, user_id in conn.execute(places):
        into = found.setdefault((module_id, ends_on.replace(day=1)), bytearray())
        if len(into) <= user_id >> 3:
            into.extend(bytes((user_id >> 3) + 1 - len(into)))
        into[user_id >> 3] |= 1 << (user_id & 7)
    if found:
        conn.execute(
            sa.insert(sets),
            [
                {"module_id": m, "month": month, "persons": bytes(into)}
                for (m, month), into in sorted(found.items())
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("report_unit_figures", schema=None) as batch_op:
        batch_op.drop_column("rule")
        batch_op.drop_column("version_id")
    op.drop_table("report_unit_month_figures")
    op.drop_table("report_module_month_persons")
