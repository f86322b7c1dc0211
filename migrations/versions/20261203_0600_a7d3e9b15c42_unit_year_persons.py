"""unit report: distinct persons per standard year (reporting and calendar), unit and module,
counted from report_unit_persons (reports/summary.py keeps them afterwards); an index on
report_unit_persons by person, for moving the counters by the people a write concerns

Revision ID: a7d3e9b15c42
Revises: b8e2d5a17c90
Create Date: 2026-12-03 06:00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3e9b15c42"
down_revision: str | None = "b8e2d5a17c90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_unit_year_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("module_id", sa.Integer(), nullable=True),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_unit_year_persons")),
    )
    op.create_index(
        "ix_report_unit_year_persons_period",
        "report_unit_year_persons",
        ["starts_on", "ends_on", "unit_id"],
        unique=False,
    )
    op.create_index("ix_report_unit_persons_user", "report_unit_persons", ["user_id"], unique=False)
    _fill(op.get_bind())


def _spans(first: date, last: date) -> list[tuple[date, date]]:
    """The reporting years (15/12 of the year before to 14/12) and calendar years that hold a
    day from *first* to *last* (as reports/periodic.py defines them at this revision)."""
    found = set()
    for year in range(first.year, last.year + 2):
        found.add((date(year - 1, 12, 15), date(year, 12, 14)))
        if year <= last.year:
            found.add((date(year, 1, 1), date(year, 12, 31)))
    return sorted(found)


def _fill(conn: sa.Connection) -> None:
    """The counters of the existing person rows (Core tables as they are at this revision)."""
    meta = sa.MetaData()
    persons = sa.Table("report_unit_persons", meta, autoload_with=conn)
    years = sa.Table("report_unit_year_persons", meta, autoload_with=conn)
    first, last = conn.execute(
        sa.select(sa.func.min(persons.c.ends_on), sa.func.max(persons.c.ends_on))
    ).one()
    if first is None:
        return
    columns = ("starts_on", "ends_on", "unit_id", "module_id", "persons")
    count = sa.func.count(sa.distinct(persons.c.user_id))
    for starts_on, ends_on in _spans(first, last):
        span = (
            sa.literal(starts_on, sa.Date).label("starts_on"),
            sa.literal(ends_on, sa.Date).label("ends_on"),
        )
        within = (persons.c.ends_on >= starts_on, persons.c.ends_on <= ends_on)
        per_module = (
            sa.select(*span, persons.c.unit_id, persons.c.module_id, count)
            .where(*within)
            .group_by(persons.c.unit_id, persons.c.module_id)
        )
        every_module = (
            sa.select(*span, persons.c.unit_id, sa.null().label("module_id"), count)
            .where(*within)
            .group_by(persons.c.unit_id)
        )
        for stmt in (per_module, every_module):
            conn.execute(sa.insert(years).from_select(columns, stmt))


def downgrade() -> None:
    op.drop_index("ix_report_unit_persons_user", table_name="report_unit_persons")
    op.drop_index("ix_report_unit_year_persons_period", table_name="report_unit_year_persons")
    op.drop_table("report_unit_year_persons")
