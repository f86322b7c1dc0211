"""Correcting a class's schedule: move or cancel a session. Its attendance records decide what is
allowed, so this lives above classes, with attendance.

- Cancel (delete) a session: refused while it holds attendance records (the message says how
  many); records are never deleted with a session.
- Move (date, time, periods, topic): the records move with the session (they are about that
  session, whatever its corrected date), but a session with records cannot move to a time that has
  not come yet (attendance for a session not held); the learners' period counters are recounted.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from learnhub import db
from learnhub.attendance import services as attendance
from learnhub.attendance.models import AttendanceRecord
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.classes import services as classes
from learnhub.classes.models import ClassSession, Enrolment
from learnhub.timeutil import VN_TZ


@dataclass(frozen=True)
class SessionData:
    on: date
    starts_at: time
    ends_at: time
    periods: int
    topic: str = ""


def record_count(session: ClassSession) -> int:
    """How many attendance records the session holds."""
    stmt = select(func.count(AttendanceRecord.id)).where(AttendanceRecord.session_id == session.id)
    return db.session.scalar(stmt) or 0


def _snapshot(session: ClassSession) -> dict:
    return {
        "number": session.number,
        "on": session.on.isoformat(),
        "starts_at": session.starts_at.strftime("%H:%M"),
        "ends_at": session.ends_at.strftime("%H:%M"),
        "periods": session.periods,
        "topic": session.topic,
    }


def move_session(
    actor: Actor, session: ClassSession, data: SessionData, now: datetime
) -> ClassSession:
    """Change a session's date, times, periods or topic; its records move with it (audited)."""
    training_class = session.training_class
    classes.check_session(training_class, data.on, data.starts_at, data.ends_at, data.periods)
    records = record_count(session)
    starts = datetime.combine(data.on, data.starts_at, VN_TZ).astimezone(UTC).replace(tzinfo=None)
    if records and starts > now:
        raise classes.ClassError(
            _l(
                "Buổi học đã có %(n)s bản ghi điểm danh: không thể dời sang thời điểm chưa diễn "
                "ra.",
                n=records,
            )
        )
    before = _snapshot(session)
    session.on, session.starts_at, session.ends_at = data.on, data.starts_at, data.ends_at
    session.periods, session.topic = data.periods, data.topic
    classes.renumber(training_class)
    if records:
        for enrolment in db.session.scalars(
            select(Enrolment)
            .where(Enrolment.class_id == training_class.id)
            .order_by(Enrolment.id)
            .with_for_update()
        ):
            attendance.recount(enrolment)
    old, new = audit.changes(before, _snapshot(session))
    if new:
        new["records"] = records
        audit.record(actor, "class.session.move", "class", training_class.code, old, new)
    return session


def cancel_session(actor: Actor, session: ClassSession) -> None:
    """Delete a session typed by mistake; refused while it holds attendance records."""
    records = record_count(session)
    if records:
        raise classes.ClassError(
            _l(
                "Không thể hủy buổi học: đã có %(n)s bản ghi điểm danh. Hãy dời buổi học sang "
                "đúng ngày thay vì hủy.",
                n=records,
            )
        )
    training_class = session.training_class
    before = _snapshot(session)
    training_class.sessions.remove(session)
    db.session.flush()
    classes.renumber(training_class)
    audit.record(actor, "class.session.cancel", "class", training_class.code, before, None)
