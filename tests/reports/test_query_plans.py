"""The big-table queries of the reports use an index on SQLite (performance.md, B4).

A few hundred generated rows (bench/seed.py, the generator of `flask bench seed`) are enough:
without ANALYZE statistics, as in production, SQLite's planner chooses the same plans for a
small table as for a large one. Each page is requested as an admin; every statement it runs
that reads enrolments, attendance records, completions or certificates is explained, and each
of those tables must be searched (an index or the primary key narrows it), never scanned whole.
The one allowed scan is the records page's keyset walk: enrolments in id order, no sort, a LIMIT
(it stops after one page).
"""

import re

import pytest
import sqlalchemy as sa

from bench import seed
from learnhub import db
from learnhub.accounts.models import User

BIG_TABLES = ("enrolments", "attendance_records", "completions", "certificates")
TINY = seed.Size(users=150, classes=8, enrolments=400, attendance=2_000, attempts=400)


@pytest.fixture
def seeded(app, db_session):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans are in bench/RESULTS.md")
    seed.generate(TINY, chunk=500)
    return db.session.scalar(sa.select(User).where(User.username == "bench-admin"))


@pytest.fixture
def explained(app, client, login, seeded):
    """Sign in as the generated admin; return a function that requests a page and gives the
    plan of each big-table statement it ran: [(statement, [plan lines])]."""
    engine = app.extensions["learnhub.engine"]
    login(seeded, password=seed.PASSWORD)

    def _explained(url: str) -> list[tuple[str, list[str]]]:
        ran = []

        def record(_conn, _cursor, statement, parameters, _context, _many):
            if any(re.search(rf"\b(FROM|JOIN) {t}\b", statement) for t in BIG_TABLES):
                ran.append((statement, parameters))

        db.session.expire_all()  # as in a real request: nothing cached from the last one
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(url)
            assert response.status_code == 200, url
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        conn = db.session.connection()
        return [
            (s, [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p)])
            for s, p in ran
        ]

    return _explained


def whole_table_reads(statement: str, plan: list[str], keyset: bool = False) -> list[str]:
    """The plan lines that read a big table whole (a table scan, or a full scan of an index)."""
    bad = []
    for line in plan:
        found = re.search(r"\bSCAN (\w+)", line)
        if found is None or found[1] not in BIG_TABLES:
            continue
        walk = (
            keyset
            and found[1] == "enrolments"
            and line.strip(" |`-") == "SCAN enrolments"
            and "LIMIT" in statement
            and not any("FOR ORDER BY" in p for p in plan)
        )
        if not walk:
            bad.append(line)
    return bad


def _report(found: list[tuple[str, list[str]]], keyset: bool = False) -> list[str]:
    problems = []
    for statement, plan in found:
        bad = whole_table_reads(statement, plan, keyset)
        if bad:
            problems.append(f"{' '.join(statement.split())[:160]}\n  " + "\n  ".join(plan))
    return problems


RECORDS_PAGES = (
    "/reports/records",
    "/reports/records?from=01/01/2025&to=31/12/2025&status=completed",
    "/reports/records?status=not-completed&after=200",
    "/reports/records?before=300",
    "/reports/records?unit=CM-UBND&klass=2025",
    "/reports/records?q=nguyen",
)


@pytest.mark.parametrize("url", RECORDS_PAGES)
def test_records_page_reads_big_tables_through_indexes(explained, url):
    found = explained(url)
    assert found, "the page ran no query on enrolments"
    problems = _report(found, keyset=True)
    assert not problems, "whole-table reads:\n" + "\n".join(problems)


def test_records_page_joins_completions_and_certificates_by_index(explained):
    """Each record finds its completion and its certificate through the (class, user) indexes."""
    (_statement, plan), *_ = explained("/reports/records")
    for table in ("completions", "certificates"):
        assert any(
            re.search(rf"SEARCH {table} USING .*INDEX .*\(class_id=\? AND user_id=\?\)", line)
            for line in plan
        ), plan


def test_records_of_a_period_start_the_walk_at_its_first_enrolment(explained):
    """With a period, the walk starts at the first enrolment of the period's classes (found with
    one probe of ix_enrolments_class_id_id per class) instead of at the first enrolment ever."""
    found = explained("/reports/records?from=01/01/2025&to=31/12/2025&status=completed")
    first = [plan for s, plan in found if "min(enrolments.id)" in s]
    assert first
    assert any(
        "COVERING INDEX ix_enrolments_class_id_id (class_id=?)" in line for line in first[0]
    ), first
    walks = [plan for s, plan in found if "LIMIT" in s and "min(" not in s]
    assert any(
        re.search(r"SEARCH enrolments USING INTEGER PRIMARY KEY \(rowid>\?\)", line)
        for plan in walks
        for line in plan
    ), walks


UNIT_PAGES = (
    "/reports/units",
    "/reports/units?period=range&start=01/01/2024&end=31/12/2026",
)


@pytest.mark.parametrize("url", UNIT_PAGES)
def test_unit_report_reads_only_the_period_through_indexes(explained, url):
    """The unit report reads no big table at all: its figures come from the summary rows
    (reports/summary.py; test_summary.py checks they stay exact)."""
    found = explained(url)
    read = {t for s, _plan in found for t in BIG_TABLES if re.search(rf"\b{t}\b", s)}
    assert read == set(), read


def test_postgresql_plans_not_completed_records_as_an_anti_join(app, db_session):
    """ "No completion" is tested on a column of the join's condition, so PostgreSQL rewrites the
    outer join into an anti-join (whatever the data: a rewrite, not a cost choice). Tested on
    completions.id, it estimated one row and joined every enrolment before the first page (6.6 s
    for an HR officer at size M, bench/RESULTS.md B4M)."""
    from learnhub.reports import records

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's outer-join reduction")
    stmt = records.statement(records.Filters(status=records.NOT_COMPLETED), None).limit(51)
    sql = str(stmt.compile(db.session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = [row[0] for row in db.session.connection().exec_driver_sql("EXPLAIN " + sql)]
    assert any("Anti Join" in line for line in plan), plan
