"""Issue 18, Build 3: a unit report over a custom range reads its whole months from month rows
(summary.MonthFigures: the additive figures per month, unit, module and rule; summary.MonthPersons:
each module's people of a month as a set) and only the days of a month it cuts from the per-class
rows; every write path keeps the month rows exact (the random-sequence machine of
test_summary.py compares them and these ranges too), also when two writers move one row."""

import uuid
from datetime import date

import pytest
from sqlalchemy import select, update

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.services import SYSTEM, Actor
from learnhub.classes import services as classes
from learnhub.classes.models import TrainingClass
from learnhub.reports import periodic, summary
from learnhub.timeutil import utcnow
from tests.reports.test_issue18_year_counters import (
    Statements,
    people_of,
    trainer_and_classes,
    two_writers,
)
from tests.reports.test_periodic import enrol, make_class, new_unit
from tests.reports.test_summary import figures, old_report

# Far from the other tests' years (test_summary.py: 2017, the year counters: 2011–2014).
YEAR = 2009
WHOLE = periodic.Period(periodic.RANGE, date(YEAR, 1, 1), date(YEAR + 1, 12, 31))
CUT = periodic.Period(periodic.RANGE, date(YEAR, 3, 15), date(YEAR, 6, 10))


def assert_exact(viewer, *klasses):
    db.session.flush()
    summary.settle(db.session)  # what a commit does first
    assert summary.differences(db.session.connection(), [k.id for k in klasses]) == []
    for period in (WHOLE, CUT):
        assert figures(periodic.build(viewer, period)) == figures(old_report(viewer, period))


@pytest.fixture
def spread(trainer, create_user, unit):
    """Classes ending in March (cut by CUT), April and in the next year, one of another module,
    and people of two units and none."""
    tag = uuid.uuid4().hex[:6]
    march = make_class(trainer, f"MR-{tag}-1", date(YEAR, 3, 20))
    april = make_class(trainer, f"MR-{tag}-2", date(YEAR, 4, 30))
    later = make_class(trainer, f"MR-{tag}-3", date(YEAR + 1, 1, 1))
    other = make_class(trainer, f"MR-{tag}-4", date(YEAR, 4, 2), slug="ky-nang-doi-ngoai")
    people = [
        create_user(full_name="Lê Thị Mai", unit=unit("CM-SNV")),
        create_user(full_name="Phạm Văn Bình", unit=unit("CM-SNV")),
        create_user(full_name="Võ Minh Tâm", unit=unit("X-THOI-BINH")),
        create_user(full_name="Đỗ Thị Hoa"),  # no unit
    ]
    return (march, april, later, other), people


def test_whole_months_read_the_month_rows_and_cut_months_the_class_rows(admin, spread):
    (march, april, later, other), (a, b, c, d) = spread
    enrol(march, a, b, d)
    enrol(april, a, c)  # a: twice in one module, once in the range's persons
    enrol(later, a, b)
    enrol(other, a, d)  # a and d: two modules
    attendance.record(Actor(admin), april.sessions[0], c, Status.late, Method.rollcall, utcnow())
    assert_exact(admin, march, april, later, other)
    with Statements() as whole:
        report = periodic.build(admin, WHOLE)
    assert whole.touching("report_module_month_persons")
    assert whole.touching("report_unit_month_figures")
    assert whole.touching("report_unit_persons") == []
    # The per-class rows are only probed for the classes counted per module (no sums).
    assert all("sum(" not in s.lower() for s in whole.touching("report_unit_figures"))
    assert report.total.persons == 4
    assert report.total.enrolments == 9
    ky_nang = next(r for r in report.modules if r.key == "ky-nang-doi-ngoai")
    assert ky_nang.tally.persons == 2
    with Statements() as cut:
        report = periodic.build(admin, CUT)
    # 15/03–31/03 and 01/06–10/06 from the class rows, April and May from the month rows.
    assert cut.touching("report_unit_persons")
    assert cut.touching("report_module_month_persons")
    assert report.total.persons == 4
    assert report.total.enrolments == 7


def test_a_person_moving_unit_changes_no_person_set(admin, spread, unit):
    (march, april, _later, _other), (a, b, _c, _d) = spread
    enrol(march, a, b)
    enrol(april, a)
    assert_exact(admin, march, april)
    sets = select(summary.MonthPersons.persons).order_by(summary.MonthPersons.month)
    before = db.session.scalars(sets).all()
    with Statements() as moved:
        accounts.update_profile(Actor(admin), a, unit=unit("X-THOI-BINH"))
        assert_exact(admin, march, april)
    assert db.session.scalars(sets).all() == before
    assert [s for s in moved.touching("report_module_month_persons") if "UPDATE" in s] == []
    row = next(r for r in periodic.build(admin, WHOLE).rows if r.key == "X-THOI-BINH")
    assert row.tally.persons >= 1


def test_a_class_rule_moves_its_month_rows(admin, spread):
    """The attendance weights follow the class's rule: a change of it moves the class's figures
    to another month row (the report weighs each row's periods by its rule)."""
    (_march, april, _later, _other), (a, b, _c, _d) = spread
    enrol(april, a, b)
    for person in (a, b):
        attendance.record(
            Actor(admin), april.sessions[0], person, Status.late, Method.rollcall, utcnow()
        )
    assert_exact(admin, april)
    rate = periodic.build(admin, WHOLE).total.attendance_rate
    april.rule = {"late_weight": 0.5}
    assert_exact(admin, april)
    assert periodic.build(admin, WHOLE).total.attendance_rate < rate
    db.session.execute(update(TrainingClass).where(TrainingClass.id == april.id).values(rule={}))
    db.session.expire_all()
    assert_exact(admin, april)
    assert periodic.build(admin, WHOLE).total.attendance_rate == rate


def test_check_summary_finds_and_fixes_wrong_month_rows(runner, admin, spread):
    (march, april, _later, _other), (a, b, _c, _d) = spread
    enrol(march, a, b)
    enrol(april, a)
    db.session.flush()
    summary.settle(db.session)
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0
    # Writes that bypass the bookkeeping (as a hand-made SQL fix would).
    db.session.execute(
        update(summary.MonthFigures)
        .where(summary.MonthFigures.month == date(YEAR, 4, 1))
        .values(enrolments=summary.MonthFigures.enrolments + 1)
    )
    db.session.execute(
        update(summary.MonthPersons)
        .where(summary.MonthPersons.month == date(YEAR, 3, 1))
        .values(persons=summary.blob(1 << b.id))
    )
    result = runner.invoke(args=["reports", "check-summary"])
    assert result.exit_code == 1
    assert f"figures of 04/{YEAR}" in result.output
    assert f"persons of module {march.module_id} in 03/{YEAR}" in result.output
    assert runner.invoke(args=["reports", "check-summary", "--fix"]).exit_code == 0
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0
    assert_exact(admin, march, april)


@pytest.mark.no_rollback
def test_two_writers_into_one_module_month_keep_both_people(app):
    """Two people of two units (two year counters: no shared lock there) enrolled at once into
    two classes of one module ending in one month: the month's person set, which holds a third
    person already, holds all three. (Here the second writer reads the set after the first
    changed it, and PostgreSQL's upsert already waits for the first; the row lock move_month_persons
    takes also covers a second writer that read the set before the first changed it.)"""
    tag = uuid.uuid4().hex[:6].upper()
    month = date(YEAR - 2, 5, 1)

    def prepare():
        first, second = trainer_and_classes(
            f"MR-{tag}", month.replace(day=5), month.replace(day=25)
        )
        offices = [new_unit(f"MR-{tag}-{i}", f"Phòng tháng {tag} {i}", "CM-UBND") for i in (1, 2)]
        people = people_of(f"MR-{tag}", *offices, offices[0])
        # The month's set exists (committed) before the two writers change it.
        enrol(first, people[2])
        return first.id, second.id, [p.id for p in people]

    def write(i, ids):
        klass = db.session.get(TrainingClass, ids[i])
        classes.enrol(SYSTEM, klass, [db.session.get(accounts.User, ids[2][i])])

    def check(ids):
        assert summary.differences(db.session.connection(), ids[:2]) == []
        module_id = db.session.get(TrainingClass, ids[0]).module_id
        stored = db.session.scalar(
            select(summary.MonthPersons.persons).where(
                summary.MonthPersons.module_id == module_id, summary.MonthPersons.month == month
            )
        )
        people = summary.bits(stored)
        assert all(people >> user_id & 1 for user_id in ids[2])

    two_writers(app, prepare, write, check)


@pytest.mark.no_rollback
def test_two_writers_into_one_month_row_add_up(app):
    """Attendance taken at once in two classes of one module and month for people of one unit
    (no person row changes, no year lock): both writers' periods are in the month's row."""
    tag = uuid.uuid4().hex[:6].upper()
    month = date(YEAR - 2, 7, 1)

    def prepare():
        first, second = trainer_and_classes(
            f"MR-{tag}", month.replace(day=5), month.replace(day=25)
        )
        office = new_unit(f"MR-{tag}", f"Phòng tháng {tag}", "CM-UBND")
        people = people_of(f"MR-{tag}", office, office)
        enrol(first, people[0])
        enrol(second, people[1])
        return first.id, second.id, [p.id for p in people], office.id

    def write(i, ids):
        klass = db.session.get(TrainingClass, ids[i])
        person = db.session.get(accounts.User, ids[2][i])
        attendance.record(SYSTEM, klass.sessions[0], person, Status.late, Method.rollcall, utcnow())

    def check(ids):
        assert summary.differences(db.session.connection(), ids[:2]) == []
        late = db.session.scalar(
            select(summary.MonthFigures.late_periods).where(
                summary.MonthFigures.month == month, summary.MonthFigures.unit_key == ids[3]
            )
        )
        assert late == 8  # two sessions' 4 periods, one from each writer

    two_writers(app, prepare, write, check)
