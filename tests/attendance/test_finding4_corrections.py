"""Issue 14, finding 4: a wrong session could not be deleted or moved, a learner could not be
un-enrolled, sessions were numbered in the order they were typed, and sessions outside the class's
dates or a class ending before it starts were accepted. (The other date rules of the finding are
tested with their domains: tests/quizzes, tests/accounts, tests/orgunits.)"""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.attendance import schedule
from learnhub.attendance import services as attendance
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.reports import history
from tests.support import csrf_token


def _utc(*parts: int) -> datetime:
    """A stored (naive UTC) datetime."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)


#: After every session of the class below (12/01/2026 in Cà Mau).
LATER = _utc(2026, 1, 12, 5, 0)


@pytest.fixture
def lop(trainer, learner):
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="F4-2026-01",
            title="Lớp sửa lịch",
            starts_on=date(2026, 1, 5),
            ends_on=date(2026, 1, 9),
        ),
        [trainer],
    )
    classes.add_sessions(Actor(trainer), training_class, date(2026, 1, 7), 2, time(8), time(11), 4)
    classes.enrol(Actor(trainer), training_class, [learner])
    return training_class


def _schedule(training_class):
    return [(s.number, s.on.day, s.starts_at.hour) for s in training_class.sessions]


def test_finding4_sessions_are_numbered_by_date(lop, trainer):
    # A session typed later but held earlier becomes "Buổi 1".
    classes.add_sessions(Actor(trainer), lop, date(2026, 1, 5), 1, time(13), time(16), 4)
    assert _schedule(lop) == [(1, 5, 13), (2, 7, 8), (3, 8, 8)]
    classes.add_sessions(Actor(trainer), lop, date(2026, 1, 5), 1, time(8), time(11), 4)
    assert _schedule(lop) == [(1, 5, 8), (2, 5, 13), (3, 7, 8), (4, 8, 8)]


def test_finding4_session_outside_the_class_dates_refused(lop, trainer):
    with pytest.raises(classes.ClassError, match="nằm ngoài thời gian của lớp"):
        classes.add_sessions(Actor(trainer), lop, date(2026, 1, 8), 3, time(8), time(11), 4)
    with pytest.raises(classes.ClassError, match="nằm ngoài thời gian của lớp"):
        schedule.move_session(
            Actor(trainer),
            lop.sessions[0],
            schedule.SessionData(date(2026, 2, 7), time(8), time(11), 4),
            LATER,
        )
    assert _schedule(lop) == [(1, 7, 8), (2, 8, 8)]


def test_finding4_class_ending_before_it_starts_refused(trainer, client, login):
    with pytest.raises(classes.ClassDatesError, match="không được trước ngày bắt đầu"):
        classes.open_class(
            Actor(trainer),
            catalog.by_slug("doi-ngoai-nhan-dan"),
            classes.ClassData(
                code="F4-X", title="x", starts_on=date(2026, 1, 9), ends_on=date(2026, 1, 5)
            ),
            [trainer],
        )
    login(trainer)
    token = csrf_token(client, "/manage/classes/new")
    response = client.post(
        "/manage/classes/new",
        data={
            "csrf_token": token,
            "module": "doi-ngoai-nhan-dan",
            "code": "F4-Y",
            "title": "Lớp ngược ngày",
            "starts_on": "09/01/2026",
            "ends_on": "05/01/2026",
            "format": "tap-trung",
            "capacity": "0",
        },
    )
    assert response.status_code == 200
    assert "Ngày kết thúc lớp không được trước ngày bắt đầu." in response.get_data(as_text=True)
    assert classes.by_code("F4-Y") is None


def test_finding4_wrong_session_moved_with_its_records(lop, trainer, learner, db_session):
    first = lop.sessions[0]
    attendance.record(Actor(trainer), first, learner, Status.present, Method.rollcall, LATER)
    assert classes.enrolment_of(lop, learner).present_periods == 4
    # Typed for 07/01, held on 09/01 with 3 periods: the record moves with it, counters follow.
    moved = schedule.move_session(
        Actor(trainer), first, schedule.SessionData(date(2026, 1, 9), time(8), time(10), 3), LATER
    )
    assert _schedule(lop) == [(1, 8, 8), (2, 9, 8)]
    assert moved.number == 2
    assert attendance.record_of(moved, learner).status == Status.present
    assert classes.enrolment_of(lop, learner).present_periods == 3
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "class.session.move")
    ).one()
    assert event.before["on"] == "2026-01-07"
    assert (event.after["on"], event.after["records"]) == ("2026-01-09", 1)
    # A session with records never moves to a time not yet come.
    with pytest.raises(classes.ClassError, match="1 bản ghi điểm danh"):
        schedule.move_session(
            Actor(trainer),
            moved,
            schedule.SessionData(date(2026, 1, 9), time(8), time(10), 3),
            _utc(2026, 1, 8),
        )


def test_finding4_wrong_session_cancelled_after_confirmation(
    lop, trainer, learner, client, login, db_session
):
    login(trainer)
    first, second = lop.sessions
    url = f"/manage/classes/{lop.id}/sessions/{second.id}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "Xác nhận hủy buổi học" in page  # the confirmation step
    assert db.session.get(type(second), second.id) is not None
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.expire_all()
    assert _schedule(lop) == [(1, 7, 8)]
    assert (
        db_session.scalars(select(AuditEvent).where(AuditEvent.action == "class.session.cancel"))
        .one()
        .before["on"]
        == "2026-01-08"
    )
    # A session holding attendance is refused, saying how many records it holds.
    attendance.record(Actor(trainer), first, learner, Status.present, Method.rollcall, LATER)
    url = f"/manage/classes/{lop.id}/sessions/{first.id}/delete"
    assert "đã có 1 bản ghi điểm danh" in client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert "đã có 1 bản ghi điểm danh" in client.get(f"/manage/classes/{lop.id}").get_data(
        as_text=True
    )
    db.session.expire_all()
    assert _schedule(lop) == [(1, 7, 8)]
    # Without the token, nothing happens.
    assert client.post(url).status_code in (200, 302, 400)
    db.session.expire_all()
    assert len(lop.sessions) == 1


def test_finding4_session_moved_through_the_page(lop, trainer, client, login):
    login(trainer)
    session = lop.sessions[0]
    url = f"/manage/classes/{lop.id}/sessions/{session.id}/edit"
    assert 'value="07/01/2026"' in client.get(url).get_data(as_text=True)
    data = {"on": "20/01/2026", "starts_at": "08:00", "ends_at": "11:00", "periods": "4"}
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    assert "nằm ngoài thời gian của lớp" in response.get_data(as_text=True)
    data["on"] = "09/01/2026"
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.expire_all()
    assert _schedule(lop) == [(1, 8, 8), (2, 9, 8)]


def test_finding4_learner_unenrolled_records_kept(lop, trainer, learner, client, login, db_session):
    attendance.record(
        Actor(trainer), lop.sessions[0], learner, Status.present, Method.rollcall, LATER
    )
    login(trainer)
    url = f"/manage/classes/{lop.id}/learners/{learner.id}/withdraw"
    assert "Xác nhận rút khỏi lớp" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    db.session.expire_all()
    enrolment = classes.enrolment_of(lop, learner)
    assert enrolment.withdrawn_at is not None
    kept = select(AttendanceRecord).where(AttendanceRecord.session_id == lop.sessions[0].id)
    assert db_session.scalar(kept) is not None  # records kept
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "class.withdraw", AuditEvent.object_id == lop.code
        )
    ).one()
    assert (event.actor_id, event.after) == (trainer.id, {"user": learner.id, "enrolled": False})
    # Off the roster, the person page, completion and attendance.
    assert classes.roster(lop) == []
    assert not classes.is_enrolled(lop, learner)
    assert history.lines(learner) == []
    assert attendance.evaluate_class(lop, LATER) == 0
    assert attendance.evaluate(lop, learner, LATER) is None
    assert db_session.scalar(select(Completion).where(Completion.class_id == lop.id)) is None
    with pytest.raises(attendance.AttendanceError):
        attendance.record(
            Actor(trainer), lop.sessions[1], learner, Status.present, Method.rollcall, LATER
        )
    assert client.get(url).status_code == 404  # no second withdrawal
    # Enrolling again brings the same enrolment back, with its records.
    assert classes.enrol(Actor(trainer), lop, [learner]) == 1
    assert classes.enrolment_of(lop, learner).id == enrolment.id
    assert classes.is_enrolled(lop, learner)
