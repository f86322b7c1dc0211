"""Classes, their trainers and learners, and their sessions."""

import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.content import completion
from learnhub.content.completion import CompletionRule
from learnhub.db import Base, enum_check
from learnhub.timeutil import VN_TZ, utcnow


def class_end(ends_on: date, own_sessions: Iterable[tuple[date, time]]) -> datetime:
    """When a class is over (naive UTC), from its last day and its own sessions' (day, end
    time): the end of its last own session, or the end of its last day when it has none.
    TrainingClass.ends_at, and the completion check that reads these as rows."""
    last = max(own_sessions, default=None)
    if last is not None:
        local = datetime.combine(last[0], last[1], VN_TZ)
    else:
        local = datetime.combine(ends_on + timedelta(days=1), time(), VN_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


class ClassFormat(enum.StrEnum):
    tap_trung = "tap-trung"
    truc_tuyen = "truc-tuyen"
    ket_hop = "ket-hop"


FORMAT_LABELS = {
    ClassFormat.tap_trung: _l("Tập trung"),
    ClassFormat.truc_tuyen: _l("Trực tuyến"),
    ClassFormat.ket_hop: _l("Kết hợp"),
}


class ClassStatus(enum.StrEnum):
    planned = "planned"
    open = "open"
    closed = "closed"


class_trainers = Table(
    "class_trainers",
    Base.metadata,
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class TrainingClass(Base):
    """A class (lớp bồi dưỡng): a module taught to a roster over a series of sessions."""

    __tablename__ = "classes"
    __table_args__ = (
        enum_check("format", ClassFormat),
        enum_check("status", ClassStatus),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), index=True)
    #: The module version the class teaches (the published one when it opened).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("module_versions.id"))
    title: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date]
    #: Reports and records select classes by the day they end (the period a class counts in).
    ends_on: Mapped[date] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(300), default="")
    format: Mapped[ClassFormat] = mapped_column(String(20), default=ClassFormat.tap_trung)
    #: Organising units as documents name them ("Sở Nội vụ; Liên hiệp các tổ chức hữu nghị").
    organisers: Mapped[str] = mapped_column(String(500), default="")
    #: The decision that opened the class (số, ngày).
    decision_no: Mapped[str] = mapped_column(String(100), default="")
    decision_on: Mapped[date | None]
    #: The unit that issues the class's certificates (None: the default issuer).
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("cert_issuers.id"))
    capacity: Mapped[int] = mapped_column(default=0)
    status: Mapped[ClassStatus] = mapped_column(String(10), default=ClassStatus.open)
    #: Completion rule overrides for this class (keys of module.toml [completion]).
    rule: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module] = relationship()
    version: Mapped[ModuleVersion | None] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=class_trainers)
    sessions: Mapped[list["ClassSession"]] = relationship(
        back_populates="training_class",
        # Sessions are numbered by date (classes.services.renumber keeps number in this order).
        order_by="[ClassSession.on, ClassSession.starts_at, ClassSession.id]",
        cascade="all, delete-orphan",
    )

    def completion_rule(self) -> CompletionRule:
        """The rule completing this class requires: its module version's (the published one
        when the class has none), with the class's overrides."""
        version = self.version or self.module.published_version
        base = version.completion_rule() if version is not None else completion.DEFAULT
        return base.with_overrides(self.rule)

    @property
    def own_sessions(self) -> list["ClassSession"]:
        """The sessions within the class's dates: the only ones attendance and periods count."""
        return [s for s in self.sessions if self.starts_on <= s.on <= self.ends_on]

    @property
    def total_periods(self) -> int:
        """The periods of the class's own sessions, never more than its module's."""
        return self.capped_periods(sum(s.periods for s in self.own_sessions))

    @property
    def module_periods(self) -> int | None:
        """The periods the module declares (module.toml `periods`), if any."""
        version = self.version or self.module.published_version
        value = (version.meta or {}).get("periods") if version is not None else None
        return int(value) if value else None

    def capped_periods(self, periods: int) -> int:
        """*periods*, never more than the module's (a certificate states the module's periods)."""
        cap = self.module_periods
        return min(periods, cap) if cap else periods

    @property
    def ends_at(self) -> datetime:
        """When the class is over (naive UTC): see class_end."""
        return class_end(self.ends_on, [(s.on, s.ends_at) for s in self.own_sessions])

    def has_ended(self, now: datetime) -> bool:
        """Whether the class is over at *now* (naive UTC): nobody completes it before."""
        return now >= self.ends_at


class Enrolment(Base):
    """A learner on a class's roster."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id"),
        # A class's enrolments, and the first of them in one probe (reports.records.statement).
        Index("ix_enrolments_class_id_id", "class_id", "id"),
        CheckConstraint(
            "present_periods >= 0 AND late_periods >= 0 AND excused_periods >= 0 "
            "AND absent_periods >= 0",
            name="periods_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the learner was taken off the roster (un-enrolled); their records are kept, but a
    #: withdrawn enrolment is left out of rosters, reports and completion.
    withdrawn_at: Mapped[datetime | None]
    #: The periods of this learner's recorded sessions, by attendance status (present, late,
    #: excused, absent). Kept by attendance.services.record, the one way attendance is written,
    #: in the same transaction: the unit report sums these instead of reading every record.
    present_periods: Mapped[int] = mapped_column(default=0, server_default="0")
    late_periods: Mapped[int] = mapped_column(default=0, server_default="0")
    excused_periods: Mapped[int] = mapped_column(default=0, server_default="0")
    absent_periods: Mapped[int] = mapped_column(default=0, server_default="0")

    training_class: Mapped[TrainingClass] = relationship()
    user: Mapped[User] = relationship()

    @hybrid_property
    def is_active(self) -> bool:
        """On the roster (not withdrawn)."""
        return self.withdrawn_at is None

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return cls.withdrawn_at.is_(None)


class ClassSession(Base):
    """A session (buổi học) of a class."""

    __tablename__ = "class_sessions"
    __table_args__ = (
        UniqueConstraint("class_id", "number"),
        CheckConstraint("periods > 0", name="periods_positive"),
        CheckConstraint("ends_at > starts_at", name="times_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    number: Mapped[int]
    on: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    #: Teaching periods (tiết) in this session.
    periods: Mapped[int] = mapped_column(default=4)
    topic: Mapped[str] = mapped_column(Text, default="")

    training_class: Mapped[TrainingClass] = relationship(back_populates="sessions")

    @property
    def starts(self) -> datetime:
        """When the session starts (naive UTC)."""
        local = datetime.combine(self.on, self.starts_at, VN_TZ)
        return local.astimezone(UTC).replace(tzinfo=None)


class ClassFeedback(Base):
    """A learner's evaluation of a class (phiếu đánh giá khóa học): three marks from 1 to 5 and
    a comment. One per learner per class. The learner is kept only so that nobody answers
    twice: pages and documents show counts, means and comments, never who wrote them
    (classes/feedback.py)."""

    __tablename__ = "class_feedback"
    __table_args__ = (
        UniqueConstraint("class_id", "user_id"),
        CheckConstraint("content BETWEEN 1 AND 5", name="content_1_to_5"),
        CheckConstraint("trainers BETWEEN 1 AND 5", name="trainers_1_to_5"),
        CheckConstraint("organisation BETWEEN 1 AND 5", name="organisation_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Nội dung chương trình, giảng viên, công tác tổ chức: 1 (kém) … 5 (rất tốt).
    content: Mapped[int]
    trainers: Mapped[int]
    organisation: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
