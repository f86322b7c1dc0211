"""Generated data at province scale for the benchmarks (`flask bench seed`, B3 and B4).

Deterministic: one ``random.Random(seed)`` drives everything, and dates hang off a fixed day
(``AS_OF``), never off the clock, so the same size and seed give the same rows. Fast: rows are
built class by class and written with SQLAlchemy Core executemany INSERTs of ``CHUNK`` rows
(security.md §4.3), with explicit ids, in one pass; on PostgreSQL the same rows go by COPY.

What a size holds (S = a province; M = ten times S, meant for PostgreSQL):

- **users**: learners spread evenly over the *current* units of content/org-units.toml (the
  province root aside), 3% in former units (the pre-merger provinces and districts: their rows
  roll up to a successor), 1% without a unit; plus the staff accounts of ``STAFF`` (an admin,
  an unscoped HR officer, HR officers scoped to CM-UBND and to X-THOI-BINH, trainers). Every
  account has the password ``PASSWORD``: development data only.
- **classes**: over the shipped modules' published versions, starting between ``FIRST_DAY`` and
  ``LAST_DAY`` (2024-2026), sorted by start; one session a day (4 periods); closed when they
  ended before ``AS_OF``, open when they straddle it, planned after.
- **enrolments**: spread over the classes (about ± 50% around the mean), distinct learners.
- **attendance**: one record per enrolled learner and session held by ``AS_OF``; the number of
  sessions per class is chosen so that the total meets the size's figure. A learner is diligent
  (72%) or irregular; statuses are present, late, excused or absent.
- **attempts**: graded attempts of the module's quiz by the learners of closed classes
  (``attempts_allowed`` is not enforced: the volume is the point), numbered per learner and
  quiz. Attempt items (the frozen questions and answers) are **not** generated: no page that
  B3 or B4 measures reads them.
- **completions**: for the learners who met the module's rule (attendance share ≥ 0.8 and a
  passed quiz; every lesson then read), about 60% of enrolments; a **certificate** row for
  about 92% of them (1% revoked), numbered in the default issuer's register. The PDFs are
  **not** rendered: ``pdf_sha256`` is ``PDF_PLACEHOLDER`` and ``pdf_size`` 0 (a download of one
  of these fails); they exist for the volume of the reports.
- **lesson progress** of every learner in the modules of their classes.

Without attendance (``attendance=0``) or attempts (``attempts=0``), the share and the score of a
learner are still drawn the same way, so completions and certificates keep their proportions
(B3's database: a million enrolments and their completions, nothing else big).
"""

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from sqlalchemy import Engine, Table, func, insert, select, text

from learnhub import db
from learnhub.accounts import passwords
from learnhub.accounts.models import Role, RoleGrant, User
from learnhub.attendance.models import AttendanceRecord, Completion
from learnhub.catalog.models import LessonProgress, Module, ModuleVersion
from learnhub.certificates.models import Certificate, Issuer, RegisterCounter
from learnhub.certificates.services import default_issuer
from learnhub.classes.models import ClassSession, Enrolment, TrainingClass, class_trainers
from learnhub.orgunits.models import OrgUnit, UnitKind
from learnhub.quizzes.models import Attempt, Quiz
from learnhub.reports import summary

#: Rows per INSERT executemany or COPY (and per commit).
CHUNK = 10_000
#: Periods (tiết) of every generated session.
SESSION_PERIODS = 4
#: The fixed random seed (the day the merged province began).
SEED = 20250701
#: The data's "today": sessions after it have no attendance, classes ending after it are open.
AS_OF = date(2026, 11, 27)
FIRST_DAY = date(2024, 1, 2)
LAST_DAY = date(2026, 12, 15)
#: The password of every generated account.
PASSWORD = "bench seed passphrase"
PDF_PLACEHOLDER = "0" * 64
#: Sessions per class when no attendance is generated.
DEFAULT_SESSIONS = 10
#: UTC is the province's time minus 7 hours (no daylight saving time).
UTC_OFFSET = timedelta(hours=7)

TABLES: tuple[Table, ...] = (
    User.__table__,
    RoleGrant.__table__,
    TrainingClass.__table__,
    class_trainers,
    ClassSession.__table__,
    Enrolment.__table__,
    AttendanceRecord.__table__,
    Attempt.__table__,
    Completion.__table__,
    Certificate.__table__,
    LessonProgress.__table__,
)


@dataclass(frozen=True)
class Size:
    users: int
    classes: int
    enrolments: int
    attendance: int
    attempts: int

    @property
    def planned_rows(self) -> int:
        """About how many rows the size writes (for a progress bar)."""
        sessions = self.attendance // max(self.enrolments, 1) or DEFAULT_SESSIONS
        completions = int(self.enrolments * 0.58)
        return (
            2 * self.users
            + self.classes * (sessions + 3)
            + self.enrolments
            + self.attendance
            + self.attempts
            + completions
            + int(completions * 0.9)
            + min(self.users * 4, self.enrolments) * 5
        )


SIZES = {
    "S": Size(
        users=20_000,
        classes=500,
        enrolments=200_000,
        attendance=2_000_000,
        attempts=1_000_000,
    ),
    "M": Size(
        users=200_000,
        classes=5_000,
        enrolments=2_000_000,
        attendance=20_000_000,
        attempts=10_000_000,
    ),
}

#: (login, full name, [(role, scope unit code or None)]): the accounts the benchmarks sign in as.
STAFF = (
    ("bench-admin", "Quản Trị Đo Tải", [(Role.admin, None), (Role.learner, None)]),
    ("bench-hr", "Tổ Chức Toàn Tỉnh", [(Role.hr, None)]),
    ("bench-hr-ubnd", "Tổ Chức Khối Ủy Ban", [(Role.hr, "CM-UBND")]),
    ("bench-hr-xa", "Tổ Chức Xã Thới Bình", [(Role.hr, "X-THOI-BINH")]),
    *((f"bench-gv-{n:02d}", f"Giảng Viên Số {n}", [(Role.trainer, None)]) for n in range(1, 21)),
)

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
MIDDLE = ("Văn", "Thị", "Minh", "Hoàng", "Ngọc", "Thanh", "Quốc", "Thùy", "Hữu", "Kim")
GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hạnh",
    "Khải",
    "Loan",
    "Nhung",
    "Phượng",
    "Tâm",
    "Thảo",
    "Tuấn",
    "Vy",
    "Yến",
)
POSITIONS = ("Chuyên viên", "Phó Trưởng phòng", "Trưởng phòng", "Cán sự", "Công chức", "")
RANKS = ("Chuyên viên", "Chuyên viên chính", "Cán sự", "Nhân viên", "")
PLACES = ("Hội trường Sở Nội vụ", "Trường Chính trị tỉnh", "Trực tuyến", "Hội trường UBND xã")
FORMATS = ("tap-trung", "tap-trung", "truc-tuyen", "ket-hop")
#: Attendance: the status of a session attended, by cumulative share; the way it was recorded.
STATUS_DRAW = ((0.85, "present"), (0.95, "late"), (1.0, "excused"))
METHOD_DRAW = ((0.6, "qr"), (0.75, "code"), (0.95, "rollcall"), (1.0, "sheet"))


@dataclass
class Report:
    """What was written: rows per table, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


class Writer:
    """Buffers rows per table and writes them ``chunk`` at a time, one commit per chunk: Core
    executemany INSERTs, or on PostgreSQL (psycopg) ``COPY … FROM STDIN`` of the same values (each
    passed through the column type's bind processor, as the INSERT would). COPY is about twice as
    fast there and sends the same rows; SQLite keeps the INSERTs."""

    def __init__(self, chunk: int, on_rows: Callable[[int], None], copy: bool = False):
        self.chunk = chunk
        self.on_rows = on_rows
        self.copy = copy
        self.buffers: dict[Table, list[dict]] = {t: [] for t in TABLES}
        self.rows: dict[str, int] = {t.name: 0 for t in TABLES}

    def add(self, table: Table, row: dict) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self.flush(table)

    def flush(self, table: Table) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        for parent in {fk.column.table for fk in table.foreign_keys}:
            if parent is not table and parent in self.buffers:
                self.flush(parent)  # the rows referred to go first (foreign keys are on)
        connection = db.session.connection()
        if self.copy and set(rows[0]) == set(table.c.keys()):
            self._copy(connection, table, rows)
        else:
            connection.execute(insert(table), rows)
        db.session.commit()
        self.buffers[table] = []
        self.rows[table.name] += len(rows)
        self.on_rows(len(rows))

    @staticmethod
    def _copy(connection, table: Table, rows: list[dict]) -> None:
        """*rows* (every column given, so no Python-side default is due) by COPY."""
        dialect = connection.dialect
        quote = dialect.identifier_preparer.quote
        names = list(rows[0])
        processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
        columns = ", ".join(quote(name) for name in names)
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for value, process in zip(
                            (row[name] for name in names), processors, strict=True
                        )
                    ]
                )
        cursor.close()

    def flush_all(self) -> None:
        for table in TABLES:
            self.flush(table)


def _next_id(table: Table) -> int:
    return (db.session.scalar(select(func.max(table.c.id))) or 0) + 1


def _day(rng, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _utc(day: date, at: clock, minutes: int = 0) -> datetime:
    """A local (UTC+7) day and time as the naive UTC datetime the database stores."""
    return datetime.combine(day, at) - UTC_OFFSET + timedelta(minutes=minutes)


def _code(rng) -> str:
    return base64.b32encode(rng.randbytes(16)).decode("ascii").rstrip("=")


def _split(total: int, weights: list[float]) -> list[int]:
    """*total* split in proportion to *weights* (largest remainders), summing exactly."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass
class _Class:
    id: int
    module: Module
    version: ModuleVersion
    quiz_id: int
    starts_on: date
    sessions: list[tuple[int, date, clock]]  # (session id, day, start time)
    size: int
    trainer_id: int

    @property
    def ends_on(self) -> date:
        return self.sessions[-1][1]


def generate(size: Size, seed: int = SEED, chunk: int = CHUNK, on_rows=None) -> Report:
    """Write *size*'s rows into the current database (migrated, content synced); see the module
    docstring. New rows take ids after the existing ones, so it may run on a database that has
    data (the command line refuses that without --force)."""
    import random

    started = time.perf_counter()
    rng = random.Random(seed)
    dialect = db.session.get_bind().dialect.name
    copy = dialect == "postgresql" and db.session.get_bind().dialect.driver == "psycopg"
    writer = Writer(chunk, on_rows or (lambda _n: None), copy=copy)
    if dialect == "sqlite":
        # A bigger page cache for this connection: the secondary indexes grow at random places.
        db.session.execute(text("PRAGMA cache_size=-262144"))

    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.id)).all()
    current = [u.id for u in units if u.is_current(AS_OF) and u.kind != UnitKind.province.value]
    former = [u.id for u in units if not u.is_current(AS_OF) and u.valid_to is not None]
    by_code = {u.code: u.id for u in units}
    modules = db.session.scalars(
        select(Module).where(Module.published_version_id.is_not(None)).order_by(Module.slug)
    ).all()
    if not modules or not current:
        raise RuntimeError("no published module or no current unit: run `flask content sync`")
    quizzes = dict(db.session.execute(select(Quiz.module_id, Quiz.id)).all())
    lessons = {m.id: [lesson.slug for lesson in m.published_version.lessons] for m in modules}
    issuer: Issuer = default_issuer()
    db.session.commit()
    ids = {t.name: _next_id(t) for t in TABLES if "id" in t.c}

    def next_id(name: str) -> int:
        value = ids[name]
        ids[name] = value + 1
        return value

    hashed = passwords.hash_password(PASSWORD)
    joined = datetime(2023, 12, 1, 2, 0)  # noqa: DTZ001 (naive UTC, as the database stores)
    users_table, grants_table = User.__table__, RoleGrant.__table__

    # -- users -----------------------------------------------------------------------------
    staff_ids: dict[str, int] = {}
    for login, full_name, grants in STAFF:
        user_id = next_id("users")
        staff_ids[login] = user_id
        writer.add(
            users_table,
            _user_row(user_id, full_name, login, by_code.get("CM-SNV"), hashed, joined, None),
        )
        for role, scope in grants:
            writer.add(
                grants_table,
                {
                    "id": next_id("user_roles"),
                    "user_id": user_id,
                    "role": role.value,
                    "unit_id": by_code[scope] if scope else None,
                },
            )
    trainer_ids = [staff_ids[login] for login, _n, g in STAFF if g[0][0] == Role.trainer]
    admin_id = staff_ids["bench-admin"]
    learners = []
    rand, choice = rng.random, rng.choice
    for _ in range(max(size.users - len(STAFF), 0)):
        user_id = next_id("users")
        learners.append(user_id)
        draw = rand()
        if draw < 0.03 and former:
            unit_id = choice(former)
        elif draw < 0.04:
            unit_id = None
        else:
            unit_id = choice(current)
        name = f"{choice(FAMILY)} {choice(MIDDLE)} {choice(GIVEN)}"
        birth = _day(rng, date(1965, 1, 1), date(2001, 12, 31))
        row = _user_row(user_id, name, f"hv{user_id:07d}", unit_id, hashed, joined, birth)
        row["position"], row["rank"] = choice(POSITIONS), choice(RANKS)
        writer.add(users_table, row)
        writer.add(
            grants_table,
            {
                "id": next_id("user_roles"),
                "user_id": user_id,
                "role": Role.learner.value,
                "unit_id": None,
            },
        )
    writer.flush(users_table)
    writer.flush(grants_table)

    # -- classes and sessions ----------------------------------------------------------------
    n_classes = size.classes
    starts = sorted(_day(rng, FIRST_DAY, LAST_DAY) for _ in range(n_classes))
    enrolled = _split(size.enrolments, [0.5 + rand() for _ in range(n_classes)])
    if learners:
        enrolled = [min(n, len(learners)) for n in enrolled]
    # Sessions per class, so that the attendance records add up to the size's figure: the
    # latest classes first (those still running hold fewer sessions; earlier ones make up).
    counts = [DEFAULT_SESSIONS] * n_classes
    remaining_records = size.attendance
    remaining_enrolled = sum(n for n, s in zip(enrolled, starts, strict=True) if s <= AS_OF)
    for index in reversed(range(n_classes)):
        starts_on, n = starts[index], enrolled[index]
        if size.attendance and starts_on <= AS_OF and remaining_enrolled:
            counts[index] = max(1, min(30, round(remaining_records / remaining_enrolled)))
            remaining_records -= n * min(counts[index], (AS_OF - starts_on).days + 1)
            remaining_enrolled -= n
    classes: list[_Class] = []
    class_table, session_table = TrainingClass.__table__, ClassSession.__table__
    for index, (starts_on, n, count) in enumerate(zip(starts, enrolled, counts, strict=True)):
        module = modules[index % len(modules)] if index < len(modules) else choice(modules)
        class_id = next_id("classes")
        at = clock(7, 30) if rand() < 0.6 else clock(13, 30)
        sessions = [
            (next_id("class_sessions"), starts_on + timedelta(days=i), at) for i in range(count)
        ]
        version = module.published_version
        klass = _Class(
            class_id,
            module,
            version,
            quizzes.get(module.id, 0),
            starts_on,
            sessions,
            n,
            choice(trainer_ids),
        )
        classes.append(klass)
        decided = starts_on - timedelta(days=14)
        status = "closed" if klass.ends_on < AS_OF else "open" if starts_on <= AS_OF else "planned"
        writer.add(
            class_table,
            {
                "id": class_id,
                "code": f"{starts_on.year}-{module.slug[:12].upper()}-{class_id:05d}",
                "module_id": module.id,
                "version_id": version.id,
                "title": f"Lớp bồi dưỡng {version.title[:120]} (khóa {class_id})",
                "starts_on": starts_on,
                "ends_on": klass.ends_on,
                "place": choice(PLACES),
                "format": choice(FORMATS),
                "organisers": "Sở Nội vụ; Liên hiệp các tổ chức hữu nghị tỉnh",
                "decision_no": f"{class_id}/QĐ-SNV",
                "decision_on": decided,
                "issuer_id": None,
                "capacity": n,
                "status": status,
                "rule": {},
                "created_at": _utc(decided, clock(9, 0)),
            },
        )
        writer.add(class_trainers, {"class_id": class_id, "user_id": klass.trainer_id})
        ends_at = clock(11, 30) if at.hour < 12 else clock(17, 0)
        for number, (session_id, day, _at) in enumerate(sessions, start=1):
            writer.add(
                session_table,
                {
                    "id": session_id,
                    "class_id": class_id,
                    "number": number,
                    "on": day,
                    "starts_at": at,
                    "ends_at": ends_at,
                    "periods": SESSION_PERIODS,
                    "topic": f"Buổi {number}",
                },
            )
    writer.flush(class_table)
    writer.flush(class_trainers)
    writer.flush(session_table)

    # -- enrolments, attendance, attempts, completions, certificates --------------------------
    closed_enrolled = sum(c.size for c in classes if c.ends_on < AS_OF)
    remaining_attempts, remaining_closed = size.attempts, closed_enrolled
    first_attempt = ids["quiz_attempts"]
    attempt_numbers: dict[tuple[int, int], int] = {}
    progress: dict[tuple[int, int], tuple[int, int, datetime]] = {}
    register: dict[int, int] = dict(
        db.session.execute(
            select(RegisterCounter.year, RegisterCounter.last).where(
                RegisterCounter.issuer_id == issuer.id
            )
        ).all()
    )
    tables = {
        "enrolments": Enrolment.__table__,
        "attendance": AttendanceRecord.__table__,
        "attempts": Attempt.__table__,
        "completions": Completion.__table__,
        "certificates": Certificate.__table__,
    }
    issuer_data = {"code": issuer.code, "name": issuer.name, "place": issuer.place}
    for klass in classes:
        people = rng.sample(learners, klass.size) if learners else []
        closed = klass.ends_on < AS_OF
        held = [s for s in klass.sessions if s[1] <= AS_OF]
        per_person_attempts = 0.0
        if closed and size.attempts and remaining_closed:
            per_person_attempts = remaining_attempts / remaining_closed
            remaining_closed -= klass.size
        enrolled_at = _utc(klass.starts_on - timedelta(days=3), clock(8, 0))
        rule = dict(klass.version.meta.get("completion") or {})
        slugs = lessons[klass.module.id]
        issued_on = klass.ends_on + timedelta(days=7)
        issue = closed and issued_on <= AS_OF
        recorded = {sid: [_utc(day, at, m) for m in (-5, 0, 3, 8, 15)] for sid, day, at in held}
        for person in people:
            # Attendance: a diligent learner misses up to 12% of sessions, an irregular one more.
            absence = rand() * 0.12 if rand() < 0.72 else 0.15 + rand() * 0.45
            attended = 0
            # The enrolment's period counters (attendance.services.recount keeps them in the app).
            periods = dict.fromkeys(("present", "late", "excused", "absent"), 0)
            for session_id, _on, _at in held:
                draw = rand()
                if draw < absence:
                    status = "absent"
                else:
                    attended += 1
                    draw = rand()
                    status = next(s for bound, s in STATUS_DRAW if draw < bound)
                if size.attendance:
                    periods[status] += SESSION_PERIODS
                    draw = rand()
                    method = next(m for bound, m in METHOD_DRAW if draw < bound)
                    by_trainer = method in ("rollcall", "sheet")
                    writer.add(
                        tables["attendance"],
                        {
                            "id": next_id("attendance_records"),
                            "session_id": session_id,
                            "user_id": person,
                            "status": status,
                            "method": method,
                            "recorded_by_id": klass.trainer_id if by_trainer else None,
                            "recorded_at": choice(recorded[session_id]),
                            "ip": "" if by_trainer else f"10.{person % 250}.{session_id % 250}.7",
                            "device": "",
                        },
                    )
            writer.add(
                tables["enrolments"],
                {
                    "id": next_id("enrolments"),
                    "class_id": klass.id,
                    "user_id": person,
                    "enrolled_at": enrolled_at,
                    **{f"{status}_periods": n for status, n in periods.items()},
                },
            )
            share = Decimal(attended) / Decimal(len(held)) if held else Decimal(0)
            if not closed:
                if held:
                    _progress(progress, person, klass, rng.randrange(len(slugs)), enrolled_at)
                continue
            # The quiz: the best score passes (≥ 5) for 80% of learners.
            best = 5 + rand() * 5 if rand() < 0.8 else 1 + rand() * 3.9
            best = Decimal(f"{best:.2f}")
            passed_at = _utc(klass.ends_on, clock(14, 0))
            attempts = int(per_person_attempts) + (1 if rand() < per_person_attempts % 1 else 0)
            if attempts:
                key = (klass.quiz_id, person)
                number = attempt_numbers.get(key, 0)
                best_at = rng.randrange(attempts)
                for k in range(attempts):
                    number += 1
                    score = best if k == best_at else Decimal(f"{float(best) * rand():.2f}")
                    begun = _utc(klass.ends_on, clock(14, 0), 90 * k)
                    submitted = begun + timedelta(minutes=10 + rng.randrange(20))
                    if k == best_at:
                        passed_at = submitted
                    writer.add(
                        tables["attempts"],
                        {
                            "id": next_id("quiz_attempts"),
                            "quiz_id": klass.quiz_id,
                            "user_id": person,
                            "number": number,
                            "version_id": klass.version.id,
                            "state": "graded",
                            "started_at": begun,
                            "deadline_at": begun + timedelta(minutes=30),
                            "submitted_at": submitted,
                            "score": score,
                            "pass_mark": Decimal("5.00"),
                        },
                    )
                attempt_numbers[key] = number
            completed = (
                share >= Decimal("0.8") and best >= 5 and (attempts > 0 or not size.attempts)
            )
            if not completed:
                _progress(progress, person, klass, rng.randrange(len(slugs) + 1), enrolled_at)
                continue
            _progress(progress, person, klass, len(slugs), enrolled_at)
            writer.add(
                tables["completions"],
                {
                    "id": next_id("completions"),
                    "class_id": klass.id,
                    "user_id": person,
                    "completed_at": passed_at,
                    "rule": rule,
                    "score": best,
                    "attendance_share": share.quantize(Decimal("0.0001")),
                },
            )
            if not issue or rand() >= 0.92:
                continue
            year = issued_on.year
            number = register.get(year, 0) + 1
            register[year] = number
            code = _code(rng)
            revoked = rand() < 0.01
            writer.add(
                tables["certificates"],
                {
                    "id": next_id("certificates"),
                    "code": code,
                    "serial": f"{code[:5]}-{code[5:10]}",
                    "kind": "certificate",
                    "issuer_id": issuer.id,
                    "year": year,
                    "register_no": number,
                    "number_label": f"{number:03d}/{year}/GCN-{issuer.code}",
                    "user_id": person,
                    "class_id": klass.id,
                    "module_version_id": klass.version.id,
                    "data": {
                        "class_code": str(klass.id),
                        "module_title": klass.version.title,
                        "starts_on": klass.starts_on.isoformat(),
                        "ends_on": klass.ends_on.isoformat(),
                        "periods": SESSION_PERIODS * len(klass.sessions),
                        "score": f"{best:.2f}".replace(".", ","),
                        "issuer": issuer_data,
                        "seeded": True,
                    },
                    "issued_on": issued_on,
                    "issued_at": _utc(issued_on, clock(9, 0)),
                    "issued_by_id": admin_id,
                    "valid_until": None,
                    "status": "revoked" if revoked else "valid",
                    "revoked_at": _utc(issued_on, clock(16, 0)) if revoked else None,
                    "revoke_reason": "error" if revoked else None,
                    "revoke_note": "Sai sót thông tin (dữ liệu sinh)" if revoked else "",
                    "supersedes_id": None,
                    "refers_to_id": None,
                    "pdf_sha256": PDF_PLACEHOLDER,
                    "pdf_size": 0,
                },
            )
        if closed and size.attempts:
            remaining_attempts = size.attempts - (ids["quiz_attempts"] - first_attempt)
    for table in tables.values():
        writer.flush(table)

    # -- lesson progress ---------------------------------------------------------------------
    progress_table = LessonProgress.__table__
    for (person, module_id), (read, version_id, at) in progress.items():
        for slug in lessons[module_id][:read]:
            writer.add(
                progress_table,
                {
                    "id": next_id("lesson_progress"),
                    "user_id": person,
                    "module_id": module_id,
                    "lesson_slug": slug,
                    "version_id": version_id,
                    "read_at": at,
                },
            )
    writer.flush_all()
    # The rows went in through Core, past the session listener that keeps the unit report's
    # summary: compute it from the base tables, as the migration does for existing data.
    summary.rebuild(db.session.connection())

    # -- the register's counters, the sequences, the planner's statistics --------------------
    for year, last in register.items():
        counter = db.session.get(RegisterCounter, (issuer.id, year))
        if counter is None:
            db.session.add(RegisterCounter(issuer_id=issuer.id, year=year, last=last))
        else:
            counter.last = max(counter.last, last)
    db.session.commit()
    if dialect == "postgresql" and isinstance(db.session.get_bind(), Engine):
        for table in TABLES:
            if "id" in table.c:
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                    )
                )
        db.session.commit()
        # Autovacuum would analyse these tables soon; do it now so that plans are stable.
        with (
            db.session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn
        ):
            conn.execute(text("ANALYZE"))
    return Report(dict(writer.rows), time.perf_counter() - started)


def _user_row(user_id, name, login, unit_id, hashed, joined, birth) -> dict:
    return {
        "id": user_id,
        "full_name": name,
        "username": login,
        "email": None,
        "birth_date": birth,
        "position": "",
        "rank": "",
        "unit_id": unit_id,
        "password_hash": hashed,
        "is_enabled": True,
        "must_change_password": False,
        "session_version": 1,
        "created_at": joined,
        "last_login_at": None,
    }


def _progress(progress: dict, person: int, klass: _Class, read: int, at: datetime) -> None:
    """Remember the most lessons *person* read of the class's module (one row per lesson)."""
    key = (person, klass.module.id)
    known = progress.get(key)
    if known is None or known[0] < read:
        progress[key] = (read, klass.version.id, at + timedelta(days=1))


def scaled(size: Size, **overrides: int | None) -> Size:
    """*size* with some figures replaced (None keeps the size's own)."""
    return replace(size, **{k: v for k, v in overrides.items() if v is not None})


# -- for the benchmarks: run a command (the seed, an export) and measure it ----------------------


@dataclass
class Measured:
    returncode: int
    seconds: float
    #: Peak resident memory of the process (ru_maxrss of os.wait4), in MiB.
    peak_mib: float
    cpu_seconds: float
    output: str


def run_measured(cmd: list[str], env: dict[str, str], stdout=None) -> Measured:
    """Run *cmd* and return its wall time, CPU time and peak memory (its own, from os.wait4,
    not the sum of every child of this process). Output goes to *stdout* (a binary file) or is
    captured."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as captured:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=stdout or captured, stderr=captured)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        captured.seek(0)
        output = captured.read().decode("utf-8", "replace")
    return Measured(
        proc.returncode,
        seconds,
        usage.ru_maxrss / 1024,
        usage.ru_utime + usage.ru_stime,
        output,
    )


def flask_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "flask", "--app", "learnhub", *args]


def seed_database(env: dict[str, str], url: str, *options: str) -> dict:
    """`flask bench seed --database-url URL OPTIONS` in a subprocess: its rows per table, time,
    rate and peak memory. Raises when it fails."""
    import re

    run = run_measured(flask_command("bench", "seed", "--database-url", url, *options), env)
    if run.returncode != 0:
        raise RuntimeError(f"flask bench seed failed ({run.returncode}):\n{run.output[-3000:]}")
    rows = {
        m[1]: int(m[2].replace(",", ""))
        for m in re.finditer(r"^(\w+): ([\d,]+)$", run.output, re.M)
    }
    total = re.search(r"^total: ([\d,]+) rows in ([\d.]+) s \(([\d,]+) rows/s\)", run.output, re.M)
    return {
        "rows": rows,
        "total": int(total[1].replace(",", "")),
        "seconds": float(total[2]),
        "rate": float(total[3].replace(",", "")),
        "wall": run.seconds,
        "peak_mib": run.peak_mib,
        "options": " ".join(options),
        "method": "COPY" if url.startswith("postgresql") else "Core executemany",
    }
