"""Issue 18, Build 3: the unit report of a standard period (a reporting year, a calendar year)
reads kept distinct-person counters (summary.YearPersons) instead of sorting the year's roster
places; every write path keeps them exact (the random-sequence machine of test_summary.py checks
them too, through summary.differences), a custom range counts from the month person sets and the
roster places of the days it cuts from a month (test_issue18_month_rows.py), and
attendance or grades rewrite neither the person rows nor the counters."""

import importlib.util
import threading
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, event, select, update

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.services import SYSTEM, Actor
from learnhub.classes import services as classes
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.reports import periodic, summary
from learnhub.timeutil import utcnow
from tests.quizzes.test_concurrency import _run_together
from tests.reports.test_periodic import complete, enrol, make_class, new_unit
from tests.reports.test_summary import figures, old_report
from tests.support import wait_until

# Far from the other tests' years (test_summary.py uses 2017).
YEAR = 2013
MIGRATION = next(Path("migrations/versions").glob("*_unit_year_persons.py"))


def periods() -> list[periodic.Period]:
    """The standard periods around the 14/12–15/12 boundary, and custom ranges over them."""
    return [
        periodic.reporting_year(YEAR),
        periodic.reporting_year(YEAR + 1),
        periodic.calendar_year(YEAR),
        periodic.calendar_year(YEAR + 1),
        periodic.Period(periodic.RANGE, date(YEAR, 3, 1), date(YEAR, 12, 20)),
        periodic.Period(periodic.RANGE, date(YEAR, 12, 15), date(YEAR + 1, 12, 31)),
    ]


def assert_exact(viewer, *klasses):
    db.session.flush()
    summary.settle(db.session)  # what a commit does first
    conn = db.session.connection()
    assert summary.differences(conn, [k.id for k in klasses]) == []
    for period in periods():
        assert figures(periodic.build(viewer, period)) == figures(old_report(viewer, period))


class Statements:
    """The SQL the engine runs inside the block."""

    def __init__(self):
        self.seen: list[str] = []

    def __enter__(self):
        self.engine = db.session.get_bind().engine
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def _note(self, _conn, _cursor, statement, *_args):
        self.seen.append(" ".join(statement.split()))

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.seen if table in s]


@pytest.fixture
def boundary(trainer, create_user, unit):
    """Two classes of one module either side of the reporting year's boundary (14/12 and
    15/12: the same calendar year), one of another module, and people of two units."""
    tag = uuid.uuid4().hex[:6]
    late = make_class(trainer, f"YC-{tag}-1", date(YEAR, 12, 14))
    later = make_class(trainer, f"YC-{tag}-2", date(YEAR, 12, 15))
    other = make_class(trainer, f"YC-{tag}-3", date(YEAR, 6, 1), slug="ky-nang-doi-ngoai")
    people = [
        create_user(full_name="Lê Thị Mai", unit=unit("CM-SNV")),
        create_user(full_name="Phạm Văn Bình", unit=unit("CM-SNV")),
        create_user(full_name="Võ Minh Tâm", unit=unit("X-THOI-BINH")),
        create_user(full_name="Đỗ Thị Hoa"),  # no unit
    ]
    return (late, later, other), people


def test_standard_periods_read_the_counters_and_custom_ranges_the_roster(admin, boundary):
    (late, later, other), (a, b, c, d) = boundary
    enrol(late, a, b, c)
    enrol(later, a, d)  # a: in both reporting years, once in the calendar year
    enrol(other, a, c)  # a and c: two modules, one person each in the unit's row
    assert_exact(admin, late, later, other)
    snv = periodic.build(admin, periodic.calendar_year(YEAR), "CM-SNV")
    with Statements() as standard:
        report = periodic.build(admin, periodic.calendar_year(YEAR))
    assert standard.touching("report_unit_year_persons")
    assert standard.touching("report_unit_persons") == []
    with Statements() as custom:
        periodic.build(admin, periods()[4])
    assert custom.touching("report_unit_persons")
    assert custom.touching("report_unit_year_persons") == []
    # Persons are distinct people, enrolments are places: 4 people in 7 places this year.
    assert (report.total.persons, report.total.enrolments) == (4, 7)
    assert (snv.total.persons, snv.total.enrolments) == (2, 4)


def test_attendance_and_grades_rewrite_no_person_row_or_counter(admin, trainer, boundary):
    (late, _later, _other), (a, b, _c, _d) = boundary
    enrol(late, a, b)
    db.session.flush()
    summary.settle(db.session)
    with Statements() as seen:
        attendance.record(
            Actor(trainer), late.sessions[0], a, Status.late, Method.rollcall, utcnow()
        )
        complete(late, b, "7.5")
        db.session.flush()
        summary.settle(db.session)  # what the commit does first
    assert seen.touching("report_unit_figures")  # the figures did change
    assert seen.touching("report_unit_persons") == [
        s for s in seen.touching("report_unit_persons") if s.startswith("SELECT")
    ]
    assert seen.touching("report_unit_year_persons") == []
    assert_exact(admin, late)


def test_every_roster_change_keeps_the_counters(admin, boundary, unit):
    (late, later, other), (a, b, c, d) = boundary
    enrol(late, a, b)
    enrol(later, b, c)
    assert_exact(admin, late, later, other)
    classes.withdraw(Actor(admin), late, b, utcnow())
    assert_exact(admin, late, later, other)
    accounts.update_profile(Actor(admin), b, unit=unit("X-THOI-BINH"))
    assert_exact(admin, late, later, other)
    later.ends_on = date(YEAR + 1, 1, 10)  # leaves the calendar year, stays in reporting YEAR+1
    assert_exact(admin, late, later, other)
    later.module_id = other.module_id
    assert_exact(admin, late, later, other)
    enrol(other, d)
    accounts.update_profile(Actor(admin), d, unit=unit("CM-SNV"))
    assert_exact(admin, late, later, other)


def delete_in_one_flush(obj, enrolments) -> None:
    """Delete *obj* and the enrolments that hold it in a single flush."""
    roster = db.session.scalars(select(Enrolment).where(enrolments)).all()
    with db.session.no_autoflush:
        for enrolment in roster:
            db.session.delete(enrolment)
        db.session.delete(obj)
    db.session.flush()
    db.session.expire_all()


def test_deleting_a_class_with_its_roster_keeps_the_counters(admin, trainer, boundary):
    """A class's enrolments and the class deleted in one flush: its person rows go by ON DELETE
    CASCADE before the flush's bookkeeping could read them, so the slices they counted in are
    noted before the flush. The same for a person."""
    (late, later, other), (a, b, c, d) = boundary
    spare = make_class(trainer, f"YC-{uuid.uuid4().hex[:6]}", date(YEAR, 12, 1), sessions=0)
    enrol(spare, a, b)
    enrol(late, a, c)
    enrol(later, d)
    enrol(other, c, d)
    assert_exact(admin, late, later, other, spare)
    delete_in_one_flush(spare, Enrolment.class_id == spare.id)
    assert_exact(admin, late, later, other)
    # A person and their enrolments, in one flush (ON DELETE CASCADE by the person too).
    delete_in_one_flush(d, Enrolment.user_id == d.id)
    assert_exact(admin, late, later, other)


def test_check_summary_finds_and_fixes_a_wrong_counter(runner, admin, boundary):
    (late, _later, _other), (a, b, _c, _d) = boundary
    enrol(late, a, b)
    db.session.flush()
    summary.settle(db.session)
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0
    # A write that bypasses the bookkeeping (as a hand-made SQL fix would).
    years = summary.YearPersons
    db.session.execute(
        update(years)
        .where(years.starts_on == date(YEAR, 1, 1), years.module_id.is_(None))
        .values(persons=years.persons + 5)
    )
    result = runner.invoke(args=["reports", "check-summary"])
    assert result.exit_code == 1
    assert f"persons of 01/01/{YEAR}–31/12/{YEAR}" in result.output
    assert runner.invoke(args=["reports", "check-summary", "--fix"]).exit_code == 0
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0
    assert_exact(admin, late)


def counters(conn) -> list[tuple]:
    t = summary.YearPersons
    rows = conn.execute(select(t.starts_on, t.ends_on, t.unit_id, t.module_id, t.persons))
    return sorted(rows.all(), key=repr)


def test_the_migration_counts_what_the_bookkeeping_keeps(admin, boundary):
    (late, later, other), (a, b, c, d) = boundary
    enrol(late, a, b, c)
    enrol(later, a, d)
    enrol(other, a)
    db.session.flush()
    summary.settle(db.session)
    conn = db.session.connection()
    kept = counters(conn)
    conn.execute(delete(summary.YearPersons))
    spec = importlib.util.spec_from_file_location("unit_year_persons", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration._fill(conn)
    filled = counters(conn)
    assert filled == kept
    assert any(row[0] == date(YEAR - 1, 12, 15) for row in filled)
    assert summary.differences(conn) == []


def two_writers(app, prepare, write, check) -> None:
    """*prepare*() commits a setting and returns its ids; two transactions then *write*(i, ids)
    at once, the first holding its settled summary uncommitted until the second either waits on
    a lock (PostgreSQL) or settled without waiting (the defect: it then counted without the
    first writer's change); *check*(ids) after both committed."""
    with app.app_context():
        ids = prepare()
        db.session.commit()
    settled, second_settled = threading.Event(), threading.Event()
    engine = app.extensions["learnhub.engine"]

    def second_waits() -> bool:
        """PostgreSQL: the second writer waits on a lock. SQLite: it cannot even begin while
        the first holds the write lock, so there is nothing to wait for."""
        if engine.dialect.name != "postgresql":
            return True
        with engine.connect() as conn:
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
            return conn.exec_driver_sql(waiting).scalar() > 0

    def work(i: int) -> None:
        if i == 1:
            wait_until(settled.is_set, what="the first writer's summary")
        db.write_transaction()
        write(i, ids)
        db.session.flush()
        summary.settle(db.session)  # what the commit does first
        if i == 0:
            settled.set()
            wait_until(
                lambda: second_settled.is_set() or second_waits(),
                what="the second writer to wait or settle",
            )
        else:
            second_settled.set()
        db.session.commit()

    _results, errors = _run_together(app, work)
    assert errors == []
    with app.app_context():
        check(ids)
        db.session.remove()


def trainer_and_classes(tag: str, *ends: date) -> list[TrainingClass]:
    trainer = accounts.create_user(
        SYSTEM,
        full_name="Giảng Viên Đếm",
        login=f"gv-{tag.lower()}",
        password=None,
        roles=[accounts.Grant(Role.trainer, None)],
    )
    return [make_class(trainer, f"{tag}-{i}", day, sessions=1) for i, day in enumerate(ends)]


def people_of(tag: str, *offices) -> list:
    people = []
    for i, office in enumerate(offices):
        person = accounts.create_user(
            SYSTEM, full_name=f"Người Đếm {i}", login=f"{tag.lower()}-{i}", password=None
        )
        person.unit = office
        people.append(person)
    return people


@pytest.mark.no_rollback
def test_two_writers_into_one_unit_year_count_each_other(app):
    """Two transactions enrol two people of one unit into two classes of one module and year;
    the second recounts only after the first committed (PostgreSQL: the slice's advisory lock;
    SQLite: the write lock), so the counter holds both."""
    tag = f"YC-{uuid.uuid4().hex[:6].upper()}"

    def prepare():
        first, second = trainer_and_classes(tag, date(YEAR - 2, 5, 1), date(YEAR - 2, 6, 1))
        office = new_unit(tag, f"Phòng đếm {tag}", "CM-UBND")
        people = people_of(tag, office, office, office)
        classes.enrol(SYSTEM, first, [people[0]])
        return first.id, second.id, [p.id for p in people], office.id

    def write(i, ids):
        klass = db.session.get(TrainingClass, ids[i])
        classes.enrol(SYSTEM, klass, [db.session.get(accounts.User, ids[2][1 + i])])

    def check(ids):
        assert summary.differences(db.session.connection(), ids[:2]) == []
        years = summary.YearPersons
        kept = db.session.scalars(
            select(years.persons).where(
                years.unit_id == ids[3],
                years.starts_on == date(YEAR - 2, 1, 1),
                years.module_id.is_(None),
            )
        ).all()
        assert kept == [3]

    two_writers(app, prepare, write, check)


def test_a_roster_is_recomputed_once_per_transaction_and_at_the_commit(admin, trainer, create_user):
    """classes.enrol looks each person up (an autoflush each): the class's summary is recomputed
    once, by the commit, not once per flush; a rollback forgets what it noted."""
    klass = make_class(trainer, f"YC-{uuid.uuid4().hex[:6]}", date(YEAR, 9, 1), sessions=0)
    people = [create_user(full_name=f"Nguyễn Văn Số {i}") for i in range(5)]
    db.session.commit()  # the test's savepoint: fixtures settled
    with Statements() as seen:
        enrol(klass, *people)
        db.session.commit()
    recomputes = [s for s in seen.seen if s.startswith("DELETE FROM report_unit_figures")]
    assert len(recomputes) == 1
    assert summary.differences(db.session.connection(), [klass.id]) == []
    assert periodic.build(admin, periodic.calendar_year(YEAR)).total.persons >= 5
    classes.withdraw(Actor(admin), klass, people[0], utcnow())
    db.session.flush()
    assert summary._PENDING in db.session.info
    db.session.rollback()
    assert summary._PENDING not in db.session.info
    assert summary.differences(db.session.connection(), [klass.id]) == []
