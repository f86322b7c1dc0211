"""Class use cases: open a class, build its roster, schedule its sessions."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learnhub import db
from learnhub.accounts.models import Role, RoleGrant, User
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.catalog.models import Module
from learnhub.classes import matching
from learnhub.classes.models import ClassFormat, ClassSession, ClassStatus, Enrolment, TrainingClass
from learnhub.orgunits import services as units
from learnhub.orgunits.models import OrgUnit
from learnhub.timeutil import format_date


class ClassError(Exception):
    """A rule about classes says no; the message is shown to the person."""


class ClassDatesError(ClassError):
    """The class's dates are impossible (it ends before it starts)."""


@dataclass(frozen=True)
class ClassData:
    code: str
    title: str
    starts_on: date
    ends_on: date
    place: str = ""
    format: ClassFormat = ClassFormat.tap_trung
    organisers: str = ""
    decision_no: str = ""
    decision_on: date | None = None
    capacity: int = 0


def by_code(code: str) -> TrainingClass | None:
    return db.session.scalar(select(TrainingClass).where(TrainingClass.code == code))


def open_class(
    actor: Actor, module: Module, data: ClassData, trainers: list[User]
) -> TrainingClass:
    """Open a class of *module* (it teaches the module's published version)."""
    if module.published_version is None:
        raise ClassError(_l("Chuyên đề chưa được công bố."))
    if data.ends_on < data.starts_on:
        raise ClassDatesError(_l("Ngày kết thúc lớp không được trước ngày bắt đầu."))
    if by_code(data.code) is not None:
        raise ClassError(_l("Mã lớp này đã được dùng."))
    training_class = TrainingClass(
        module=module, version=module.published_version, trainers=trainers, **data.__dict__
    )
    db.session.add(training_class)
    db.session.flush()
    audit.record(
        actor,
        "class.open",
        "class",
        training_class.code,
        None,
        {"module": module.slug, "title": data.title},
    )
    return training_class


def roster(training_class: TrainingClass) -> list[User]:
    stmt = (
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.class_id == training_class.id, Enrolment.is_active)
    )
    return sorted(db.session.scalars(stmt), key=lambda u: u.given_name_key)


def enrolment_of(training_class: TrainingClass, user: User) -> Enrolment | None:
    """The learner's enrolment in the class, withdrawn or not."""
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.class_id == training_class.id, Enrolment.user_id == user.id
        )
    )


def is_enrolled(training_class: TrainingClass, user: User) -> bool:
    """On the class's roster now (a withdrawn learner is not)."""
    enrolment = enrolment_of(training_class, user)
    return enrolment is not None and enrolment.is_active


def enrol(actor: Actor, training_class: TrainingClass, users: list[User]) -> int:
    """Add learners (already enrolled ones are skipped, withdrawn ones come back); returns how
    many were added."""
    present = {u.id for u in roster(training_class)}
    new = list({u.id: u for u in users if u.id not in present}.values())
    if training_class.capacity and len(present) + len(new) > training_class.capacity:
        raise ClassError(_l("Vượt sĩ số tối đa của lớp (%(n)s).", n=training_class.capacity))
    for user in new:
        withdrawn = enrolment_of(training_class, user)
        if withdrawn is not None:
            withdrawn.withdrawn_at = None
        else:
            db.session.add(Enrolment(class_id=training_class.id, user_id=user.id))
    db.session.flush()
    if new:
        audit.record(
            actor, "class.enrol", "class", training_class.code, None, {"added": [u.id for u in new]}
        )
    return len(new)


def enrol_matched(actor: Actor, training_class: TrainingClass, found: matching.Match) -> int:
    """Enrol the accounts a list named, all or none: any row that named nobody stops it."""
    if not found.ok:
        shown = "; ".join(str(p) for p in found.problems[:20])
        more = len(found.problems) - 20
        if more > 0:
            shown += " " + str(_l("… và %(n)s dòng khác.", n=more))
        raise ClassError(shown)
    if not found.users:
        raise ClassError(_l("Danh sách không có ai."))
    return enrol(actor, training_class, found.users)


def unit_learners(unit: OrgUnit) -> list[User]:
    """Enabled learners of *unit* and every unit below it (the preview of enrolling a unit)."""
    stmt = select(User).where(
        User.unit_id.in_(units.subtree_ids(unit)),
        User.is_enabled.is_(True),
        User.grants.any(RoleGrant.role == Role.learner),
    )
    return sorted(db.session.scalars(stmt), key=lambda u: u.given_name_key)


def add_sessions(
    actor: Actor,
    training_class: TrainingClass,
    first: date,
    count: int,
    starts_at: time,
    ends_at: time,
    periods: int,
    every_days: int = 1,
) -> list[ClassSession]:
    """A series of sessions: *count* of them from *first*, every *every_days* days."""
    if not 1 <= count <= 100 or not 1 <= every_days <= 366:
        raise ClassError(_l("Lịch học không hợp lệ."))
    days = [first + timedelta(days=n * every_days) for n in range(count)]
    for day in days:
        check_session(training_class, day, starts_at, ends_at, periods)
    number = max((s.number for s in training_class.sessions), default=0)
    created = []
    for n, day in enumerate(days):
        session = ClassSession(
            number=number + n + 1,
            on=day,
            starts_at=starts_at,
            ends_at=ends_at,
            periods=periods,
        )
        training_class.sessions.append(session)
        created.append(session)
    db.session.flush()
    renumber(training_class)
    audit.record(
        actor,
        "class.sessions",
        "class",
        training_class.code,
        None,
        {"added": [s.number for s in created]},
    )
    return created


def check_session(
    training_class: TrainingClass, on: date, starts_at: time, ends_at: time, periods: int
) -> None:
    """The date rules of a session: within the class's dates, ends after it starts."""
    if ends_at <= starts_at:
        raise ClassError(_l("Giờ kết thúc buổi học phải sau giờ bắt đầu."))
    if not 1 <= periods <= 12:
        raise ClassError(_l("Số tiết mỗi buổi phải từ 1 đến 12."))
    if not training_class.starts_on <= on <= training_class.ends_on:
        raise ClassError(
            _l(
                "Buổi học ngày %(d)s nằm ngoài thời gian của lớp (%(a)s – %(b)s).",
                d=format_date(on),
                a=format_date(training_class.starts_on),
                b=format_date(training_class.ends_on),
            )
        )


def renumber(training_class: TrainingClass) -> None:
    """Number the class's sessions 1, 2, … by date and time: the number is derived from the
    schedule, never the order sessions were typed in."""
    db.session.flush()
    ordered = sorted(training_class.sessions, key=lambda s: (s.on, s.starts_at, s.id))
    if [s.number for s in ordered] == list(range(1, len(ordered) + 1)):
        return
    # Through negative numbers first: (class, number) is unique at every statement.
    for n, session in enumerate(ordered, start=1):
        session.number = -n
    db.session.flush()
    for n, session in enumerate(ordered, start=1):
        session.number = n
    db.session.flush()
    db.session.expire(training_class, ["sessions"])  # reloaded in date order


def withdraw(actor: Actor, training_class: TrainingClass, user: User, now: datetime) -> Enrolment:
    """Take a learner off the roster: the enrolment and every record stay (audited), but rosters,
    reports and completion leave the learner out. Enrolling again brings them back."""
    enrolment = enrolment_of(training_class, user)
    if enrolment is None or not enrolment.is_active:
        raise ClassError(_l("Học viên không có trong danh sách lớp."))
    enrolment.withdrawn_at = now
    db.session.flush()
    audit.record(
        actor,
        "class.withdraw",
        "class",
        training_class.code,
        {"user": user.id, "enrolled": True},
        {"user": user.id, "enrolled": False},
    )
    return enrolment


def classes_of(user: User) -> list[TrainingClass]:
    stmt = (
        select(TrainingClass)
        .join(Enrolment, Enrolment.class_id == TrainingClass.id)
        .where(Enrolment.user_id == user.id, Enrolment.is_active)
        .order_by(TrainingClass.starts_on.desc())
    )
    return list(db.session.scalars(stmt))


def update_class(actor: Actor, training_class: TrainingClass, **fields) -> TrainingClass:
    """Change a class's title, place, organisers, capacity or status (audited)."""
    keys = ("title", "place", "organisers", "capacity", "status")
    before = {k: str(getattr(training_class, k)) for k in keys}
    if fields.get("capacity") and fields["capacity"] < len(roster(training_class)):
        raise ClassError(_l("Sĩ số tối đa nhỏ hơn số học viên đã ghi danh."))
    for key in keys:
        if key in fields:
            setattr(
                training_class, key, ClassStatus(fields[key]) if key == "status" else fields[key]
            )
    db.session.flush()
    old, new = audit.changes(before, {k: str(getattr(training_class, k)) for k in keys})
    if new:
        audit.record(actor, "class.update", "class", training_class.code, old, new)
    return training_class
