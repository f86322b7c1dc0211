"""Attendance records and class completions."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.classes.models import ClassSession, TrainingClass
from learnhub.db import Base, enum_check
from learnhub.timeutil import utcnow


class Status(enum.StrEnum):
    present = "present"
    late = "late"
    excused = "excused"
    absent = "absent"


STATUS_LABELS = {
    Status.present: _l("Có mặt"),
    Status.late: _l("Đi muộn"),
    Status.excused: _l("Vắng có phép"),
    Status.absent: _l("Vắng không phép"),
}


class Method(enum.StrEnum):
    qr = "qr"
    code = "code"
    rollcall = "rollcall"
    sheet = "sheet"


#: How a record was made, in words (the audit log shows it).
METHOD_LABELS = {
    Method.qr: _l("Quét mã QR"),
    Method.code: _l("Nhập mã điểm danh"),
    Method.rollcall: _l("Điểm danh tại lớp"),
    Method.sheet: _l("Nhập điểm danh từ danh sách đã ký"),
}


class AttendanceRecord(Base):
    """How one learner attended one session: one row, whatever the way it was recorded."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        enum_check("status", Status),
        enum_check("method", Method),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[Status] = mapped_column(String(10))
    method: Mapped[Method] = mapped_column(String(10))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Check-ins: where from (reviewed for suspicious patterns).
    ip: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(200), default="")

    session: Mapped[ClassSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Completion(Base):
    """A learner completed a class: when, and the rule that was met (copied, never recomputed)."""

    __tablename__ = "completions"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        CheckConstraint("attendance_share BETWEEN 0 AND 1", name="attendance_share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    rule: Mapped[dict] = mapped_column(JSON)
    #: The quiz result and attendance share at completion time.
    score: Mapped[float | None] = mapped_column(Numeric(5, 2))
    attendance_share: Mapped[float] = mapped_column(Numeric(5, 4))

    training_class: Mapped[TrainingClass] = relationship()
    user: Mapped[User] = relationship()
