"""Completion records: one row per enrolment (a person on a class's roster) with its completion
and its valid certificate, filtered, always limited to what the viewer may see.

This is the ONE definition of a completion record. The records page, its CSV/XLSX exports,
``flask reports export``, the class dossier's list of completions and ``/api/v1/completions``
all read ``statement`` (the API only turns its rows into JSON); docs/records.md says the same
for people. The rows come from one SQLAlchemy Core SELECT, so the page reads a keyset page of it
and the exports stream it with ``yield_per`` in constant memory. Definitions:

- **status**: ``completed`` ("Hoàn thành") when a Completion exists for the person and class;
  otherwise ``not-completed`` ("Chưa hoàn thành") once the class has ended, i.e. its end date
  (``classes.ends_on``, the day of its last session) is before today (the province's calendar
  day); otherwise ``in-progress`` ("Đang học"). The class's ``status`` (planned/open/closed) plays
  no part: a closed class that is still running is in progress, an ended class nobody closed is
  over (see ``status_of`` for the same rule in Python).
- **period** (from/to, inclusive): the day the *class ends* (``classes.ends_on``), never the day
  a completion was recorded. Every record has one, completed or not, so a period holds the same
  rows whatever their status.
- **unit**: the person's current unit lies in the chosen unit's subtree, or in a unit merged into
  it (its successor lies in that subtree), or below such a unit, transitively: a commune of a
  former district reports under the unit that succeeded the district (see ``report_unit_ids``).
- **module**: the class's module (slug); **class**: the class code, ignoring case.
- **person**: every word of the search is in the name or the login, ignoring case and diacritics
  (see ``person_condition``).
- **scope**: the viewer's HR scope, always: the people of policy.people_ids(viewer), read
  as the unit ids behind it (policy.unit_ids, see ``unit_ids``); no viewer (the command
  line) or an unscoped one (admins, HR without a unit): everyone.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    values,
)
from sqlalchemy.engine import Row

from learnhub import db, policy
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import Completion
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.orgunits import services as units
from learnhub.orgunits.models import OrgUnit
from learnhub.orgunits.services import by_code as unit_by_code
from learnhub.reports import exports
from learnhub.reports.exports import Column
from learnhub.textutil import fold
from learnhub.timeutil import VN_TZ, parse_date, today

COMPLETED = "completed"
NOT_COMPLETED = "not-completed"
IN_PROGRESS = "in-progress"
STATUSES = (COMPLETED, IN_PROGRESS, NOT_COMPLETED)
STATUS_LABELS = {
    COMPLETED: _l("Hoàn thành"),
    IN_PROGRESS: _l("Đang học"),
    NOT_COMPLETED: _l("Chưa hoàn thành"),
}
#: The same labels for documents, which are always in Vietnamese (like the register).
STATUS_TEXT = {COMPLETED: "Hoàn thành", IN_PROGRESS: "Đang học", NOT_COMPLETED: "Chưa hoàn thành"}

PER_PAGE = 50
MAX_PER_PAGE = 200
#: Keyset cursors are enrolment ids (a 32-bit INTEGER column: PostgreSQL refuses larger values).
_CURSOR = re.compile(r"[0-9]{1,30}")
MAX_ID = 2**31 - 1
#: Search words: letters and digits only (everything else separates words); at most this many.
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 6
MAX_WORD_LENGTH = 40


# -- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the HR page, the exports and the command line filter on (empty: no filter)."""

    unit: str = ""  # unit code
    date_from: date | None = None  # class end date, inclusive
    date_to: date | None = None
    module: str = ""  # module slug
    klass: str = ""  # class code (case-insensitive)
    status: str = ""  # one of STATUSES
    q: str = ""  # person: name or login words
    #: One class by id (the class dossier); never read from a query string.
    class_id: int | None = None

    def args(self) -> dict[str, str]:
        """The query string that reproduces these filters (empty ones left out)."""
        out = {
            "unit": self.unit,
            "from": self.date_from.strftime("%d/%m/%Y") if self.date_from else "",
            "to": self.date_to.strftime("%d/%m/%Y") if self.date_to else "",
            "module": self.module,
            "klass": self.klass,
            "status": self.status,
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}

    @property
    def narrowed(self) -> bool:
        return bool(self.args())


@dataclass
class Parsed:
    """Filters read from a query string, the raw values to show back, and errors per field."""

    filters: Filters
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _clean(args: Mapping[str, str], name: str, limit: int) -> str:
    value = args.get(name) or ""
    value = "".join(ch for ch in value if ch.isprintable())
    return " ".join(value.split())[:limit]


def parse_date_arg(text: str) -> date:
    """A dd/mm/yyyy date (also yyyy-mm-dd) between years 1900 and 9999; ValueError otherwise."""
    day = parse_date(text)
    if day.year < 1900:
        raise ValueError(text)
    return day


def parse_filters(args: Mapping[str, str]) -> Parsed:
    """Read the filters from a query string; unusable values are reported, never raised."""
    raw = {
        "unit": _clean(args, "unit", 40),
        "from": _clean(args, "from", 20),
        "to": _clean(args, "to", 20),
        "module": _clean(args, "module", 100),
        "klass": _clean(args, "klass", 40),
        "status": _clean(args, "status", 20),
        "q": _clean(args, "q", 100),
    }
    errors: dict[str, str] = {}
    dates: dict[str, date | None] = {"from": None, "to": None}
    for name in ("from", "to"):
        if raw[name]:
            try:
                dates[name] = parse_date_arg(raw[name])
            except (ValueError, OverflowError):
                errors[name] = str(_l("Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy."))
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors["to"] = str(_l("Ngày kết thúc của kỳ không được trước ngày bắt đầu."))
    if raw["unit"] and unit_by_code(raw["unit"]) is None:
        errors["unit"] = str(_l("Không có đơn vị mã %(code)s.", code=raw["unit"]))
    status = raw["status"] if raw["status"] in STATUSES else ""
    if raw["status"] and not status:
        errors["status"] = str(_l("Tình trạng không hợp lệ."))
    filters = Filters(
        unit=raw["unit"],
        date_from=dates["from"],
        date_to=dates["to"],
        module=raw["module"],
        klass=raw["klass"],
        status=status,
        q=raw["q"],
    )
    return Parsed(filters, raw, errors)


# -- units -----------------------------------------------------------------------------------


def report_unit_ids(unit: OrgUnit) -> Select:
    """SELECT of the ids of the units whose people report under *unit* (see rollup_ids)."""
    return units.rollup_ids(unit)


# -- person search ---------------------------------------------------------------------------


def _variants() -> dict[str, str]:
    """Every Latin letter that folds (textutil.fold) to each ASCII letter or digit, both cases."""
    table: dict[str, set[str]] = {}
    for code in [*range(0x30, 0x250), *range(0x1E00, 0x1F00)]:
        ch = chr(code)
        if not ch.isalnum():
            continue
        key = fold(ch)
        if len(key) == 1 and key.isascii() and key.isalnum():
            table.setdefault(key, set()).add(ch)
    return {key: "".join(sorted(chars)) for key, chars in table.items()}


_VARIANTS = _variants()


def search_words(q: str) -> list[str]:
    """The words of a search, folded (lower case, no diacritics), letters and digits only."""
    return [w[:MAX_WORD_LENGTH] for w in _WORD.findall(fold(q))][:MAX_WORDS]


def _char_class(ch: str) -> str:
    # Only letters and digits reach here, so nothing in the class needs escaping.
    return "[" + _VARIANTS.get(ch, ch + ch.upper() if ch.upper() != ch else ch) + "]"


def person_condition(q: str, dialect: str) -> ColumnElement[bool] | None:
    """Every word of *q* in the person's name or login, ignoring case and diacritics.

    There is no folded name column, and SQL's lower() does not fold Vietnamese on SQLite. So the
    folded word becomes a pattern with, in place of each letter, the class of every letter that
    folds to it ("an" -> "[aàáảãạăằắẳẵặâầấẩẫậ…A…][nñ…N…]"): GLOB on SQLite, a regular
    expression on PostgreSQL. Names are stored in NFC, as the classes are. The pattern is a bound
    parameter, and only letters and digits of the search reach it (no wildcard, no injection).
    The filter stays in SQL, so exports keep streaming.
    """
    words = search_words(q)
    if not words:
        return None
    login = _login()
    conditions = []
    for word in words:
        classes = "".join(_char_class(ch) for ch in word)
        if dialect == "sqlite":
            pattern = f"*{classes}*"
            conditions.append(or_(User.full_name.op("GLOB")(pattern), login.op("GLOB")(pattern)))
        else:
            conditions.append(
                or_(User.full_name.regexp_match(classes), login.regexp_match(classes))
            )
    return and_(*conditions)


# -- the statement ---------------------------------------------------------------------------

#: The columns of a record, in order; each Row has these names. The module's title is not a
#: column: it lives in the version's JSON, and reading it for every row would cost more than the
#: rest of the row (module_titles() maps version_id to it once).
COLUMNS = (
    "id",
    "full_name",
    "login",
    "birth_date",
    "unit_code",
    "unit_name",
    "class_code",
    "class_title",
    "module_slug",
    "version_id",
    "starts_on",
    "ends_on",
    "status",
    "completed_at",
    "score",
    "attendance_share",
    "certificate_no",
    "user_id",
)

#: SQLite: when the people in the chosen units are at least this share of all users, the page
#: walks enrolments in id order rather than gathering every match by unit and sorting them.
_WIDE_SHARE = 0.005


def class_has_ended(ends_on: date, on: date) -> bool:
    """Whether a class that ends on *ends_on* is over on day *on* (its last day is past)."""
    return ends_on < on


def status_of(completed: bool, ends_on: date, on: date) -> str:
    """The status of a record (see the module doc), for code that holds the objects already."""
    if completed:
        return COMPLETED
    return NOT_COMPLETED if class_has_ended(ends_on, on) else IN_PROGRESS


def _status_conditions(on: date) -> dict[str, ColumnElement[bool]]:
    """status_of in SQL: one condition per status (they never overlap). A missing completion is
    tested on a column of the join's condition (class_id), not on its id: PostgreSQL then plans
    "no completion" as an anti-join walked in enrolment order, where `completions.id IS NULL`
    was estimated at one row and made it join every enrolment first (6.6 s against 32 ms for an
    HR officer's first page of not-completed records at size M)."""
    missing = Completion.class_id.is_(None)
    ended = TrainingClass.ends_on < on
    return {
        COMPLETED: Completion.class_id.is_not(None),
        NOT_COMPLETED: and_(missing, ended),
        IN_PROGRESS: and_(missing, ~ended),
    }


def unit_ids(f: Filters, viewer: User | None) -> list[int] | None:
    """Ids of the units whose people the records may show: the viewer's HR scope
    (policy.unit_ids, the units behind policy.people_ids) intersected with the
    unit filter (report_unit_ids); None when neither limits anything."""
    ids: set[int] | None = None
    if viewer is not None:
        scope = policy.unit_ids(viewer, Role.hr)
        if scope is not None:
            ids = set(db.session.scalars(scope))
    if f.unit:
        unit = unit_by_code(f.unit)
        chosen = set(db.session.scalars(report_unit_ids(unit))) if unit is not None else set()
        ids = chosen if ids is None else ids & chosen
    return None if ids is None else sorted(ids)


def _unit_condition(ids: list[int], dialect: str) -> ColumnElement[bool]:
    """users.unit_id in *ids*. The ids are resolved first (a few hundred at most), so both
    planners see how selective they are. SQLite's planner still reads a list of units through
    their index, gathers every enrolment of their people and sorts them, which is slow when they
    are most of the province; so for wide lists the index is set aside (unit_id + 0) and the page
    walks enrolments in id order, stopping after one page."""
    if not ids:
        return false()
    if dialect == "sqlite":
        total = db.session.scalar(select(func.count()).select_from(User)) or 0
        people = db.session.scalar(
            select(func.count()).select_from(User).where(User.unit_id.in_(ids))
        )
        if total and people >= _WIDE_SHARE * total:
            return (User.unit_id + 0).in_(ids)
    return User.unit_id.in_(ids)


def first_enrolment_id(date_from: date | None, date_to: date | None) -> int | None:
    """The smallest enrolment id of the classes ending in the period (None: no enrolment), by
    one index probe per class (ix_enrolments_class_id_id). Enrolments are made before their
    class ends, so their ids follow the classes' dates closely: a walk in id order that starts
    here skips the years before the period instead of reading them (bench/RESULTS.md, B4)."""
    first = (
        select(func.min(Enrolment.id))
        .where(Enrolment.class_id == TrainingClass.id)
        .scalar_subquery()
    )
    stmt = select(func.min(first)).select_from(TrainingClass)
    if date_from:
        stmt = stmt.where(TrainingClass.ends_on >= date_from)
    if date_to:
        stmt = stmt.where(TrainingClass.ends_on <= date_to)
    return db.session.scalar(stmt)


def _login() -> ColumnElement[str]:
    """A person's login as the records show it: the username, else the e-mail."""
    return func.coalesce(User.username, User.email, "")


def statement(f: Filters, viewer: User | None, on: date | None = None) -> Select:
    """The completion records matching *f* that *viewer* may see (None: everyone), ordered by
    enrolment id. *on* is "today" for the status (the province's date by default)."""
    on = on or today()
    dialect = db.session.get_bind().dialect.name
    statuses = _status_conditions(on)
    stmt = (
        select(
            Enrolment.id.label("id"),
            User.full_name.label("full_name"),
            _login().label("login"),
            User.birth_date.label("birth_date"),
            OrgUnit.code.label("unit_code"),
            OrgUnit.name.label("unit_name"),
            TrainingClass.code.label("class_code"),
            TrainingClass.title.label("class_title"),
            Module.slug.label("module_slug"),
            func.coalesce(TrainingClass.version_id, Module.published_version_id).label(
                "version_id"
            ),
            TrainingClass.starts_on.label("starts_on"),
            TrainingClass.ends_on.label("ends_on"),
            case(
                (statuses[COMPLETED], literal(COMPLETED)),
                (TrainingClass.ends_on < on, literal(NOT_COMPLETED)),
                else_=literal(IN_PROGRESS),
            ).label("status"),
            Completion.completed_at.label("completed_at"),
            Completion.score.label("score"),
            Completion.attendance_share.label("attendance_share"),
            Certificate.number_label.label("certificate_no"),
            Enrolment.user_id.label("user_id"),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .where(Enrolment.is_active)
        .join(Module, Module.id == TrainingClass.module_id)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
        .outerjoin(
            Completion,
            and_(
                Completion.class_id == Enrolment.class_id, Completion.user_id == Enrolment.user_id
            ),
        )
        .outerjoin(
            # At most one: a unique partial index allows one valid certificate per class and user.
            Certificate,
            and_(
                Certificate.class_id == Enrolment.class_id,
                Certificate.user_id == Enrolment.user_id,
                Certificate.kind == Kind.certificate,
                Certificate.status == CertStatus.valid,
            ),
        )
    )
    ids = unit_ids(f, viewer)
    if ids is not None:
        stmt = stmt.where(_unit_condition(ids, dialect))
    # The page walks enrolments in id order and stops after one page: on SQLite (no planner
    # statistics) the index on classes.ends_on would make it fetch every enrolment of the
    # period's classes and sort them instead. COALESCE(x, x) is x, without the index.
    ends_on = (
        func.coalesce(TrainingClass.ends_on, TrainingClass.ends_on)
        if dialect == "sqlite"
        else TrainingClass.ends_on
    )
    if f.date_from:
        stmt = stmt.where(ends_on >= f.date_from)
    if f.date_to:
        stmt = stmt.where(ends_on <= f.date_to)
    if f.date_from or f.date_to:
        first = first_enrolment_id(f.date_from, f.date_to)
        stmt = stmt.where(Enrolment.id >= first if first is not None else false())
    if f.module:
        stmt = stmt.where(Module.slug == f.module)
    if f.class_id is not None:
        stmt = stmt.where(Enrolment.class_id == f.class_id)
    if f.klass:
        wanted = select(TrainingClass.id).where(func.lower(TrainingClass.code) == f.klass.lower())
        stmt = stmt.where(Enrolment.class_id.in_(wanted))
    if f.status:
        stmt = stmt.where(statuses[f.status])
    if f.q:
        person = person_condition(f.q, dialect)
        if person is not None:
            stmt = stmt.where(person)
    return stmt.order_by(Enrolment.id)


def module_titles() -> dict[int, str]:
    """The title of every module version, by version id (a few hundred rows at most)."""
    stmt = select(ModuleVersion.id, ModuleVersion.meta["title"].as_string())
    return {version_id: title or "" for version_id, title in db.session.execute(stmt)}


def count(stmt: Select) -> int:
    """How many records *stmt* holds."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return total or 0


def stream(stmt: Select, batch: int = 1000) -> Iterator[Row]:
    """Every row of *stmt*, fetched *batch* at a time (a server-side cursor on PostgreSQL), as
    Core rows on the session's connection (no ORM loading layer)."""
    result = db.session.connection().execute(stmt.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()


# -- keyset pages ----------------------------------------------------------------------------


def cursor(value: str | None) -> int | None:
    """A keyset cursor from the query string; anything unusable is None (the first page)."""
    value = (value or "").strip()
    return min(int(value), MAX_ID) if _CURSOR.fullmatch(value) else None


def per_page(value: str | None) -> int:
    value = (value or "").strip()
    if not re.fullmatch(r"[0-9]{1,12}", value):
        return PER_PAGE
    return min(max(int(value), 1), MAX_PER_PAGE)


@dataclass
class KeysetPage:
    rows: list[Row]
    #: Cursor of the next page (?after=) and of the previous one (?before=); None: no such page.
    next_after: int | None
    prev_before: int | None


def _exists(stmt: Select, condition: ColumnElement[bool]) -> bool:
    probe = stmt.with_only_columns(Enrolment.id).where(condition).order_by(None).limit(1)
    return db.session.execute(probe).first() is not None


def page(
    stmt: Select, after: int | None = None, before: int | None = None, size: int = PER_PAGE
) -> KeysetPage:
    """One page of *stmt* (ordered by enrolment id): the rows after *after*, or the ones just
    before *before*, or the first ones. Never OFFSET: every page costs the same."""
    if before is not None and after is None:
        found = list(
            db.session.execute(
                stmt.where(Enrolment.id < before)
                .order_by(None)
                .order_by(Enrolment.id.desc())
                .limit(size + 1)
            )
        )
        more_before = len(found) > size
        rows = list(reversed(found[:size]))
        more_after = _exists(stmt, Enrolment.id >= (rows[-1].id + 1 if rows else before))
    else:
        query = stmt if after is None else stmt.where(Enrolment.id > after)
        found = list(db.session.execute(query.limit(size + 1)))
        more_after = len(found) > size
        rows = found[:size]
        if rows:
            more_before = _exists(stmt, Enrolment.id < rows[0].id)
        else:
            more_before = after is not None and _exists(stmt, Enrolment.id <= after)
    next_after = rows[-1].id if rows and more_after else None
    if not more_before:
        prev_before = None
    elif rows:
        prev_before = rows[0].id
    else:
        prev_before = (after + 1) if after is not None else before
    return KeysetPage(rows, next_after, prev_before)


# -- values for documents --------------------------------------------------------------------


_TENTH = Decimal("0.1")
#: The province's offset from UTC (fixed: Vietnam has no daylight saving time).
_VN_OFFSET = VN_TZ.utcoffset(None)


def _decimal(value: Decimal | float) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def percent(share: Decimal | float | None) -> Decimal | None:
    """An attendance share (0..1) as a percentage with one decimal."""
    if share is None:
        return None
    return (_decimal(share) * 100).quantize(_TENTH)


#: The columns of the CSV/XLSX documents (always in Vietnamese, like the register).
EXPORT_COLUMNS = (
    Column("Họ và tên", 26),
    Column("Tên đăng nhập/Email", 22),
    Column("Ngày sinh", 12),
    Column("Mã đơn vị", 14),
    Column("Đơn vị", 30),
    Column("Mã lớp", 16),
    Column("Lớp", 36),
    Column("Chuyên đề", 32),
    Column("Ngày bắt đầu", 12),
    Column("Ngày kết thúc", 12),
    Column("Tình trạng", 16),
    Column("Ngày hoàn thành", 14),
    Column("Điểm", 8, "0.00"),
    Column("Chuyên cần (%)", 10, "0.0"),
    Column("Số vào sổ GCN", 20),
)


def document_rows(stmt: Select) -> Iterator[tuple]:
    """Every record of *stmt* as the typed values of EXPORT_COLUMNS, streamed."""
    titles = module_titles()
    status_text = STATUS_TEXT
    for (
        _id,
        full_name,
        login,
        birth_date,
        unit_code,
        unit_name,
        class_code,
        class_title,
        module_slug,
        version_id,
        starts_on,
        ends_on,
        status,
        completed_at,
        score,
        attendance_share,
        certificate_no,
        _user_id,
    ) in stream(stmt):  # unpacked by position: COLUMNS' order (much faster than by name)
        yield (
            full_name,
            login,
            birth_date,
            unit_code,
            unit_name,
            class_code,
            class_title,
            titles.get(version_id) or module_slug,
            starts_on,
            ends_on,
            status_text.get(status, status),
            (completed_at + _VN_OFFSET).date() if completed_at is not None else None,
            _decimal(score) if score is not None else None,
            percent(attendance_share),
            certificate_no,
        )


def _percent_sql(share: ColumnElement) -> ColumnElement[str]:
    """percent() in SQL: the share in whole ten-thousandths (Decimal(share) as SQLAlchemy
    reads NUMERIC(5, 4)), then tenths of a per cent rounded half to even. On SQLite the float
    is rounded to ten-thousandths by round() where Python formats "%.4f"; they differ only on
    an exact tie, whose tenths come out the same (the ten-thousandths end in 2 or 7 there)."""
    if db.session.get_bind().dialect.name == "sqlite":
        units = cast(func.round(share * 10000), Integer)
    else:
        units = cast(share * 10000, Integer)
    tenths = exports.sql_half_even(units, 1)
    return case((share.is_(None), None), else_=exports.sql_fixed_units(tenths, 1))


def _module_title(version_id: ColumnElement, slug: ColumnElement) -> ColumnElement[str]:
    """The title of module version *version_id*, or the module's *slug* (module_titles() and
    document_rows in SQL); ModuleVersion must be joined on *version_id*."""
    title = func.nullif(ModuleVersion.meta["title"].as_string(), "")
    return func.coalesce(title, slug, type_=String)


def _class_cells(code, title, module_title, starts_on, ends_on) -> list[ColumnElement[str]]:
    """The class's five cells of a record: code, title, module, first and last day."""
    text, day = exports.sql_text, exports.sql_date
    return [text(code), text(title), text(module_title), day(starts_on), day(ends_on)]


def _person_cells(full_name, login, birth_date) -> list[ColumnElement[str]]:
    """The person's first three cells of a record: name, login, birth date."""
    return [exports.sql_text(full_name), exports.sql_text(login), exports.sql_date(birth_date)]


def _materialised(query: Select, name: str):
    # Written once (SQLite would otherwise fold a CTE used once into the query, row by row).
    return query.cte(name).prefix_with("MATERIALIZED")


def _sqlite_shared_cells(r, per_person: bool) -> tuple[list[ColumnElement], list]:
    """On SQLite the database writes whole lines (exports.sql_cells): the cells of each class
    and of each unit (and with *per_person*, of each person) are written once, in
    materialised CTEs, and each record reads them as one piece instead of formatting them
    again. The record's columns up to the class's last cell, and the joins they need."""
    version_id = func.coalesce(TrainingClass.version_id, Module.published_version_id)
    classes = _materialised(
        select(
            TrainingClass.id.label("id"),
            exports.sql_cells(
                *_class_cells(
                    TrainingClass.code,
                    TrainingClass.title,
                    _module_title(version_id, Module.slug),
                    TrainingClass.starts_on,
                    TrainingClass.ends_on,
                )
            ).label("cells"),
        )
        .join(Module, Module.id == TrainingClass.module_id)
        .outerjoin(ModuleVersion, ModuleVersion.id == version_id),
        "class_cells",
    )
    text = exports.sql_text
    unit_cells = _materialised(
        select(
            OrgUnit.id.label("id"),
            exports.sql_cells(text(OrgUnit.code), text(OrgUnit.name)).label("cells"),
        ),
        "unit_cells",
    )
    # A person without a unit: two empty cells.
    unit = func.coalesce(unit_cells.c.cells, ",")
    joins = [(classes, classes.c.id == r.c.class_id, False)]
    if not per_person:
        person = _person_cells(r.c.full_name, r.c.login, r.c.birth_date)
        joins.append((unit_cells, unit_cells.c.id == r.c.unit_id, True))
        return [*person, unit, classes.c.cells], joins
    people = _materialised(
        select(
            User.id.label("id"),
            exports.sql_cells(
                *_person_cells(User.full_name, _login(), User.birth_date), unit
            ).label("cells"),
        ).outerjoin(unit_cells, unit_cells.c.id == User.unit_id),
        "person_cells",
    )
    joins.append((people, people.c.id == r.c.user_id, False))
    return [people.c.cells, classes.c.cells], joins


def _pg_module_cell(r) -> tuple[ColumnElement[str], list]:
    """On PostgreSQL, the module's cell of each record: its version's title (module_titles(),
    guarded once each, in Python) from a VALUES list joined on the version, else the module's
    slug. Read from the version's JSON, the title would be parsed again for every record (most
    of the time of a million-record export). The cell, and the join it needs."""
    cells = [
        (version_id, exports.neutralise(title))
        for version_id, title in module_titles().items()
        if title
    ]
    slug = exports.sql_text(r.c.module_slug)
    if not cells:
        return slug, []
    titles = values(
        column("version_id", Integer), column("cell", String), name="module_titles"
    ).data(cells)
    cell = func.coalesce(titles.c.cell, slug, type_=String)
    return cell, [(titles, titles.c.version_id == r.c.version_id, True)]


def document_select(stmt: Select, per_person: bool = False) -> Select:
    """The cells of document_rows as SQL text, in EXPORT_COLUMNS' order and enrolment order:
    what the fast CSV writer (exports.query_csv_chunks) sends to the database. On SQLite
    several cells come as one column (exports.sql_cells): the unit's two and the class's five,
    written once per unit and class; with *per_person*, the person's three and their unit's
    written once per person (every person's, so only worth it for a large export)."""
    r = (
        stmt.order_by(None)
        .add_columns(Enrolment.class_id.label("class_id"), User.unit_id.label("unit_id"))
        .subquery("r")
    )
    # CASE r.status WHEN …: the status (itself a CASE) is worked out once a row; its labels
    # are guarded and quoted once, in Python. r.status is always one of STATUS_TEXT's keys.
    labels = {key: exports.sql_text_constant(str(label)) for key, label in STATUS_TEXT.items()}
    status = case(labels, value=r.c.status, else_=exports.sql_text(r.c.status))
    offset = int(_VN_OFFSET.total_seconds()) // 3600
    text = exports.sql_text
    if db.session.get_bind().dialect.name == "sqlite":
        head, joins = _sqlite_shared_cells(r, per_person)
    else:
        module, joins = _pg_module_cell(r)
        head = [
            *_person_cells(r.c.full_name, r.c.login, r.c.birth_date),
            text(r.c.unit_code),
            text(r.c.unit_name),
            text(r.c.class_code),
            text(r.c.class_title),
            module,
            exports.sql_date(r.c.starts_on),
            exports.sql_date(r.c.ends_on),
        ]
    query = select(
        *head,
        status,
        exports.sql_date(r.c.completed_at, hours=offset),
        exports.sql_fixed(r.c.score, 2),
        _percent_sql(r.c.attendance_share),
        text(r.c.certificate_no),
    ).select_from(r)
    for target, on, outer in joins:
        query = query.join(target, on, isouter=outer)
    return query.order_by(r.c.id)


def csv_chunks(
    stmt: Select, written: list[int] | None = None, per_person: bool = False
) -> Iterator[bytes]:
    """The CSV document of the records of *stmt*, fast: the same bytes as
    exports.csv_chunks(EXPORT_COLUMNS, document_rows(stmt)), written by the database: COPY on
    PostgreSQL, whole lines from the SELECT on SQLite. Every CSV of completion records (the
    records page, `flask reports export`) is this one. *per_person* (SQLite): each person's
    cells are written once for everyone first, which pays off when the export holds several
    records per person (the whole-province export of the CLI), not for one class's."""
    return exports.query_csv_chunks(EXPORT_COLUMNS, document_select(stmt, per_person), written)
