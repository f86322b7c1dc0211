"""A person's training history (quá trình bồi dưỡng) and the HR search for a person.

Who may see a history: the person, HR officers whose scope covers the person
(learnhub.policy.may_see_person), admins. Everyone else is told it does not exist (404).

Per class: the dates, the module, periods attended (weighted by the class's completion rule, as
the rule itself counts them) over periods held so far (sessions on or before today), the result
(the completion's score and grade band; "Hoàn thành" without a score; otherwise "Đang học" until
the class ends, then "Chưa hoàn thành"), the completion date and every certificate or confirmation
of the class with its number and status. Five queries, whatever the number of classes.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learnhub import db, policy
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import AttendanceRecord, Completion
from learnhub.attendance.models import Status as Attendance
from learnhub.attendance.services import weights
from learnhub.catalog.models import Module
from learnhub.certificates.models import STATUS_LABELS as CERT_STATUS_LABELS
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.services import grade_band
from learnhub.classes.models import ClassSession, Enrolment, TrainingClass
from learnhub.i18n import format_number
from learnhub.orgunits.models import OrgUnit
from learnhub.reports import records
from learnhub.reports.periodic import percent_text, score_text
from learnhub.textutil import vn_sort_key
from learnhub.timeutil import format_date, to_local, today

# A class's status in a history is that of its completion record (reports.records).
COMPLETED, IN_PROGRESS, NOT_COMPLETED = (
    records.COMPLETED,
    records.IN_PROGRESS,
    records.NOT_COMPLETED,
)
STATUS_LABELS = records.STATUS_LABELS
CERT_KIND_LABELS = {Kind.certificate: _l("Giấy chứng nhận"), Kind.confirmation: _l("Giấy xác nhận")}
#: People the search lists at most.
SEARCH_LIMIT = 50


def can_view(viewer: User, person: User) -> bool:
    """The person, admins, and HR officers whose scope covers the person (policy)."""
    return policy.may_see_person(viewer, person)


@dataclass
class CertLine:
    id: int
    number_label: str
    serial: str
    kind: str
    state: str
    status: str
    issued_on: date

    @property
    def text(self) -> str:
        status = str(self.status)
        # Mid-sentence, in brackets: lower case ("(có hiệu lực)").
        return f"{self.number_label} ({status[:1].lower()}{status[1:]})"


@dataclass
class Line:
    """One class of the person's history."""

    class_id: int
    class_code: str
    class_title: str
    module_title: str
    starts_on: date
    ends_on: date
    attended: Decimal
    held: int
    status: str
    score: Decimal | None
    band: str
    completed_on: date | None
    certificates: list[CertLine] = field(default_factory=list)

    @property
    def attended_text(self) -> str:
        return f"{format_number(self.attended or 0)}/{self.held}"

    @property
    def attendance_share(self) -> Decimal | None:
        return self.attended / Decimal(self.held) if self.held else None

    @property
    def result(self) -> str:
        if self.status == COMPLETED and self.score is not None:
            text = score_text(self.score)
            return f"{text} ({self.band})" if self.band else text
        return str(STATUS_LABELS[self.status])

    def strings(self) -> dict[str, str]:
        """Plain strings for the PDF template."""
        return {
            "class_code": self.class_code,
            "class_title": self.class_title,
            "module_title": self.module_title,
            "dates": f"{format_date(self.starts_on)} – {format_date(self.ends_on)}",
            "attended": self.attended_text,
            "share": percent_text(self.attendance_share),
            "result": self.result,
            "completed_on": format_date(self.completed_on),
            "certificates": "; ".join(c.text for c in self.certificates),
        }


def lines(person: User) -> list[Line]:
    """Every class the person is enrolled in, oldest first."""
    classes = db.session.scalars(
        select(TrainingClass)
        .join(Enrolment, Enrolment.class_id == TrainingClass.id)
        .where(Enrolment.user_id == person.id, Enrolment.is_active)
        .options(
            selectinload(TrainingClass.sessions),
            selectinload(TrainingClass.version),
            selectinload(TrainingClass.module).selectinload(Module.published_version),
        )
        .order_by(TrainingClass.starts_on, TrainingClass.id)
    ).all()
    if not classes:
        return []
    completions = {
        c.class_id: c
        for c in db.session.scalars(select(Completion).where(Completion.user_id == person.id))
    }
    certificates: dict[int, list[Certificate]] = defaultdict(list)
    for cert in db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == person.id)
        .order_by(Certificate.issued_at, Certificate.id)
    ):
        certificates[cert.class_id].append(cert)
    statuses = dict(
        db.session.execute(
            select(AttendanceRecord.session_id, AttendanceRecord.status)
            .join(ClassSession, ClassSession.id == AttendanceRecord.session_id)
            .where(AttendanceRecord.user_id == person.id)
        ).all()
    )
    on = today()
    out = []
    for klass in classes:
        rule = klass.completion_rule()
        weight = weights(rule.count_excused, rule.late_weight)
        # The class's own sessions held so far: a record of a later (or stray) session counts
        # for nothing, and neither figure exceeds the module's periods.
        held_sessions = [s for s in klass.own_sessions if s.on <= on]
        attended = sum(
            (
                s.periods * weight[Attendance(statuses[s.id])]
                for s in held_sessions
                if s.id in statuses
            ),
            Decimal(0),
        )
        held = klass.capped_periods(sum(s.periods for s in held_sessions))
        attended = min(attended, Decimal(held))
        completion = completions.get(klass.id)
        status = records.status_of(completion is not None, klass.ends_on, on)
        score = None
        if completion is not None and completion.score is not None:
            score = Decimal(str(completion.score))
        version = klass.version or klass.module.published_version
        out.append(
            Line(
                class_id=klass.id,
                class_code=klass.code,
                class_title=klass.title,
                module_title=version.title if version is not None else klass.module.slug,
                starts_on=klass.starts_on,
                ends_on=klass.ends_on,
                attended=attended,
                held=held,
                status=status,
                score=score,
                band=grade_band(score) if score is not None else "",
                completed_on=to_local(completion.completed_at).date() if completion else None,
                certificates=[
                    CertLine(
                        id=c.id,
                        number_label=c.number_label,
                        serial=c.serial,
                        kind=str(CERT_KIND_LABELS.get(c.kind, c.kind)),
                        state=c.state(on),
                        status=str(CERT_STATUS_LABELS[c.state(on)]),
                        issued_on=c.issued_on,
                    )
                    for c in certificates.get(klass.id, [])
                ],
            )
        )
    return out


def summary(rows: list[Line]) -> dict[str, int]:
    return {
        "classes": len(rows),
        "completed": sum(1 for r in rows if r.status == COMPLETED),
        "certificates": sum(1 for r in rows for c in r.certificates if c.state == "valid"),
    }


# -- search ----------------------------------------------------------------------------------


@dataclass
class Found:
    id: int
    full_name: str
    login: str
    birth_date: date | None
    unit: str


def search(viewer: User, q: str, limit: int = SEARCH_LIMIT) -> tuple[list[Found], bool]:
    """People in *viewer*'s HR scope whose name or login holds every word of *q*, ignoring case
    and diacritics; at most *limit* of them (and whether there were more), by Vietnamese name
    order. One query (the words become patterns in SQL: records.person_condition)."""
    # The completion records page owns the accent-insensitive SQL patterns; imported here so
    # that only the search depends on that module.
    from learnhub.reports.records import person_condition

    dialect = db.session.get_bind().dialect.name
    condition = person_condition(q, dialect)
    if condition is None:
        return [], False
    stmt = (
        select(User.id, User.full_name, User.username, User.email, User.birth_date, OrgUnit.name)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
        .where(condition)
        .order_by(User.sort_key, User.id)  # as Vietnamese sorts names: the given name first
        .limit(limit + 1)
    )
    people = policy.people_ids(viewer, Role.hr)
    if people is not None:
        stmt = stmt.where(User.id.in_(people))
    rows = db.session.execute(stmt).all()
    found = [
        Found(i, name, username or email or "", born, unit or "")
        for i, name, username, email, born, unit in rows[:limit]
    ]
    found.sort(key=lambda f: (vn_sort_key(f.full_name), f.id))
    return found, len(rows) > limit
