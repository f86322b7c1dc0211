"""Simultaneous check-ins of one learner give one attendance record (SQLite and PostgreSQL)."""

import uuid
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import User
from learnhub.attendance import services as attendance
from learnhub.attendance.models import AttendanceRecord, Method, Status
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.classes.models import ClassSession, Enrolment
from tests.quizzes.test_concurrency import _run_together

pytestmark = pytest.mark.no_rollback

#: Now in these tests: after the classes' sessions (nothing is recorded before a session opens).
AFTER = datetime(2026, 12, 9, 5, 0)  # noqa: DTZ001 (naive UTC, as stored)


def test_simultaneous_check_ins_give_one_record(app):
    with app.app_context():
        learner = accounts.create_user(
            SYSTEM,
            full_name="Võ Thị Điểm Danh",
            login=f"diemdanh-{uuid.uuid4().hex[:8]}",
            password="điểm danh đồng thời",
        )
        training_class = classes.open_class(
            SYSTEM,
            catalog.by_slug("doi-ngoai-nhan-dan"),
            classes.ClassData(
                code=f"DD-{uuid.uuid4().hex[:6]}",
                title="Lớp điểm danh",
                starts_on=date(2026, 12, 1),
                ends_on=date(2026, 12, 1),
            ),
            [],
        )
        (session,) = classes.add_sessions(
            SYSTEM, training_class, date(2026, 12, 1), 1, time(8), time(11), 4
        )
        classes.enrol(SYSTEM, training_class, [learner])
        db.session.commit()
        ids = (session.id, learner.id)
        db.session.remove()

    def check_in(i):
        db.write_transaction()
        session = db.session.get(ClassSession, ids[0])
        user = db.session.get(User, ids[1])
        row = attendance.record(
            SYSTEM, session, user, Status.present, Method.qr, AFTER, ip=f"10.0.0.{i}"
        )
        db.session.commit()
        return row.id

    results, errors = _run_together(app, check_in, n=4)
    assert errors == []
    assert len(set(results)) == 1
    with app.app_context():
        rows = db.session.scalars(
            select(AttendanceRecord).where(AttendanceRecord.session_id == ids[0])
        ).all()
        assert len(rows) == 1
        db.session.remove()


def test_simultaneous_records_keep_the_period_counters_exact(app):
    """Eight sessions of one learner recorded at the same moment (a roll call and check-ins on
    different servers): the enrolment's counters, which the unit report sums, match the records
    (each change waits for the enrolment's lock on PostgreSQL; SQLite has one writer)."""
    statuses = [Status.present, Status.late, Status.excused, Status.absent] * 2
    with app.app_context():
        learner = accounts.create_user(
            SYSTEM,
            full_name="Đỗ Văn Đếm",
            login=f"dem-{uuid.uuid4().hex[:8]}",
            password="đếm tiết đồng thời",
        )
        training_class = classes.open_class(
            SYSTEM,
            catalog.by_slug("doi-ngoai-nhan-dan"),
            classes.ClassData(
                code=f"DT-{uuid.uuid4().hex[:6]}",
                title="Lớp đếm tiết",
                starts_on=date(2026, 12, 1),
                ends_on=date(2026, 12, 8),
            ),
            [],
        )
        sessions = classes.add_sessions(
            SYSTEM, training_class, date(2026, 12, 1), len(statuses), time(8), time(11), 3
        )
        classes.enrol(SYSTEM, training_class, [learner])
        db.session.commit()
        session_ids, user_id, class_id = [s.id for s in sessions], learner.id, training_class.id
        db.session.remove()

    def record(i):
        db.write_transaction()
        session = db.session.get(ClassSession, session_ids[i])
        user = db.session.get(User, user_id)
        attendance.record(SYSTEM, session, user, statuses[i], Method.rollcall, AFTER)
        db.session.commit()
        return i

    results, errors = _run_together(app, record, n=len(statuses))
    assert errors == []
    assert sorted(results) == list(range(len(statuses)))
    with app.app_context():
        enrolment = db.session.scalars(
            select(Enrolment).where(Enrolment.class_id == class_id, Enrolment.user_id == user_id)
        ).one()
        counters = (
            enrolment.present_periods,
            enrolment.late_periods,
            enrolment.excused_periods,
            enrolment.absent_periods,
        )
        db.session.remove()
    assert counters == (6, 6, 6, 6)
