"""Simultaneous check-ins of one learner give one attendance record (SQLite and PostgreSQL)."""

import uuid
from datetime import date, time

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
from learnhub.classes.models import ClassSession
from learnhub.timeutil import utcnow
from tests.quizzes.test_concurrency import _run_together

pytestmark = pytest.mark.no_rollback


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
            SYSTEM, session, user, Status.present, Method.qr, utcnow(), ip=f"10.0.0.{i}"
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
