"""Attendance use cases: record (audited), check-in, roll call, attendance share, and the
completion rule."""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from learnhub import db, signals
from learnhub.accounts import services as accounts
from learnhub.accounts import throttle
from learnhub.accounts.models import User
from learnhub.attendance import checkin
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.classes.models import ClassSession, Enrolment, TrainingClass, class_end
from learnhub.i18n import format_number, format_score
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Attempt, AttemptState, Quiz
from learnhub.textutil import fold
from learnhub.timeutil import VN_TZ, format_datetime, utcnow


class AttendanceError(Exception):
    """A rule about attendance says no; the message is shown to the person."""

    #: Why, in the audit log of refused check-ins.
    reason = "refused"


class SessionNotStarted(AttendanceError):
    """Nothing is recorded for a session before it opens, whatever the way."""

    reason = "not-open"


class CheckinClosed(AttendanceError):
    """Check-in by QR or code is over for the session (the trainer records it from now on)."""

    reason = "closed"


class WrongCode(AttendanceError):
    reason = "wrong-code"


class CheckinThrottled(AttendanceError):
    """Too many wrong codes: the learner waits *wait* seconds (until *until*)."""

    reason = "throttled"

    def __init__(self, wait: int, until: datetime) -> None:
        super().__init__(
            _l(
                "Bạn đã nhập sai mã quá nhiều lần. Hãy đợi %(wait)s (đến %(t)s) rồi thử lại.",
                wait=_duration(wait),
                t=format_datetime(until),
            )
        )
        self.wait = wait
        self.until = until


def _duration(seconds: int) -> str:
    if seconds < 60:
        return str(_l("%(n)s giây", n=seconds))
    return str(_l("%(n)s phút", n=-(-seconds // 60)))


# -- when a session may be recorded ----------------------------------------------------------


def _utc(day: date, at: time) -> datetime:
    """A day and time in Cà Mau as naive UTC (how `now` is passed around)."""
    return datetime.combine(day, at, VN_TZ).astimezone(UTC).replace(tzinfo=None)


def _minutes(key: str) -> timedelta:
    return timedelta(minutes=int(current_app.config[key]))


def opens_at(session: ClassSession) -> datetime:
    """When attendance may first be recorded for *session*, whatever the way (check-in, roll
    call, paper sheet): its start less CHECKIN_OPENS_BEFORE minutes, for learners who arrive
    early. Naive UTC."""
    return _utc(session.on, session.starts_at) - _minutes("CHECKIN_OPENS_BEFORE")


def closes_at(session: ClassSession) -> datetime:
    """When check-in by QR or code ends: CHECKIN_CLOSES_AFTER minutes after the session ends
    (the trainer's roll call and paper sheet stay open). Naive UTC."""
    return _utc(session.on, session.ends_at) + _minutes("CHECKIN_CLOSES_AFTER")


def not_started(session: ClassSession, now: datetime) -> SessionNotStarted | None:
    """The refusal when *session* has not opened at *now* (None once it has)."""
    if now >= opens_at(session):
        return None
    return SessionNotStarted(
        _l(
            "Buổi %(n)s chưa bắt đầu: điểm danh mở lúc %(t)s.",
            n=session.number,
            t=format_datetime(opens_at(session)),
        )
    )


def checkin_refusal(session: ClassSession, now: datetime) -> AttendanceError | None:
    """Why a learner cannot check in to *session* by QR or code at *now*, or None: check-in is
    open only while the session happens (opens_at .. closes_at)."""
    if (problem := not_started(session, now)) is not None:
        return problem
    if now > closes_at(session):
        return CheckinClosed(
            _l(
                "Buổi %(n)s đã hết giờ điểm danh (đóng lúc %(t)s). Hãy báo giảng viên.",
                n=session.number,
                t=format_datetime(closes_at(session)),
            )
        )
    return None


def checkin_status(session: ClassSession, now: datetime) -> Status:
    """Present, or late when checking in CHECKIN_LATE_MINUTES after the start."""
    late_after = _utc(session.on, session.starts_at) + _minutes("CHECKIN_LATE_MINUTES")
    return Status.late if now > late_after else Status.present


def record_of(session: ClassSession, user: User) -> AttendanceRecord | None:
    stmt = select(AttendanceRecord).where(
        AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id
    )
    return db.session.scalar(stmt)


def records_of_class(training_class: TrainingClass) -> dict[tuple[int, int], AttendanceRecord]:
    """Every attendance record of a class in one query, by (session id, user id)."""
    stmt = (
        select(AttendanceRecord)
        .join(ClassSession)
        .where(ClassSession.class_id == training_class.id)
    )
    return {(r.session_id, r.user_id): r for r in db.session.scalars(stmt)}


#: The enrolment counter of each status's periods.
PERIOD_COLUMNS = {
    Status.present: "present_periods",
    Status.late: "late_periods",
    Status.excused: "excused_periods",
    Status.absent: "absent_periods",
}


def recount(enrolment: Enrolment) -> None:
    """Set a learner's period counters from their attendance records in the class (a few rows;
    the caller holds the enrolment's lock)."""
    totals = dict.fromkeys(PERIOD_COLUMNS.values(), 0)
    stmt = (
        select(AttendanceRecord.status, func.sum(ClassSession.periods))
        .join(ClassSession, ClassSession.id == AttendanceRecord.session_id)
        .join(TrainingClass, TrainingClass.id == ClassSession.class_id)
        .where(
            ClassSession.class_id == enrolment.class_id,
            AttendanceRecord.user_id == enrolment.user_id,
            # Only the class's own sessions (within its dates) count.
            ClassSession.on.between(TrainingClass.starts_on, TrainingClass.ends_on),
        )
        .group_by(AttendanceRecord.status)
    )
    for status, periods in db.session.execute(stmt):
        totals[PERIOD_COLUMNS[Status(status)]] = int(periods or 0)
    for column, value in totals.items():
        setattr(enrolment, column, value)
    db.session.flush()


def record(
    actor: Actor,
    session: ClassSession,
    user: User,
    status: Status,
    method: Method,
    now: datetime,
    ip: str = "",
    device: str = "",
) -> AttendanceRecord:
    """Set a learner's attendance for a session: one row per (session, learner), every change
    audited (old -> new, who, when, how). Never for a session that has not opened at *now*."""
    if (problem := not_started(session, now)) is not None:
        raise problem
    # The enrolment row is locked first (PostgreSQL; SQLite has one writer anyway): two changes
    # to the same learner's attendance in a class take turns, so its period counters stay exact.
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(
            Enrolment.class_id == session.class_id,
            Enrolment.user_id == user.id,
            Enrolment.is_active,
        )
        .with_for_update()
    )
    if enrolment is None:
        raise AttendanceError(_l("Học viên không có trong danh sách lớp."))
    row = record_of(session, user)
    before = None if row is None else {"status": str(row.status), "method": str(row.method)}
    if row is None:
        row = AttendanceRecord(
            session_id=session.id,
            user_id=user.id,
            status=status,
            method=method,
            recorded_by_id=actor.user_id,
            recorded_at=now,
            ip=ip[:64],
            device=device[:200],
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:
            # Recorded at the same moment by another request: that row is the record.
            row = record_of(session, user)
            before = {"status": str(row.status), "method": str(row.method)}
    if before is not None:
        if before == {"status": str(status), "method": str(method)} or (
            method in (Method.qr, Method.code) and row.status in (Status.present, Status.late)
        ):
            return row  # unchanged, or a second check-in of someone already there
        row.status, row.method, row.recorded_by_id, row.recorded_at = (
            status,
            method,
            actor.user_id,
            now,
        )
        db.session.flush()
    recount(enrolment)
    audit.record(
        actor,
        "attendance.record",
        "attendance",
        f"{session.id}:{user.id}",
        before,
        {"status": str(status), "method": str(method), "session": session.number},
    )
    signals.attendance_changed.send(user, training_class=session.training_class, now=now)
    return row


def checkin_failed(
    actor: Actor,
    reason: str,
    training_class: TrainingClass | None = None,
    session: ClassSession | None = None,
) -> None:
    """Audit a refused check-in try (never the code or token tried)."""
    audit.record(
        actor,
        "attendance.checkin_failed",
        "class" if training_class is not None else "checkin",
        training_class.id if training_class is not None else "",
        None,
        {"reason": reason, "session": session.number if session is not None else None},
    )


def check_in(
    actor: Actor,
    session: ClassSession,
    user: User,
    method: Method,
    now: datetime,
    ip: str = "",
    device: str = "",
) -> AttendanceRecord:
    """A learner checks themselves in by QR or code, present or late: only while the session
    happens. A refusal is audited, then raised (the caller commits either way)."""
    if (problem := checkin_refusal(session, now)) is not None:
        checkin_failed(actor, problem.reason, session.training_class, session)
        raise problem
    status = checkin_status(session, now)
    return record(actor, session, user, status, method, now, ip=ip, device=device)


def _throttle_key(training_class: TrainingClass, user: User) -> str:
    return f"checkin:{user.id}:{training_class.id}"


def session_for_code(
    actor: Actor,
    training_class: TrainingClass,
    user: User,
    code: str,
    now: datetime,
    secret: bytes,
) -> ClassSession:
    """The session of *training_class* happening now whose current code is *code*.

    A code is tried only against the sessions open for check-in at *now* (usually one), and
    the learner's wrong codes in this class are throttled (accounts.throttle: a few free, then
    a doubling delay up to CHECKIN_THROTTLE_MAX_DELAY). Raises CheckinThrottled while the delay
    runs (even for the right code), SessionNotStarted saying when the next session opens,
    CheckinClosed, or WrongCode. Every refusal is audited; the caller commits either way.
    """
    cfg = current_app.config
    key = _throttle_key(training_class, user)
    wait = throttle.blocked_for([key], now)
    if wait:
        checkin_failed(actor, CheckinThrottled.reason, training_class)
        raise CheckinThrottled(wait, now + timedelta(seconds=wait))
    sessions = training_class.sessions
    open_now = [s for s in sessions if checkin_refusal(s, now) is None]
    if not open_now:
        upcoming = sorted((s for s in sessions if opens_at(s) > now), key=opens_at)
        problem = (
            not_started(upcoming[0], now)
            if upcoming
            else CheckinClosed(_l("Lớp không có buổi học nào đang mở điểm danh."))
        )
        checkin_failed(actor, problem.reason, training_class, upcoming[0] if upcoming else None)
        raise problem
    timestamp = now.replace(tzinfo=UTC).timestamp()
    step = int(cfg["CHECKIN_STEP_SECONDS"])
    for session in open_now:
        try:
            checkin.verify_code(secret, session.id, code, timestamp, step)
        except checkin.CheckinRefused:
            continue
        throttle.clear(key)
        return session
    cap = int(cfg["CHECKIN_THROTTLE_MAX_DELAY"])
    throttle.record_failure(key, int(cfg["CHECKIN_THROTTLE_FREE"]), cap, now)
    checkin_failed(actor, WrongCode.reason, training_class)
    raise WrongCode(_l("Mã số không đúng hoặc đã hết hạn. Hãy nhập mã đang hiện trên màn chiếu."))


def roll_call(
    actor: Actor,
    session: ClassSession,
    statuses: dict[int, Status],
    now: datetime,
    method: Method = Method.rollcall,
) -> int:
    """Record a whole session at once (everyone not listed is present); returns changes made."""
    if (problem := not_started(session, now)) is not None:
        raise problem  # also when every learner is already recorded as listed
    changed = 0
    for user in classes.roster(session.training_class):
        status = statuses.get(user.id, Status.present)
        existing = record_of(session, user)
        if existing is None or existing.status != status:
            record(actor, session, user, status, method, now)
            changed += 1
    return changed


#: Words accepted for a status in a sheet file (compared without accents and case).
SHEET_WORDS = {
    "co mat": Status.present,
    "x": Status.present,
    "p": Status.present,
    "present": Status.present,
    "di muon": Status.late,
    "m": Status.late,
    "late": Status.late,
    "vang co phep": Status.excused,
    "cp": Status.excused,
    "excused": Status.excused,
    "vang khong phep": Status.absent,
    "v": Status.absent,
    "kp": Status.absent,
    "absent": Status.absent,
}


def read_sheet(training_class: TrainingClass, data: bytes) -> tuple[list, list[str]]:
    """Paper marks from a CSV (UTF-8): a login column, then one column per session ("Buổi 1", …).

    Returns ([(session, user, status)], problems); apply the marks only when there is no problem.
    """
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error):  # csv.Error: e.g. a field over csv's size limit
        return [], [str(_l("Tệp phải được lưu dạng CSV UTF-8."))]
    if not rows:
        return [], [str(_l("Tệp trống."))]
    header = [fold(h).strip() for h in rows[0]]
    sessions = {s.number: s for s in training_class.sessions}
    columns = {}
    for index, name in enumerate(header[1:], start=1):
        number = name.removeprefix("buoi").strip()
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not (number.isascii() and number.isdigit()) or int(number) not in sessions:
            return [], [str(_l("Cột %(c)s: không có buổi học này.", c=rows[0][index][:40]))]
        columns[index] = sessions[int(number)]
    marks, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        user = accounts.find_by_login(row[0])
        if user is None or not classes.is_enrolled(training_class, user):
            problems.append(
                str(_l("Dòng %(n)s: không có học viên '%(x)s' trong lớp.", n=line, x=row[0][:60]))
            )
            continue
        for index, class_session in columns.items():
            word = fold(row[index]).strip() if index < len(row) else ""
            if not word:
                continue
            if word not in SHEET_WORDS:
                problems.append(
                    str(_l("Dòng %(n)s: không hiểu '%(x)s'.", n=line, x=row[index][:30]))
                )
                continue
            marks.append((class_session, user, SHEET_WORDS[word]))
    return marks, problems


def weights(count_excused: bool, late_weight: float = 1.0) -> dict[Status, Decimal]:
    """How much of a session's periods each status counts for."""
    return {
        Status.present: Decimal(1),
        Status.late: Decimal(str(late_weight)),
        Status.excused: Decimal(1) if count_excused else Decimal(0),
        Status.absent: Decimal(0),
    }


def attended_periods(
    training_class: TrainingClass, user: User, count_excused: bool, late_weight: float = 1.0
) -> tuple[Decimal, int]:
    """(periods attended, weighted by status; periods of the class) for a learner: the class's
    own sessions only (those within its dates), as the attendance share counts them."""
    weight = weights(count_excused, late_weight)
    stmt = (
        select(AttendanceRecord)
        .join(ClassSession)
        .where(ClassSession.class_id == training_class.id, AttendanceRecord.user_id == user.id)
    )
    status = {r.session_id: r.status for r in db.session.scalars(stmt)}
    got = sum(
        (
            s.periods * weight[Status(status[s.id])]
            for s in training_class.own_sessions
            if s.id in status
        ),
        Decimal(0),
    )
    held = sum(s.periods for s in training_class.own_sessions)
    return got.normalize() if got else Decimal(0), held


def below_threshold(training_class: TrainingClass, people: list[User], on: date) -> list[tuple]:
    """Learners whose attendance so far (sessions up to *on*) is below the rule's share:
    (user, periods attended, periods held so far)."""
    rule = training_class.completion_rule()
    share = rule.share
    held_sessions = [s for s in training_class.own_sessions if s.on <= on]
    held = sum(s.periods for s in held_sessions)
    if not share or not held:
        return []
    weight = weights(rule.count_excused, rule.late_weight)
    records = records_of_class(training_class)
    flagged = []
    for user in people:
        got = sum(
            (
                s.periods * weight[Status(r.status)]
                for s in held_sessions
                if (r := records.get((s.id, user.id))) is not None
            ),
            Decimal(0),
        )
        if Decimal(got) < share * held:
            flagged.append((user, got, held))
    return flagged


# -- the completion rule ---------------------------------------------------------------------


@dataclass
class Check:
    key: str
    label: str
    done: bool
    detail: str = ""


@dataclass
class Checklist:
    items: list[Check] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[Check]:
        return [item for item in self.items if not item.done]


def class_has_ended(training_class: TrainingClass, now: datetime) -> bool:
    """The completion rule's time condition: a class is complete for nobody before its last own
    session has ended (or, without sessions, before its last day is over)."""
    return now >= training_class.ends_at


def checklist(training_class: TrainingClass, user: User, now: datetime | None = None) -> Checklist:
    """What completing this class requires of *user*, item by item, done or missing (at *now*,
    by default the present moment)."""
    now = now or utcnow()
    rule = training_class.completion_rule()
    module = training_class.module
    version = training_class.version or module.published_version
    items = []
    if rule.lessons == "all" and version is not None:
        read = catalog.read_slugs(user, module)
        missing = [x.title for x in version.lessons if x.slug not in read]
        items.append(
            Check(
                "lessons",
                str(_l("Đọc hết các bài học")),
                not missing,
                str(_l("còn %(n)s bài", n=len(missing))) if missing else "",
            )
        )
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    attempts = quizzes.attempts_of(quiz, user) if quiz is not None else []
    if rule.quiz and quiz is not None:
        result = quizzes.result_of(quiz, attempts)
        passed = result is not None and result >= quiz.pass_mark
        items.append(
            Check(
                "quiz",
                str(_l("Đạt bài kiểm tra")),
                passed,
                format_score(result, 10),
            )
        )
    if rule.essay:
        essays = [
            i.fraction
            for a in attempts
            if a.state == AttemptState.graded
            for i in a.items
            if i.kind == "essay"
        ]
        ok = bool(essays) and all(f is not None and f >= Decimal("0.5") for f in essays)
        items.append(Check("essay", str(_l("Bài thu hoạch đạt từ 5,0")), ok))
    share = rule.share
    if share > 0 and training_class.own_sessions:
        got, total = attended_periods(training_class, user, rule.count_excused, rule.late_weight)
        ok = total > 0 and Decimal(got) >= share * total
        items.append(
            Check(
                "attendance",
                str(_l("Tham dự đủ %(p)s%% số tiết", p=int(share * 100))),
                ok,
                f"{format_number(got)}/{total}",
            )
        )
    # Listed among what is missing while the class runs: said as it stands, not as the goal.
    if class_has_ended(training_class, now):
        items.append(Check("ended", str(_l("Lớp học đã kết thúc")), True))
    else:
        at = format_datetime(training_class.ends_at)
        items.append(
            Check(
                "ended",
                str(_l("Lớp học chưa kết thúc")),
                False,
                str(_l("kết thúc lúc %(t)s", t=at)),
            )
        )
    return Checklist(items)


def evaluate(training_class: TrainingClass, user: User, now: datetime) -> Completion | None:
    """Record the completion the moment the rule is met (once, and never before the class has
    ended); returns it when complete. A withdrawn learner completes nothing."""
    found = db.session.scalar(
        select(Completion).where(
            Completion.class_id == training_class.id, Completion.user_id == user.id
        )
    )
    if found is not None:
        return found
    # The one condition known without reading the learner's record: during the class (when its
    # learners take its quiz, a whole class at once, each grade under the database's write) no
    # one completes it, so the checklist's reads are not made.
    if not class_has_ended(training_class, now):
        return None
    if not classes.is_enrolled(training_class, user):
        return None
    result = checklist(training_class, user, now)
    if not result.complete:
        return None
    rule = training_class.completion_rule()
    got, total = attended_periods(training_class, user, rule.count_excused, rule.late_weight)
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == training_class.module_id))
    score = quizzes.result_of(quiz, quizzes.attempts_of(quiz, user)) if quiz is not None else None
    completion = Completion(
        class_id=training_class.id,
        user_id=user.id,
        completed_at=now,
        rule=rule.as_dict(),
        score=score,
        attendance_share=Decimal(got) / total if total else Decimal(0),
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
            db.session.flush()
    except IntegrityError:
        return db.session.scalar(
            select(Completion).where(
                Completion.class_id == training_class.id, Completion.user_id == user.id
            )
        )
    signals.completion_recorded.send(completion, now=now)
    return completion


def evaluate_class(training_class: TrainingClass, now: datetime) -> int:
    """Evaluate every learner on the roster (after the class has ended, nothing else may have
    triggered it); returns how many completions were newly recorded."""
    if not class_has_ended(training_class, now):
        return 0
    before = set(
        db.session.scalars(
            select(Completion.user_id).where(Completion.class_id == training_class.id)
        )
    )
    done = [u for u in classes.roster(training_class) if u.id not in before]
    return sum(1 for user in done if evaluate(training_class, user, now) is not None)


def _ended_classes(now: datetime, *criteria) -> list[TrainingClass]:
    """The classes a learner is on the roster of (*criteria* name the enrolment and the
    module) that have ended at *now*: the only ones a completion can be recorded in. One
    statement, its rows the classes' last days and their own sessions' (day, end time), for
    classes.models.class_end."""
    rows = db.session.execute(
        select(TrainingClass.id, TrainingClass.ends_on, ClassSession.on, ClassSession.ends_at)
        .join(Enrolment, Enrolment.class_id == TrainingClass.id)
        .outerjoin(
            ClassSession,
            and_(
                ClassSession.class_id == TrainingClass.id,
                ClassSession.on.between(TrainingClass.starts_on, TrainingClass.ends_on),
            ),
        )
        .where(Enrolment.is_active, *criteria)
    )
    last_days: dict[int, date] = {}
    sessions: dict[int, list[tuple[date, time]]] = {}
    for class_id, ends_on, on, ends_at in rows:
        last_days[class_id] = ends_on
        sessions.setdefault(class_id, [])
        if on is not None:
            sessions[class_id].append((on, ends_at))
    return [
        db.session.get_one(TrainingClass, class_id)
        for class_id, ends_on in last_days.items()
        if now >= class_end(ends_on, sessions[class_id])
    ]


@signals.attendance_changed.connect
def _on_attendance(user: User, training_class: TrainingClass, now: datetime, **_kw) -> None:
    evaluate(training_class, user, now)


@signals.lesson_read.connect
def _on_lesson_read(user: User, module, now: datetime, **_kw) -> None:
    ended = _ended_classes(now, Enrolment.user_id == user.id, TrainingClass.module_id == module.id)
    for training_class in ended:
        evaluate(training_class, user, now)


@signals.attempt_graded.connect
def _on_attempt_graded(attempt: Attempt, now: datetime, **_kw) -> None:
    # At the end of an exam a whole class's grades arrive, each under the database's write, and
    # during the class none completes it: one statement says so. It names the attempt by its
    # identity, as its columns may have been expired when the write began (SQLite), and reads
    # neither the attempt, nor its learner, nor its quiz.
    (attempt_id,) = sa.inspect(attempt).identity
    ended = _ended_classes(
        now,
        Attempt.id == attempt_id,
        Quiz.id == Attempt.quiz_id,
        TrainingClass.module_id == Quiz.module_id,
        Enrolment.user_id == Attempt.user_id,
    )
    for training_class in ended:
        evaluate(training_class, attempt.user, now)
