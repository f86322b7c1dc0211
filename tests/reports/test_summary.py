"""The unit report's summary rows (reports/summary.py): after every write path (enrol by hand,
file or pasted list; withdraw; attendance; completion and regrade; certificate issue, revoke and
re-issue; a person's unit; unit mergers; a class's dates and module; deletions) the rows equal
a recomputation from the base tables and the report (of a year and of custom ranges) equals the
old full scan (full_scan.py);
a hypothesis state machine does the same after random sequences; the check command and the
migration's fill."""

import contextlib
import importlib.util
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, insert, select, update

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import User
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Completion, Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate, RevokeReason
from learnhub.classes import matching
from learnhub.classes import services as classes
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.orgunits import services as units
from learnhub.reports import periodic, summary
from learnhub.timeutil import utcnow
from tests.reports import full_scan
from tests.reports.test_periodic import complete, enrol, make_class, new_unit

# Far from the other tests' years: only this file's classes count in these periods.
YEAR = 2017
PERIOD = periodic.calendar_year(YEAR)
#: Custom ranges: one cutting its first and last month (read from the per-class rows), one of
#: whole months only, into the next year (read from the month rows).
RANGES = (
    periodic.Period(periodic.RANGE, date(YEAR, 2, 15), date(YEAR, 11, 15)),
    periodic.Period(periodic.RANGE, date(YEAR, 1, 1), date(YEAR + 1, 2, 28)),
)
MIGRATION = next(Path("migrations/versions").glob("*_unit_report_summary.py"))
MONTHS_MIGRATION = next(Path("migrations/versions").glob("*_unit_report_month_rows.py"))


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    """The certificate's PDF is tested with the certificates; here only its row counts."""
    monkeypatch.setattr(
        certificates, "render_pdf", lambda cert, issuer: f"%PDF stub {cert.code}".encode()
    )


def figures(report: periodic.Report) -> tuple:
    """Everything the page, XLSX and PDF print: the rows' and modules' strings."""
    return (
        [(r.key, r.name, periodic.strings(r.tally)) for r in report.rows],
        periodic.strings(report.total),
        [(r.key, r.name, periodic.strings(r.tally)) for r in report.modules],
        periodic.strings(report.module_total),
    )


def old_report(viewer, period, code=""):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(periodic, "_counts", full_scan.counts)
        return periodic.build(viewer, period, code)


def assert_exact(viewer, *klasses, period=PERIOD):
    """The stored rows equal a recomputation; the report equals the old full scan."""
    db.session.flush()
    summary.settle(db.session)  # what a commit does first
    ids = [k.id for k in klasses]
    assert summary.differences(db.session.connection(), ids) == []
    for each in (period, *RANGES):
        assert figures(periodic.build(viewer, each)) == figures(old_report(viewer, each))


@pytest.fixture
def setting(admin, trainer, create_user, unit):
    klass = make_class(trainer, f"SUM-{uuid.uuid4().hex[:6]}", date(YEAR, 3, 10))
    people = [
        create_user(full_name="Lê Thị Mai", unit=unit("CM-SNV")),
        create_user(full_name="Phạm Văn Bình", unit=unit("X-THOI-BINH")),
        create_user(full_name="Võ Minh Tâm"),  # no unit
    ]
    return klass, people


def test_old_full_scan_equals_summary_report(admin, hr, create_user, unit, trainer):
    first = make_class(trainer, "SUM-CMP-1", date(YEAR, 4, 2))
    second = make_class(trainer, "SUM-CMP-2", date(YEAR, 5, 2), slug="ky-nang-doi-ngoai")
    a = create_user(full_name="Nguyễn Thị Hồng Nhung", unit=unit("CM-SNV"))
    b = create_user(full_name="Trần Văn Thới", unit=unit("X-THOI-BINH"))
    enrol(first, a, b)
    enrol(second, a)
    complete(first, a, "8.5")
    complete(first, b, None)
    complete(second, a, "7.25")
    attendance.record(Actor(trainer), first.sessions[0], a, Status.late, Method.rollcall, utcnow())
    certificates.issue(Actor(admin), first, a, utcnow())
    for viewer, code in ((admin, ""), (admin, "CM-UBND"), (hr, ""), (hr, "CM-SNV")):
        for period in (PERIOD, *RANGES):
            new = figures(periodic.build(viewer, period, code))
            assert new == figures(old_report(viewer, period, code))
    assert any(r[2]["enrolments"] != "0" for r in figures(periodic.build(admin, PERIOD))[0])


def test_every_enrolment_path_keeps_the_summary(admin, trainer, setting):
    klass, (a, b, c) = setting
    classes.enrol(Actor(trainer), klass, [a])
    assert_exact(admin, klass)
    classes.enrol_matched(Actor(trainer), klass, matching.match_pasted(b.username))
    assert_exact(admin, klass)
    classes.enrol_matched(Actor(trainer), klass, matching.Match(users=[c]))
    assert_exact(admin, klass)
    assert db.session.scalar(
        select(summary.UnitFigures.enrolments).where(
            summary.UnitFigures.class_id == klass.id,
            summary.UnitFigures.unit_id == a.unit_id,
        )
    )


def test_withdraw_and_come_back_keep_the_summary(admin, trainer, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    classes.withdraw(Actor(trainer), klass, a, utcnow())
    assert_exact(admin, klass)
    persons = select(summary.UnitPerson.user_id).where(summary.UnitPerson.class_id == klass.id)
    assert set(db.session.scalars(persons)) == {b.id}
    enrol(klass, a)
    assert_exact(admin, klass)
    assert set(db.session.scalars(persons)) == {a.id, b.id}


def test_attendance_keeps_the_summary(admin, trainer, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    for status in (Status.present, Status.absent, Status.excused, Status.late):
        attendance.record(Actor(trainer), klass.sessions[0], a, status, Method.rollcall, utcnow())
        assert_exact(admin, klass)


def test_completion_and_regrade_keep_the_summary(admin, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    complete(klass, a, "8.5")
    complete(klass, b, None)
    assert_exact(admin, klass)
    done = db.session.scalars(select(Completion).where(Completion.class_id == klass.id)).all()
    for completion in done:
        completion.score = Decimal("6.75")
    assert_exact(admin, klass)
    row = db.session.scalars(
        select(summary.UnitFigures).where(summary.UnitFigures.class_id == klass.id)
    ).all()
    assert sum(r.scored for r in row) == 2


def test_certificate_issue_revoke_reissue_keep_the_summary(admin, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    complete(klass, a)
    complete(klass, b)
    cert = certificates.issue(Actor(admin), klass, a, utcnow())
    other = certificates.issue(Actor(admin), klass, b, utcnow())
    assert_exact(admin, klass)
    certificates.reissue(Actor(admin), cert, utcnow(), "Sai họ tên")
    assert_exact(admin, klass)
    certificates.revoke(Actor(admin), other, RevokeReason.error, "", utcnow())
    assert_exact(admin, klass)
    certified = select(summary.UnitFigures.certified).where(
        summary.UnitFigures.class_id == klass.id
    )
    assert sum(db.session.scalars(certified)) == 1


def test_a_persons_unit_change_moves_their_figures(admin, trainer, setting, unit):
    klass, (a, _b, c) = setting
    other = make_class(trainer, f"SUM-{uuid.uuid4().hex[:6]}", date(YEAR, 8, 1))
    enrol(klass, a, c)
    enrol(other, a)
    complete(klass, a)
    accounts.update_profile(Actor(admin), a, unit=unit("X-THOI-BINH"))
    assert_exact(admin, klass, other)
    accounts.update_profile(Actor(admin), c, unit=unit("CM-SNV"))
    assert_exact(admin, klass, other)
    units_of = select(summary.UnitPerson.unit_id).where(summary.UnitPerson.user_id == a.id)
    assert set(db.session.scalars(units_of)) == {unit("X-THOI-BINH").id}


def test_a_unit_merger_keeps_the_report_exact(admin, create_user, setting):
    klass, _people = setting
    tag = uuid.uuid4().hex[:4].upper()
    old = new_unit(f"M-OLD-{tag}", "Phòng cũ", "CM-UBND")
    new = new_unit(f"M-NEW-{tag}", "Phòng mới", "CM-UBND")
    person = create_user(full_name="Đặng Thu Hà", unit=old)
    enrol(klass, person)
    units.save_unit(
        Actor(admin),
        units.UnitData(
            code=old.code,
            name=old.name,
            kind=old.kind,
            parent_code="CM-UBND",
            successor_code=new.code,
        ),
    )
    assert_exact(admin, klass)
    row = {r[0]: r[2] for r in figures(periodic.build(admin, PERIOD, "CM-UBND"))[0]}
    assert row[new.code]["enrolments"] == "1"


def test_class_dates_and_module_keep_the_summary(admin, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    complete(klass, a)
    klass.ends_on = date(YEAR + 1, 1, 5)  # out of the period
    assert_exact(admin, klass)
    assert figures(periodic.build(admin, PERIOD))[1]["enrolments"] == "0"
    klass.ends_on = date(YEAR, 11, 30)
    klass.module = by_slug("ky-nang-doi-ngoai")
    assert_exact(admin, klass)
    modules = select(summary.UnitPerson.module_id).where(summary.UnitPerson.class_id == klass.id)
    assert set(db.session.scalars(modules)) == {by_slug("ky-nang-doi-ngoai").id}


def test_deletions_keep_the_summary(admin, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    complete(klass, a)
    cert = certificates.issue(Actor(admin), klass, a, utcnow())
    db.session.delete(cert)
    assert_exact(admin, klass)
    # This class's completion (other tests' committed completions may exist).
    db.session.delete(db.session.scalars(select(Completion).filter_by(class_id=klass.id)).one())
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.class_id == klass.id)):
        db.session.delete(enrolment)
    assert_exact(admin, klass)
    rows = select(summary.UnitFigures).where(summary.UnitFigures.class_id == klass.id)
    assert db.session.scalars(rows).all() == []


def test_check_summary_command(runner, admin, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    db.session.flush()
    summary.settle(db.session)
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0
    # A write that bypasses the session (as a hand-made SQL fix would) is found and fixed.
    db.session.execute(
        update(summary.UnitFigures)
        .where(summary.UnitFigures.class_id == klass.id)
        .values(enrolments=99)
    )
    result = runner.invoke(args=["reports", "check-summary"])
    assert result.exit_code == 1
    assert f"class {klass.id} figures" in result.output
    assert runner.invoke(args=["reports", "check-summary", "--fix"]).exit_code == 0
    assert runner.invoke(args=["reports", "check-summary"]).exit_code == 0


def test_migration_fill_equals_the_bookkeeping(admin, trainer, setting):
    klass, (a, b, _c) = setting
    enrol(klass, a, b)
    complete(klass, a, "9")
    attendance.record(
        Actor(trainer), klass.sessions[1], b, Status.absent, Method.rollcall, utcnow()
    )
    db.session.flush()
    summary.settle(db.session)
    conn = db.session.connection()
    kept = summary.differences(conn)
    for table in (
        summary.UnitFigures,
        summary.UnitPerson,
        summary.MonthFigures,
        summary.MonthPersons,
    ):
        conn.execute(delete(table))
    # As an upgrade from before the summary fills it: this migration, then the month rows'.
    for path in (MIGRATION, MONTHS_MIGRATION):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration._fill(conn)
    assert summary.differences(conn) == kept == []


# -- random sequences ------------------------------------------------------------------------

LEARNERS = 4
CLASSES = 3
STATUSES = (Status.present, Status.late, Status.excused, Status.absent)


def machine(admin, trainer, create_user):
    class Writes(RuleBasedStateMachine):
        """Three classes (two modules), four people in two fresh units and none, per example."""

        @initialize()
        def setup(self):
            tag = uuid.uuid4().hex[:6].upper()
            self.actor = Actor(admin)
            self.units = [
                new_unit(f"SU-{tag}-{i}", f"Phòng thử {tag} {i}", "CM-UBND") for i in range(3)
            ]
            self.klasses = [
                make_class(
                    trainer,
                    f"SU-{tag}-{i}",
                    date(YEAR, 2 + i, 10),
                    slug=("doi-ngoai-nhan-dan", "ky-nang-doi-ngoai")[i % 2],
                )
                for i in range(CLASSES)
            ]
            self.people = [
                create_user(full_name=f"Học Viên {tag} {i}", unit=self.units[i % 3] if i else None)
                for i in range(LEARNERS)
            ]

        def certs(self, klass, **where):
            stmt = select(Certificate).where(Certificate.class_id == klass.id)
            return db.session.scalars(stmt.filter_by(**where).order_by(Certificate.id)).all()

        @rule(p=st.integers(0, LEARNERS - 1), k=st.integers(0, CLASSES - 1))
        def enrol(self, p, k):
            classes.enrol(self.actor, self.klasses[k], [self.people[p]])

        @rule(p=st.integers(0, LEARNERS - 1), k=st.integers(0, CLASSES - 1))
        def withdraw(self, p, k):
            with contextlib.suppress(classes.ClassError):
                classes.withdraw(self.actor, self.klasses[k], self.people[p], utcnow())

        @rule(
            p=st.integers(0, LEARNERS - 1),
            k=st.integers(0, CLASSES - 1),
            s=st.integers(0, 1),
            status=st.sampled_from(STATUSES),
        )
        def attend(self, p, k, s, status):
            klass, person = self.klasses[k], self.people[p]
            if classes.is_enrolled(klass, person):
                session = klass.sessions[s]
                attendance.record(self.actor, session, person, status, Method.rollcall, utcnow())

        @rule(
            p=st.integers(0, LEARNERS - 1),
            k=st.integers(0, CLASSES - 1),
            score=st.sampled_from([None, "5", "7.25", "8.5", "10"]),
        )
        def complete_or_regrade(self, p, k, score):
            klass, person = self.klasses[k], self.people[p]
            found = db.session.scalar(
                select(Completion).filter_by(class_id=klass.id, user_id=person.id)
            )
            if found is not None:
                found.score = Decimal(score) if score else None
                db.session.flush()
            elif classes.is_enrolled(klass, person):
                complete(klass, person, score)

        @rule(p=st.integers(0, LEARNERS - 1), k=st.integers(0, CLASSES - 1))
        def issue(self, p, k):
            with contextlib.suppress(certificates.CertificateError):
                certificates.issue(self.actor, self.klasses[k], self.people[p], utcnow())

        @rule(k=st.integers(0, CLASSES - 1), data=st.data())
        def revoke_or_reissue(self, k, data):
            valid = self.certs(self.klasses[k], status="valid")
            if valid:
                cert = data.draw(st.sampled_from(valid))
                if data.draw(st.booleans()):
                    certificates.revoke(self.actor, cert, RevokeReason.other, "", utcnow())
                else:
                    certificates.reissue(self.actor, cert, utcnow(), "Sai thông tin")

        @rule(p=st.integers(0, LEARNERS - 1), u=st.integers(0, 2))
        def move_person(self, p, u):
            accounts.update_profile(self.actor, self.people[p], unit=self.units[u])

        @rule(u=st.integers(0, 2), v=st.integers(0, 2))
        def merge_units(self, u, v):
            old, new = self.units[u], self.units[v]
            with contextlib.suppress(units.UnitError):
                units.save_unit(
                    self.actor,
                    units.UnitData(
                        code=old.code,
                        name=old.name,
                        kind=old.kind,
                        parent_code="CM-UBND",
                        successor_code=new.code if u != v else "",
                    ),
                )

        @rule(k=st.integers(0, CLASSES - 1), month=st.integers(1, 14))
        def move_class_end(self, k, month):
            klass = self.klasses[k]  # months 13 and 14 fall in the next year (out of the period)
            klass.ends_on = date(YEAR + (month > 12), (month - 1) % 12 + 1, 20)
            klass.starts_on = min(klass.starts_on, klass.ends_on)
            db.session.flush()

        @rule(k=st.integers(0, CLASSES - 1), late=st.sampled_from([None, 0.5, 1.0]))
        def change_rule(self, k, late):
            klass = self.klasses[k]  # the weights of its late periods: another month row
            klass.rule = {} if late is None else {"late_weight": late}
            db.session.flush()

        @invariant()
        def exact(self):
            if hasattr(self, "klasses"):
                assert_exact(admin, *self.klasses)

    return Writes


def test_summary_equals_recomputation_after_random_writes(admin, trainer, create_user):
    run_state_machine_as_test(
        machine(admin, trainer, create_user),
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_orm_bulk_statements_keep_the_summary(admin, unit, setting):
    """A bulk UPDATE/DELETE/INSERT through the session bypasses the flush; the session's
    do_orm_execute hook recomputes the classes it touched."""
    klass, (a, b, c) = setting
    db.session.execute(insert(Enrolment), [{"class_id": klass.id, "user_id": a.id}])
    assert_exact(admin, klass)
    enrol(klass, b, c)
    db.session.execute(
        update(Enrolment).where(Enrolment.user_id == b.id).values(withdrawn_at=utcnow())
    )
    assert_exact(admin, klass)
    db.session.execute(update(User).where(User.id == c.id).values(unit_id=unit("CM-SNV").id))
    assert_exact(admin, klass)
    db.session.execute(
        update(TrainingClass)
        .where(TrainingClass.id == klass.id)
        .values(ends_on=date(YEAR + 1, 1, 2))
    )
    assert_exact(admin, klass)
    db.session.execute(delete(Enrolment).where(Enrolment.user_id == a.id))
    db.session.expire_all()
    assert_exact(admin, klass)
