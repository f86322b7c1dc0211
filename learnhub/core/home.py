"""What the home page tells each role to do next: read-only, a handful of queries per block
(never one per class or per row: the dashboard is benchmarked)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import desc, func, select
from sqlalchemy.orm import selectinload

from learnhub import db, policy
from learnhub.accounts.models import User
from learnhub.attendance.models import AttendanceRecord, Completion
from learnhub.audit.models import AuditEvent
from learnhub.catalog import services as catalog
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.certificates.models import Certificate, Kind
from learnhub.classes.models import ClassSession, ClassStatus, Enrolment, TrainingClass
from learnhub.classes.models import class_trainers as trainers_table
from learnhub.orgunits.models import OrgUnit
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Attempt, AttemptState, Quiz, QuizOverride
from learnhub.timeutil import to_local

#: Classes ending within this many days are "ending soon" for HR.
ENDING_SOON = timedelta(days=14)
#: A trainer's classes stay on the home page this long after they end (attendance, grading).
RECENTLY_ENDED = timedelta(days=30)


def _session_over(session: ClassSession, now_local: datetime) -> bool:
    return (session.on, session.ends_at) < (now_local.date(), now_local.time())


def _next_sessions(class_ids: list[int], now_local: datetime) -> dict[int, ClassSession]:
    """The next session (or the one under way) of each class: one query."""
    if not class_ids:
        return {}
    upcoming = db.session.scalars(
        select(ClassSession)
        .where(ClassSession.class_id.in_(class_ids), ClassSession.on >= now_local.date())
        .order_by(ClassSession.on, ClassSession.starts_at)
    )
    found: dict[int, ClassSession] = {}
    for session in upcoming:
        if session.class_id not in found and not _session_over(session, now_local):
            found[session.class_id] = session
    return found


# -- learner -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolledClass:
    training_class: TrainingClass
    next_session: ClassSession | None
    is_today: bool


@dataclass(frozen=True)
class QuizStep:
    quiz: Quiz
    title: str
    #: "continue", "start", "exhausted", "waiting", "passed", "closed", "not-yet"
    state: str
    left: int | None
    result: Decimal | None
    trainers: list[str] = field(default_factory=list)


@dataclass
class LearnerHome:
    classes: list[EnrolledClass]
    modules: list[catalog.ModuleProgress]
    quizzes: list[QuizStep]
    certificates: list[Certificate]


def learner_home(user: User, now: datetime) -> LearnerHome:
    """Classes with their next session, modules to continue, quizzes and certificates."""
    now_local = to_local(now)
    classes = list(
        db.session.scalars(
            select(TrainingClass)
            .join(Enrolment, Enrolment.class_id == TrainingClass.id)
            .where(
                Enrolment.user_id == user.id,
                Enrolment.is_active,
                TrainingClass.ends_on >= now_local.date(),
            )
            .options(selectinload(TrainingClass.trainers))
            .order_by(TrainingClass.starts_on, TrainingClass.id)
        )
    )
    nexts = _next_sessions([c.id for c in classes], now_local)
    enrolled = [
        EnrolledClass(
            c, nexts.get(c.id), nexts.get(c.id) is not None and nexts[c.id].on == now_local.date()
        )
        for c in classes
    ]
    enrolled.sort(key=lambda e: (e.next_session is None, e.next_session and e.next_session.starts))
    modules = [p for p in catalog.my_modules(user) if p.read < p.total]
    return LearnerHome(
        classes=enrolled,
        modules=modules,
        quizzes=_quiz_steps(user, classes, now),
        certificates=list(
            db.session.scalars(
                select(Certificate)
                .where(Certificate.user_id == user.id)
                .order_by(desc(Certificate.issued_on), desc(Certificate.id))
                .limit(5)
            )
        ),
    )


def _quiz_steps(user: User, classes: list[TrainingClass], now: datetime) -> list[QuizStep]:
    """The quizzes of the learner's classes and what to do about each (three queries)."""
    by_module = {c.module_id: c for c in classes}
    if not by_module:
        return []
    rows = db.session.execute(
        select(Quiz, ModuleVersion.meta)
        .join(Module, Module.id == Quiz.module_id)
        .outerjoin(ModuleVersion, ModuleVersion.id == Module.published_version_id)
        .where(Quiz.module_id.in_(by_module))
    ).all()
    quiz_ids = [quiz.id for quiz, _meta in rows]
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user.id, Attempt.quiz_id.in_(quiz_ids))
        .order_by(Attempt.number)
    ):
        attempts[attempt.quiz_id].append(attempt)
    extra = dict(
        db.session.execute(
            select(QuizOverride.quiz_id, QuizOverride.extra_attempts).where(
                QuizOverride.user_id == user.id, QuizOverride.quiz_id.in_(quiz_ids)
            )
        ).all()
    )
    steps = []
    for quiz, meta in rows:
        mine = attempts[quiz.id]
        left = None
        if quiz.attempts_allowed:
            left = max(0, quiz.attempts_allowed + (extra.get(quiz.id) or 0) - len(mine))
        result = quizzes.result_of(quiz, mine)
        passed = result is not None and result >= quiz.pass_mark
        if any(a.state == AttemptState.in_progress for a in mine):
            state = "continue"
        elif passed:
            state = "passed"
        elif any(a.state == AttemptState.needs_grading for a in mine):
            state = "waiting"
        elif left == 0:
            state = "exhausted"
        elif quiz.is_open(now):
            state = "start"
        elif quiz.is_closed(now):
            state = "closed"
        else:
            state = "not-yet"
        title = (meta or {}).get("title") or quiz.title
        steps.append(
            QuizStep(
                quiz,
                title,
                state,
                left,
                result,
                [t.full_name for t in by_module[quiz.module_id].trainers],
            )
        )
    return steps


# -- trainer -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunClass:
    training_class: TrainingClass
    next_session: ClassSession | None
    today: list[ClassSession]
    #: (quiz id, how many attempts wait for an essay to be graded)
    essays: tuple[int, int] | None
    #: Sessions that are over with no attendance recorded.
    untaken: list[ClassSession]


def trainer_home(user: User, now: datetime) -> list[RunClass]:
    """The classes *user* teaches (named as one of its trainers), with today's sessions,
    essays waiting and attendance not yet taken (four queries)."""
    now_local = to_local(now)
    classes = list(
        db.session.scalars(
            select(TrainingClass)
            .join(trainers_table, trainers_table.c.class_id == TrainingClass.id)
            .where(
                trainers_table.c.user_id == user.id,
                TrainingClass.status != ClassStatus.closed,
                TrainingClass.ends_on >= now_local.date() - RECENTLY_ENDED,
            )
            .order_by(TrainingClass.starts_on, TrainingClass.id)
        )
    )
    ids = [c.id for c in classes]
    if not ids:
        return []
    nexts = _next_sessions(ids, now_local)
    recorded = select(AttendanceRecord.id).where(AttendanceRecord.session_id == ClassSession.id)
    past = defaultdict(list)
    today = defaultdict(list)
    for session in db.session.scalars(
        select(ClassSession)
        .where(
            ClassSession.class_id.in_(ids),
            ClassSession.on <= now_local.date(),
            ~recorded.exists() | (ClassSession.on == now_local.date()),
        )
        .order_by(ClassSession.on, ClassSession.starts_at)
    ):
        if session.on == now_local.date():
            today[session.class_id].append(session)
        if _session_over(session, now_local) and session.on < now_local.date():
            past[session.class_id].append(session)
    # Today's sessions that are over but unrecorded: one more look, only for those.
    over_today = [s.id for ss in today.values() for s in ss if _session_over(s, now_local)]
    if over_today:
        taken = set(
            db.session.scalars(
                select(AttendanceRecord.session_id)
                .where(AttendanceRecord.session_id.in_(over_today))
                .distinct()
            )
        )
        for sessions in today.values():
            for s in sessions:
                if s.id in over_today and s.id not in taken:
                    past[s.class_id].append(s)
    essays = {
        class_id: (quiz_id, count)
        for class_id, quiz_id, count in db.session.execute(
            select(Enrolment.class_id, Quiz.id, func.count(Attempt.id.distinct()))
            .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
            .join(Quiz, Quiz.module_id == TrainingClass.module_id)
            .join(Attempt, (Attempt.quiz_id == Quiz.id) & (Attempt.user_id == Enrolment.user_id))
            .where(Enrolment.class_id.in_(ids), Attempt.state == AttemptState.needs_grading)
            .group_by(Enrolment.class_id, Quiz.id)
        )
    }
    return [
        RunClass(c, nexts.get(c.id), today[c.id], essays.get(c.id), past[c.id]) for c in classes
    ]


# -- HR ---------------------------------------------------------------------------------------


@dataclass
class HrHome:
    ending: list[TrainingClass]
    #: (class, completions in the viewer's scope without a certificate)
    to_issue: list[tuple[TrainingClass, int]]


def hr_home(user: User, today: date) -> HrHome:
    """Classes ending soon and certificates waiting to be issued (two queries)."""
    ending = list(
        db.session.scalars(
            select(TrainingClass)
            .where(
                TrainingClass.ends_on >= today,
                TrainingClass.ends_on <= today + ENDING_SOON,
                TrainingClass.status != ClassStatus.closed,
            )
            .order_by(TrainingClass.ends_on, TrainingClass.id)
            .limit(10)
        )
    )
    has_one = (
        select(Certificate.id)
        .where(
            Certificate.class_id == Completion.class_id,
            Certificate.user_id == Completion.user_id,
            Certificate.kind == Kind.certificate,
        )
        .exists()
    )
    to_issue = [
        (klass, count)
        for klass, count in db.session.execute(
            select(TrainingClass, func.count(Completion.id))
            .join(Completion, Completion.class_id == TrainingClass.id)
            .where(~has_one, policy.people_filter(user, Completion.user_id))
            .group_by(TrainingClass.id)
            .order_by(TrainingClass.ends_on, TrainingClass.id)
            .limit(10)
        )
    ]
    return HrHome(ending, to_issue)


# -- admin ------------------------------------------------------------------------------------


@dataclass
class AdminHome:
    users: int
    units: int
    #: Enabled accounts with no password yet (imported, never given one).
    waiting: list[User]
    waiting_count: int
    imports: list[AuditEvent]


def admin_home() -> AdminHome:
    """Accounts waiting for a password (the newest first) and the latest roster imports (five
    queries)."""
    no_password = (User.password_hash.is_(None)) & User.is_enabled
    return AdminHome(
        users=db.session.scalar(select(func.count()).select_from(User)) or 0,
        units=db.session.scalar(select(func.count()).select_from(OrgUnit)) or 0,
        waiting=list(
            db.session.scalars(select(User).where(no_password).order_by(desc(User.id)).limit(5))
        ),
        waiting_count=db.session.scalar(select(func.count()).where(no_password)) or 0,
        imports=list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "users.import")
                .order_by(desc(AuditEvent.id))
                .limit(3)
            )
        ),
    )
