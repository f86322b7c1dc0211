"""Summary rows of the unit report (reports/periodic.py), kept exact by the ORM session.

The unit report used to group every enrolment, completion and certificate of the period. It now
reads small derived tables instead:

- ``report_unit_figures``: one row per (class, the person's unit) with the additive figures
  (active enrolments, their attendance periods by status, completions, scored completions and
  the sum of their scores, valid certificates of kind "certificate");
- ``report_unit_persons``: one narrow row per active enrolment (class, person, unit, module,
  the class's end day) for the distinct-person counts, which cannot be summed over classes. Its
  covering index answers "persons by unit and module in a period" without reading a base table.
- ``report_unit_year_persons``: those distinct-person counts already made for the standard
  periods (every reporting year and calendar year), per unit and module and over every module:
  the default report reads a few hundred counters instead of sorting a year's roster places.
- ``report_unit_month_figures``: the additive figures summed per (month the classes end in,
  unit, module, class rule): a period reads its whole months here (36 months of a three-year
  range: about 18,000 rows at size M instead of 540,000 per-class rows) and only the days of
  a month it cuts from ``report_unit_figures``;
- ``report_module_month_persons``: the people of each (module, month) as a bitset over user
  ids. Distinct persons do not add up over months; sets do: a custom range ORs its months'
  sets and counts each unit's people in the union (``count_persons``, which reads each person's
  unit from ``users``). A person's unit is not part of the key: moving a person changes no set.
  A set takes a bit per user id up to its highest member's: 25 KB at size M's 200,000 people.

Rows with a unit are keyed by the person's *current* unit (``users.unit_id``) as the report is:
merging units (a successor) changes nothing here, the report maps units to rows when it reads.

**One home for the bookkeeping**: a session listener (``after_flush``) notes every class a flush
touched (an enrolment, withdrawal or attendance counter; a completion or grade; a certificate
issued, revoked or re-issued; a class's dates or module; a person's unit), and ``settle``
recomputes those classes' rows from the base tables once, before the transaction commits (and
before a report reads them in the same transaction): ``refresh``. A per-class recompute is a
few grouped statements over one roster: cheap, and exact whatever path wrote; once per
transaction, however many autoflushes a service made (enrolling 300 people one lookup at a
time used to recompute the class 300 times).
The month rows move by the difference between a class's per-class rows before and after
(``move_month_figures``: an upsert that adds, so two writers into one row add up). Where a
class's person rows changed (an enrolment, a withdrawal, a person's unit, the class's end day or
module; not attendance or grades), the year counters and month person sets move by the people
concerned (``move_counters``: their person rows now and before, read through
ix_report_unit_persons_user; a counter moves by how many of them entered or left it, a set
gains or loses them), so the cost follows the change, not the size of a unit's year. On
PostgreSQL the (year, unit) slices are locked first with transaction-scoped advisory locks: two
concurrent writers into one slice move it one after the other, the second reading the people's
rows after the first committed; a month's set is read under its row's lock.
ORM bulk statements through the session (``session.execute(update(Enrolment)...)``) are caught
by a ``do_orm_execute`` hook. Only SQL that bypasses the session (a Core connection, psql) is
not seen: the bench seed calls ``rebuild`` after its Core inserts, and ``flask reports
check-summary`` recomputes everything and lists differences (``--fix`` rebuilds).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import delete, distinct, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from learnhub.accounts.models import User
from learnhub.attendance.models import Completion
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.db import Base

#: Classes recomputed per statement batch (bound parameters stay well under SQLite's limit).
CHUNK = 500


class Figures:
    """The additive figures of some classes for some people (a mixin: per class and unit, and
    summed per month): active enrolments, their attendance periods by status, completions,
    scored completions and the sum of their scores, valid certificates of kind "certificate"."""

    enrolments: Mapped[int] = mapped_column(default=0)
    present_periods: Mapped[int] = mapped_column(default=0)
    late_periods: Mapped[int] = mapped_column(default=0)
    excused_periods: Mapped[int] = mapped_column(default=0)
    absent_periods: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    score_sum: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    certified: Mapped[int] = mapped_column(default=0)


class UnitFigures(Figures, Base):
    """The additive figures of one class for the people of one unit (derived data)."""

    __tablename__ = "report_unit_figures"
    __table_args__ = (sa.Index("ix_report_unit_figures_period", "ends_on", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classes.id", ondelete="CASCADE"), index=True
    )
    #: The people's current unit (None: people without a unit).
    unit_id: Mapped[int | None]
    #: Copied from the class (kept by the class's own changes).
    module_id: Mapped[int]
    ends_on: Mapped[date]
    #: Copied from the class too: the attendance weights the report applies depend on them.
    version_id: Mapped[int | None]
    #: The class's rule overrides as text (the report's grouping key; None: none stored).
    rule: Mapped[str | None] = mapped_column(sa.Text)


class UnitPerson(Base):
    """A person on a class's roster (active enrolment), with their unit (derived data)."""

    __tablename__ = "report_unit_persons"
    __table_args__ = (
        sa.Index("ix_report_unit_persons_period", "ends_on", "unit_id", "module_id", "user_id"),
        # The people whose rows changed, for moving the year counters (move_counters).
        sa.Index("ix_report_unit_persons_user", "user_id"),
    )

    class_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int | None]
    module_id: Mapped[int]
    ends_on: Mapped[date]


class YearPersons(Base):
    """Distinct persons of one standard period (a reporting or a calendar year) in one unit,
    in one module or (``module_id`` None) over every module (derived data)."""

    __tablename__ = "report_unit_year_persons"
    __table_args__ = (
        sa.Index("ix_report_unit_year_persons_period", "starts_on", "ends_on", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    unit_id: Mapped[int | None]
    #: None: the persons over every module (not a sum: a person may take several).
    module_id: Mapped[int | None]
    persons: Mapped[int]


class MonthFigures(Figures, Base):
    """The additive figures of one month's classes (by the day they end) for the people of one
    unit, per module and attendance rule: the sums of ``report_unit_figures`` (derived data). A
    custom range reads its whole months here, and only the days of its first and last month
    that the range cuts from ``report_unit_figures``."""

    __tablename__ = "report_unit_month_figures"
    __table_args__ = (
        # The sums move by upsert (one row per key, whoever writes at the same time).
        sa.UniqueConstraint(
            "month",
            "unit_key",
            "module_id",
            "version_key",
            "rule",
            name="uq_report_unit_month_figures_key",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The month's first day.
    month: Mapped[date]
    #: The people's current unit; 0: people without a unit (a key column cannot be NULL).
    unit_key: Mapped[int]
    module_id: Mapped[int]
    #: The classes' module version; 0: none.
    version_key: Mapped[int]
    #: The classes' rule overrides as text; "": none stored.
    rule: Mapped[str] = mapped_column(sa.Text)


class MonthPersons(Base):
    """The people with a place in a class of one module that ends in one month, as a bitset
    over user ids (bit *n* set: user *n*; little-endian bytes) (derived data). Distinct persons
    do not add up over months, sets do: a custom range ORs its months' sets and counts each
    unit's people in the union (``count_persons``); a person's unit is not part of the key, so
    moving a person to another unit changes no set."""

    __tablename__ = "report_module_month_persons"

    #: The month's first day (first in the key: a range reads its months).
    month: Mapped[date] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(primary_key=True)
    persons: Mapped[bytes] = mapped_column(sa.LargeBinary)


#: (first day, last day) of a standard period; with a unit id, a slice of the year counters.
Span = tuple[date, date]
Slice = tuple[date, date, int | None]


def spans_of(day: date) -> tuple[Span, Span]:
    """The standard periods a class ending on *day* counts in: its reporting year and its
    calendar year (the rules live with the report)."""
    from learnhub.reports import periodic  # periodic imports this module

    return tuple(
        (p.start, p.end)
        for p in (
            periodic.reporting_year(periodic.reporting_year_of(day)),
            periodic.calendar_year(day.year),
        )
    )


def spans_between(first: date, last: date) -> list[Span]:
    """Every standard period that holds a day from *first* to *last* (and perhaps one more
    with no day of theirs: its counters are simply none)."""
    found: set[Span] = set()
    for year in range(first.year, last.year + 1):
        found.update(spans_of(date(year, 1, 1)) + spans_of(date(year, 12, 31)))
    return sorted(found)


FIGURES = (
    "enrolments",
    "present_periods",
    "late_periods",
    "excused_periods",
    "absent_periods",
    "completed",
    "scored",
    "score_sum",
    "certified",
)


def rule_text():
    """A class's rule overrides as text: the one form the summary stores and the report groups
    by (reports/periodic.py reads the weights of each)."""
    return sa.cast(TrainingClass.rule, sa.Text)


def month_of(day: date) -> date:
    return day.replace(day=1)


def bits(blob: bytes | None) -> int:
    """A stored person set (MonthPersons.persons) as an int: bit *n* is user *n*."""
    return int.from_bytes(blob or b"", "little")


def blob(persons: int) -> bytes:
    return persons.to_bytes((persons.bit_length() + 7) // 8, "little")


def set_bit(into: bytearray, user_id: int) -> None:
    """Add user *user_id* to a person set being built as bytes (grown as needed)."""
    if len(into) <= user_id >> 3:
        into.extend(bytes((user_id >> 3) + 1 - len(into)))
    into[user_id >> 3] |= 1 << (user_id & 7)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(first: date, last: date) -> tuple[tuple[date, date] | None, list[Span]]:
    """The whole months from *first* to *last* (the first days of the first and the last of
    them; None: no whole month), and the days around them, as spans."""
    start = first if first.day == 1 else _next_month(first)
    # The last day of the last whole month.
    end = last if _next_month(last) - timedelta(days=1) == last else month_of(last) - timedelta(1)
    if start > end:
        return None, [(first, last)]
    edges = [(first, start - timedelta(days=1))] if first < start else []
    if end < last:
        edges.append((end + timedelta(days=1), last))
    return (start, month_of(end)), edges


def count_persons(
    conn: sa.Connection,
    months: tuple[date, date] | None,
    edges: list[Span],
    scope=None,
) -> tuple[list[tuple], list[tuple]]:
    """Distinct persons of a range (its whole *months* from the person sets, the days of its
    *edges* from the person rows), per (unit, module) and per unit over every module:
    ([(unit, module, persons)], [(unit, persons)]). *scope*: a SELECT of the unit ids counted
    (None: every unit, and the people without one)."""
    found: dict[int, bytearray] = {}
    for first, last in edges:
        rows = select(UnitPerson.module_id, UnitPerson.user_id).where(
            UnitPerson.ends_on >= first, UnitPerson.ends_on <= last
        )
        for module_id, user_id in conn.execute(rows):
            set_bit(found.setdefault(module_id, bytearray()), user_id)
    sets = {module_id: bits(bytes(into)) for module_id, into in found.items()}
    if months is not None:
        stored = select(MonthPersons.module_id, MonthPersons.persons).where(
            MonthPersons.month >= months[0], MonthPersons.month <= months[1]
        )
        for module_id, persons in conn.execute(stored):
            sets[module_id] = sets.get(module_id, 0) | bits(persons)
    if not sets:
        return [], []
    every = 0
    for persons in sets.values():
        every |= persons
    # Each unit's people as a set too (their current unit, as the person rows are keyed).
    members: dict[int | None, bytearray] = {}
    people = select(User.id, User.unit_id).where(User.id < every.bit_length())
    if scope is not None:
        people = people.where(User.unit_id.in_(scope))
    size = (every.bit_length() + 7) // 8
    for user_id, unit_id in conn.execute(people).all():  # fetched at once: 200,000 rows at M
        into = members.get(unit_id)
        if into is None:
            into = members[unit_id] = bytearray(size)
        set_bit(into, user_id)
    by_module, by_unit = [], []
    for unit_id, into in members.items():
        unit_people = bits(bytes(into))
        for module_id, persons in sets.items():
            n = (persons & unit_people).bit_count()
            if n:
                by_module.append((unit_id, module_id, n))
        n = (every & unit_people).bit_count()
        if n:
            by_unit.append((unit_id, n))
    return by_module, by_unit


# -- recomputing from the base tables --------------------------------------------------------


def _computed(conn: sa.Connection, ids: list[int]) -> tuple[list[dict], list[dict]]:
    """The figures and person rows of classes *ids*, from the base tables."""
    classes = {
        cid: (module_id, ends_on, version_id, rule)
        for cid, module_id, ends_on, version_id, rule in conn.execute(
            select(
                TrainingClass.id,
                TrainingClass.module_id,
                TrainingClass.ends_on,
                TrainingClass.version_id,
                rule_text(),
            ).where(TrainingClass.id.in_(ids))
        )
    }
    figures: dict[tuple[int, int | None], dict] = {}

    def row(class_id: int, unit_id: int | None) -> dict:
        key = (class_id, unit_id)
        if key not in figures:
            module_id, ends_on, version_id, rule = classes[class_id]
            figures[key] = {
                "class_id": class_id,
                "unit_id": unit_id,
                "module_id": module_id,
                "ends_on": ends_on,
                "version_id": version_id,
                "rule": rule,
                **dict.fromkeys(FIGURES, 0),
                "score_sum": Decimal(0),
            }
        return figures[key]

    enrolments = (
        select(
            Enrolment.class_id,
            User.unit_id,
            func.count(),
            func.sum(Enrolment.present_periods),
            func.sum(Enrolment.late_periods),
            func.sum(Enrolment.excused_periods),
            func.sum(Enrolment.absent_periods),
        )
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.class_id.in_(ids), Enrolment.is_active)
        .group_by(Enrolment.class_id, User.unit_id)
    )
    for class_id, unit_id, count, *periods in conn.execute(enrolments):
        r = row(class_id, unit_id)
        r["enrolments"] = count
        for name, n in zip(FIGURES[1:5], periods, strict=True):
            r[name] = int(n or 0)
    completions = (
        select(
            Completion.class_id,
            User.unit_id,
            func.count(),
            func.count(Completion.score),
            func.sum(Completion.score),
        )
        .join(User, User.id == Completion.user_id)
        .where(Completion.class_id.in_(ids))
        .group_by(Completion.class_id, User.unit_id)
    )
    for class_id, unit_id, count, scored, score_sum in conn.execute(completions):
        r = row(class_id, unit_id)
        r["completed"], r["scored"] = count, scored
        r["score_sum"] = Decimal(str(score_sum)) if score_sum is not None else Decimal(0)
    certificates = (
        select(Certificate.class_id, User.unit_id, func.count())
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.class_id.in_(ids),
            Certificate.kind == Kind.certificate,
            Certificate.status == CertStatus.valid,
        )
        .group_by(Certificate.class_id, User.unit_id)
    )
    for class_id, unit_id, count in conn.execute(certificates):
        row(class_id, unit_id)["certified"] = count
    persons = [
        {
            "class_id": class_id,
            "user_id": user_id,
            "unit_id": unit_id,
            "module_id": classes[class_id][0],
            "ends_on": classes[class_id][1],
        }
        for class_id, user_id, unit_id in conn.execute(
            select(Enrolment.class_id, Enrolment.user_id, User.unit_id)
            .join(User, User.id == Enrolment.user_id)
            .where(Enrolment.class_id.in_(ids), Enrolment.is_active)
        )
    ]
    return list(figures.values()), persons


#: {(class, person): (unit, module, end day)}: person rows, as stored or as computed.
PersonRows = dict[tuple[int, int], tuple]


def _person_rows(conn: sa.Connection, where) -> PersonRows:
    """{(class, person): (unit, module, end day)} of the stored person rows *where* selects."""
    stmt = select(
        UnitPerson.class_id,
        UnitPerson.user_id,
        UnitPerson.unit_id,
        UnitPerson.module_id,
        UnitPerson.ends_on,
    ).where(where)
    return {(c, u): (unit, m, e) for c, u, unit, m, e in conn.execute(stmt)}


def _slices(rows: Iterable[tuple]) -> set[Slice]:
    """The year-counter slices that person rows (unit, module, end day) count in."""
    return {(s, e, unit) for unit, _m, day in rows for s, e in spans_of(day)}


def _units_by_span(keys: Iterable[tuple]) -> list[tuple[Span, set[int | None]]]:
    """The units of counter keys (first day, last day, unit, ...) grouped by period, in order."""
    found: dict[Span, set[int | None]] = {}
    for key in keys:
        found.setdefault((key[0], key[1]), set()).add(key[2])
    return sorted(found.items())


def refresh(
    conn: sa.Connection,
    class_ids: Iterable[int],
    *,
    years: bool = True,
    went: PersonRows | None = None,
    went_figures: Iterable[dict] = (),
) -> None:
    """Recompute the summary rows of *class_ids* from the base tables (a deleted class's rows
    go), move the year counters and month person sets by the person rows that changed and
    those that *went* already (by ON DELETE CASCADE), and the month rows by the difference
    between the classes' figures rows before and after (and minus *went_figures*, those that
    went the same way), all in one move (not with *years* False: ``rebuild`` counts them all
    at once)."""
    ordered = sorted({int(i) for i in class_ids if i is not None})
    gone: PersonRows = dict(went or {})
    came: PersonRows = {}
    sums: MonthSums = {}
    _add_sums(sums, went_figures, -1)
    for start in range(0, len(ordered), CHUNK):
        ids = ordered[start : start + CHUNK]
        old = _person_rows(conn, UnitPerson.class_id.in_(ids))
        if years:
            _add_sums(sums, _stored_figures(conn, ids), -1)
        conn.execute(delete(UnitFigures).where(UnitFigures.class_id.in_(ids)))
        figures, persons = _computed(conn, ids)
        if figures:
            conn.execute(insert(UnitFigures), figures)
            if years:
                _add_sums(sums, figures, 1)
        new = {
            (p["class_id"], p["user_id"]): (p["unit_id"], p["module_id"], p["ends_on"])
            for p in persons
        }
        # Person rows are rewritten only for classes whose roster rows changed: attendance
        # and grades (most writes) leave them and the year counters alone.
        gone |= {k: v for k, v in old.items() if new.get(k) != v}
        came |= {k: v for k, v in new.items() if old.get(k) != v}
        classes = {k[0] for k in (*gone, *came)} & set(ids)
        if not classes:
            continue
        conn.execute(delete(UnitPerson).where(UnitPerson.class_id.in_(classes)))
        rows = [p for p in persons if p["class_id"] in classes]
        if rows:
            conn.execute(insert(UnitPerson), rows)
    if years and (gone or came):
        move_counters(conn, gone, came)
    if years:
        move_month_figures(conn, sums)


#: (month, unit key, module, version key, rule): the key of a MonthFigures row.
MonthKey = tuple[date, int, int, int, str]
MONTH_KEY = ("month", "unit_key", "module_id", "version_key", "rule")
#: {month key: [a change of each of FIGURES]}
MonthSums = dict[MonthKey, list]


def month_key(row: dict) -> MonthKey:
    """The MonthFigures row a per-class figures row adds into."""
    return (
        month_of(row["ends_on"]),
        row["unit_id"] or 0,
        row["module_id"],
        row["version_id"] or 0,
        row["rule"] or "",
    )


def _add_sums(sums: MonthSums, rows: Iterable[dict], sign: int) -> None:
    for row in rows:
        found = sums.setdefault(
            month_key(row), [Decimal(0) if n == "score_sum" else 0 for n in FIGURES]
        )
        for index, name in enumerate(FIGURES):
            found[index] += sign * row[name]


def _dialect_insert(conn: sa.Connection, model):
    """INSERT with ON CONFLICT, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def move_month_figures(conn: sa.Connection, sums: MonthSums) -> None:
    """Add *sums* into the month rows: one upsert per key, in key order (two writers into one
    key add up: the second waits for the first's row), then drop the rows that came to zero."""
    moves = sorted((k, v) for k, v in sums.items() if any(v))
    if not moves:
        return
    stmt = _dialect_insert(conn, MonthFigures)
    table = MonthFigures.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[name] for name in MONTH_KEY],
        set_={name: table.c[name] + stmt.excluded[name] for name in FIGURES},
    )
    conn.execute(
        stmt,
        [
            dict(zip(MONTH_KEY, key, strict=True)) | dict(zip(FIGURES, values, strict=True))
            for key, values in moves
        ],
    )
    conn.execute(
        delete(MonthFigures).where(
            MonthFigures.month.in_(sorted({key[0] for key, _v in moves})),
            *(getattr(MonthFigures, name) == 0 for name in FIGURES),
        )
    )


#: The first key of PostgreSQL's two-key advisory locks taken by move_counters ("LH").
LOCK_SPACE = 0x4C48


def _lock(conn: sa.Connection, slices: set[Slice]) -> None:
    """PostgreSQL: hold each (year, unit) slice until the transaction ends, taken in one
    order so that two writers cannot wait on each other here. A second writer into a slice
    reads the people's rows only after the first committed, and so counts from them."""
    if conn.dialect.name != "postgresql":
        return  # SQLite: the write lock already admits one writer at a time
    for starts_on, _ends_on, unit_id in sorted(
        slices, key=lambda s: (s[0], s[1], s[2] is not None, s[2] or 0)
    ):
        key = (starts_on.toordinal() * 1_000_003 + (unit_id or 0)) % 2**31
        conn.execute(select(func.pg_advisory_xact_lock(LOCK_SPACE, key)))


def _presence(rows: Iterable[tuple]) -> set[tuple]:
    """(first day, last day, unit, module or None, person) for person rows (person, unit,
    module, end day): where each person counts once."""
    found = set()
    for user_id, unit_id, module_id, day in rows:
        for starts_on, ends_on in spans_of(day):
            found.add((starts_on, ends_on, unit_id, module_id, user_id))
            found.add((starts_on, ends_on, unit_id, None, user_id))
    return found


def move_counters(conn: sa.Connection, gone: PersonRows, came: PersonRows) -> None:
    """Move the year counters and month person sets by person rows that went (*gone*, as they
    were) and came (*came*, as they are now stored). Only the people concerned are read: their
    person rows now, and, from those and the change, their rows before; a counter moves by how
    many of them entered or left it (a person in two classes of one module and year counts
    once), a set gains those who now have a place in its module and month and loses those who
    no longer have one."""
    slices = _slices((*gone.values(), *came.values()))
    _lock(conn, slices)
    people = sorted({user_id for _class_id, user_id in (*gone, *came)})
    now: PersonRows = {}
    for start in range(0, len(people), CHUNK):
        now |= _person_rows(conn, UnitPerson.user_id.in_(people[start : start + CHUNK]))
    before = {k: v for k, v in now.items() if k not in came} | gone
    move_month_persons(
        conn,
        _months_of((k[1], *v) for k, v in before.items()),
        _months_of((k[1], *v) for k, v in now.items()),
    )
    moves: dict[tuple, int] = {}
    after_keys = _presence((k[1], *v) for k, v in now.items())
    before_keys = _presence((k[1], *v) for k, v in before.items())
    for key in after_keys - before_keys:
        moves[key[:4]] = moves.get(key[:4], 0) + 1
    for key in before_keys - after_keys:
        moves[key[:4]] = moves.get(key[:4], 0) - 1
    moves = {k: n for k, n in moves.items() if n}
    if not moves:
        return
    t = YearPersons
    for (starts_on, ends_on), unit_ids in _units_by_span(moves):
        stored = conn.execute(
            select(t.id, t.unit_id, t.module_id, t.persons).where(
                t.starts_on == starts_on, t.ends_on == ends_on, _units_in(t.unit_id, unit_ids)
            )
        )
        for row_id, unit_id, module_id, persons in stored:
            n = moves.pop((starts_on, ends_on, unit_id, module_id), 0)
            if n and persons + n:
                conn.execute(update(t).where(t.id == row_id).values(persons=persons + n))
            elif n:
                conn.execute(delete(t).where(t.id == row_id))
    rows = [
        {"starts_on": s, "ends_on": e, "unit_id": u, "module_id": m, "persons": n}
        for (s, e, u, m), n in moves.items()
    ]
    if rows:
        conn.execute(insert(t), rows)


def _months_of(rows: Iterable[tuple]) -> set[tuple[int, date, int]]:
    """(module, month, person) for person rows (person, unit, module, end day)."""
    return {(module_id, month_of(day), user_id) for user_id, _unit, module_id, day in rows}


def move_month_persons(
    conn: sa.Connection, before: set[tuple[int, date, int]], after: set[tuple[int, date, int]]
) -> None:
    """Set the bits of people who now have a place in a (module, month) and clear those of
    people who no longer have one. Each set is read, changed and written under its row's lock
    (PostgreSQL: a row for each is made if missing, then the rows are locked in key order;
    SQLite: the writer holds the write lock already)."""
    changes: dict[tuple[int, date], list[int]] = {}
    for sign, keys in ((1, after - before), (0, before - after)):
        for module_id, month, user_id in keys:
            changes.setdefault((module_id, month), [0, 0])[sign] |= 1 << user_id
    if not changes:
        return
    keys = sorted((month, m) for m, month in changes)  # the key's order: locks in one order
    conn.execute(
        _dialect_insert(conn, MonthPersons).on_conflict_do_nothing(),
        [{"month": month, "module_id": m, "persons": b""} for month, m in keys],
    )
    t = MonthPersons
    stored = conn.execute(
        select(t.module_id, t.month, t.persons)
        .where(sa.tuple_(t.month, t.module_id).in_(keys))
        .order_by(t.month, t.module_id)
        .with_for_update()
    )
    for module_id, month, persons in stored.all():
        cleared, added = changes[module_id, month]
        now = (bits(persons) & ~cleared) | added
        where = (t.module_id == module_id, t.month == month)
        if now:
            conn.execute(update(t).where(*where).values(persons=blob(now)))
        else:
            conn.execute(delete(t).where(*where))


def _units_in(column, unit_ids: set[int | None]):
    """*column* among *unit_ids*, None meaning people without a unit."""
    known = sorted(u for u in unit_ids if u is not None)
    if None in unit_ids:
        return sa.or_(column.is_(None), column.in_(known)) if known else column.is_(None)
    return column.in_(known)


def _count_years(conn: sa.Connection) -> None:
    """Every year counter, counted from the person rows in a few grouped statements per
    standard period (rebuild and the migration's fill)."""
    conn.execute(delete(YearPersons))
    first, last = conn.execute(
        select(func.min(UnitPerson.ends_on), func.max(UnitPerson.ends_on))
    ).one()
    if first is None:
        return
    columns = ("starts_on", "ends_on", "unit_id", "module_id", "persons")
    for starts_on, ends_on in spans_between(first, last):
        span = (
            sa.literal(starts_on, sa.Date).label("starts_on"),
            sa.literal(ends_on, sa.Date).label("ends_on"),
        )
        persons = func.count(distinct(UnitPerson.user_id))
        within = (UnitPerson.ends_on >= starts_on, UnitPerson.ends_on <= ends_on)
        per_module = (
            select(*span, UnitPerson.unit_id, UnitPerson.module_id, persons)
            .where(*within)
            .group_by(UnitPerson.unit_id, UnitPerson.module_id)
        )
        every_module = (
            select(*span, UnitPerson.unit_id, sa.null().label("module_id"), persons)
            .where(*within)
            .group_by(UnitPerson.unit_id)
        )
        for stmt in (per_module, every_module):
            conn.execute(insert(YearPersons).from_select(columns, stmt))


def all_class_ids(conn: sa.Connection) -> list[int]:
    return list(conn.scalars(select(TrainingClass.id).order_by(TrainingClass.id)))


def _month_state(conn: sa.Connection, *, stored: bool, months: set[date] | None = None):
    """({month key: figures}, {(module, month): person bits}) of *months* (None: every month),
    as stored or as computed from the base tables."""
    sums: MonthSums = {}
    people: dict[tuple[int, date], int] = {}
    if stored:
        t = MonthFigures
        stmt = select(*(getattr(t, n) for n in MONTH_KEY + FIGURES))
        persons = select(MonthPersons.module_id, MonthPersons.month, MonthPersons.persons)
        if months is not None:
            stmt = stmt.where(t.month.in_(sorted(months)))
            persons = persons.where(MonthPersons.month.in_(sorted(months)))
        for row in conn.execute(stmt):
            sums[tuple(row[:5])] = list(row[5:])
        for module_id, month, persons_blob in conn.execute(persons):
            people[module_id, month] = bits(persons_blob)
    else:
        classes = select(TrainingClass.id, TrainingClass.ends_on).order_by(TrainingClass.id)
        ids = [
            class_id
            for class_id, ends_on in conn.execute(classes)
            if months is None or month_of(ends_on) in months
        ]
        # Built as bytes (an int OR per person would copy the whole set each time).
        built: dict[tuple[int, date], bytearray] = {}
        for start in range(0, len(ids), CHUNK):
            figures, persons = _computed(conn, ids[start : start + CHUNK])
            _add_sums(sums, figures, 1)
            for p in persons:
                key = (p["module_id"], month_of(p["ends_on"]))
                set_bit(built.setdefault(key, bytearray()), p["user_id"])
        people = {key: bits(bytes(into)) for key, into in built.items()}
    return sums, people


def _count_months(conn: sa.Connection) -> None:
    """Every month row and person set, from the per-class rows (rebuild and the migration's
    fill): the figures summed and the sets built in one pass over each table."""
    conn.execute(delete(MonthFigures))
    conn.execute(delete(MonthPersons))
    f = UnitFigures
    if conn.dialect.name == "postgresql":
        month = sa.cast(func.date_trunc("month", f.ends_on), sa.Date)
    else:
        month = func.date(f.ends_on, "start of month")
    key = (
        month,
        func.coalesce(f.unit_id, 0),
        f.module_id,
        func.coalesce(f.version_id, 0),
        func.coalesce(f.rule, ""),
    )
    sums = select(*key, *(func.sum(getattr(f, name)) for name in FIGURES)).group_by(*key)
    conn.execute(insert(MonthFigures).from_select(MONTH_KEY + FIGURES, sums))
    sets: dict[tuple[int, date], bytearray] = {}
    stmt = select(UnitPerson.module_id, UnitPerson.ends_on, UnitPerson.user_id)
    for module_id, ends_on, user_id in conn.execute(stmt):
        set_bit(sets.setdefault((module_id, month_of(ends_on)), bytearray()), user_id)
    if sets:
        conn.execute(
            insert(MonthPersons),
            [
                {"module_id": m, "month": month, "persons": bytes(found)}
                for (m, month), found in sorted(sets.items())
            ],
        )


def rebuild(conn: sa.Connection) -> None:
    """Recompute every class's rows (and drop rows of classes that no longer exist)."""
    conn.execute(delete(UnitFigures))
    conn.execute(delete(UnitPerson))
    refresh(conn, all_class_ids(conn), years=False)
    _count_years(conn)
    _count_months(conn)


@dataclass(frozen=True)
class Difference:
    #: None for a year counter (it belongs to no one class).
    class_id: int | None
    what: str
    stored: object
    computed: object


def _stored_figures(conn: sa.Connection, ids: list[int]) -> list[dict]:
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(
                UnitFigures.class_id,
                UnitFigures.unit_id,
                UnitFigures.module_id,
                UnitFigures.ends_on,
                UnitFigures.version_id,
                UnitFigures.rule,
                *(getattr(UnitFigures, name) for name in FIGURES),
            ).where(UnitFigures.class_id.in_(ids))
        )
    ]


def _stored(conn: sa.Connection, ids: list[int]) -> tuple[list[dict], list[dict]]:
    figures = _stored_figures(conn, ids)
    persons = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                UnitPerson.class_id,
                UnitPerson.user_id,
                UnitPerson.unit_id,
                UnitPerson.module_id,
                UnitPerson.ends_on,
            ).where(UnitPerson.class_id.in_(ids))
        )
    ]
    return figures, persons


def _keyed(rows: list[dict], key: tuple[str, ...]) -> dict:
    out = {}
    for r in rows:
        values = dict(r)
        if "score_sum" in values:
            values["score_sum"] = Decimal(str(values["score_sum"])).quantize(Decimal("0.01"))
        out[tuple(values[k] for k in key)] = values
    return out


def _year_counts(conn: sa.Connection, slices: Iterable[Slice], *, stored: bool) -> dict:
    """{(first day, last day, unit, module or None): persons} of *slices*, as stored or as
    counted from the base tables (enrolments, people, classes)."""
    found: dict = {}
    for (starts_on, ends_on), unit_ids in _units_by_span(slices):
        if stored:
            t = YearPersons
            rows = conn.execute(
                select(t.unit_id, t.module_id, t.persons).where(
                    t.starts_on == starts_on, t.ends_on == ends_on
                )
            )
        else:
            persons = func.count(distinct(Enrolment.user_id))
            base = (
                select(User.unit_id)
                .join(User, User.id == Enrolment.user_id)
                .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
                .where(
                    Enrolment.is_active,
                    TrainingClass.ends_on >= starts_on,
                    TrainingClass.ends_on <= ends_on,
                )
            )
            per_module = base.add_columns(TrainingClass.module_id, persons).group_by(
                User.unit_id, TrainingClass.module_id
            )
            every = base.add_columns(sa.null(), persons).group_by(User.unit_id)
            rows = [*conn.execute(per_module), *conn.execute(every)]
        for unit_id, module_id, n in rows:
            if unit_id in unit_ids and n:
                found[starts_on, ends_on, unit_id, module_id] = n
    return found


def differences(conn: sa.Connection, class_ids: Iterable[int] | None = None) -> list[Difference]:
    """Where the stored summary differs from a recomputation from the base tables (of every
    class and year counter, or of *class_ids* and the year counters their rows count in)."""
    ids = all_class_ids(conn) if class_ids is None else sorted(set(class_ids))
    found: list[Difference] = []
    orphans = conn.scalars(
        select(UnitFigures.class_id)
        .where(UnitFigures.class_id.not_in(select(TrainingClass.id)))
        .distinct()
    )
    found += [Difference(i, "class", "rows", None) for i in orphans]
    slices: set[Slice] = set()
    months: set[date] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for what, stored, computed, key in zip(
            ("figures", "persons"),
            _stored(conn, chunk),
            _computed(conn, chunk),
            (("class_id", "unit_id"), ("class_id", "user_id")),
            strict=True,
        ):
            a, b = _keyed(stored, key), _keyed(computed, key)
            for k in sorted(set(a) | set(b), key=repr):
                if a.get(k) != b.get(k):
                    found.append(Difference(k[0], f"{what} {k[1:]}", a.get(k), b.get(k)))
            if what == "persons":
                slices |= _slices((r["unit_id"], 0, r["ends_on"]) for r in (*stored, *computed))
            months |= {month_of(r["ends_on"]) for r in (*stored, *computed)}
    if class_ids is None:
        # Every counter: also those of units and years no class holds any more.
        spans = {
            (s, e) for s, e in conn.execute(select(YearPersons.starts_on, YearPersons.ends_on))
        }
        units = [None, *conn.scalars(select(User.unit_id).distinct())]
        units += list(conn.scalars(select(YearPersons.unit_id).distinct()))
        spans |= {(s, e) for s, e, _u in slices}
        slices |= {(s, e, u) for s, e in spans for u in units}
    a = _year_counts(conn, slices, stored=True)
    b = _year_counts(conn, slices, stored=False)
    for k in sorted(set(a) | set(b), key=repr):
        if a.get(k) != b.get(k):
            what = f"persons of {k[0]:%d/%m/%Y}–{k[1]:%d/%m/%Y}, unit {k[2]}, module {k[3]}"
            found.append(Difference(None, what, a.get(k), b.get(k)))
    return found + _month_differences(conn, None if class_ids is None else months)


def _month_differences(conn: sa.Connection, months: set[date] | None) -> list[Difference]:
    """Where the month rows and person sets differ from the base tables: of every month, or of
    *months* and every month with a stored row (a row left behind in a month a class left)."""
    if months is not None:
        months = months | set(conn.scalars(select(MonthFigures.month).distinct()))
        months |= set(conn.scalars(select(MonthPersons.month).distinct()))
    (a, a_people), (b, b_people) = (
        _month_state(conn, stored=stored, months=months) for stored in (True, False)
    )
    found = []
    for key in sorted(set(a) | set(b)):
        stored, computed = (
            None if v is None else [Decimal(str(n)).quantize(Decimal("0.01")) for n in v]
            for v in (a.get(key), b.get(key))
        )
        if stored != computed:
            what = f"figures of {key[0]:%m/%Y}, unit {key[1] or None}, module {key[2]} {key[3:]}"
            found.append(Difference(None, what, stored, computed))
    for key in sorted(set(a_people) | set(b_people)):
        stored, computed = a_people.get(key, 0), b_people.get(key, 0)
        if stored != computed:
            what = f"persons of module {key[0]} in {key[1]:%m/%Y}"
            found.append(Difference(None, what, _ids(stored), _ids(computed)))
    return found


def _ids(persons: int) -> list[int]:
    """The user ids of a person set (for a difference's message)."""
    return [i for i in range(persons.bit_length()) if persons >> i & 1]


# -- the bookkeeping: one session listener ---------------------------------------------------

#: What each watched model's rows contribute: the columns whose change alters the summary.
_WATCHED = {
    Enrolment: (
        "class_id",
        "user_id",
        "withdrawn_at",
        "present_periods",
        "late_periods",
        "excused_periods",
        "absent_periods",
        "training_class",
        "user",
    ),
    Completion: ("class_id", "user_id", "score", "training_class", "user"),
    Certificate: ("class_id", "user_id", "kind", "status", "training_class", "user"),
}


def _changed(obj, names: Iterable[str]) -> bool:
    attrs = sa.inspect(obj).attrs
    return any(name in attrs and attrs[name].history.has_changes() for name in names)


def _class_ids(obj) -> list:
    """The row's class now and before (a row moved to another class), also when the class was
    given as an object (its id is set by the flush)."""
    state = sa.inspect(obj)
    history = state.attrs["class_id"].history
    ids = [obj.class_id, *history.added, *history.unchanged, *history.deleted]
    related = state.dict.get("training_class")
    if related is not None:
        ids.append(related.id)
    return ids


#: A class's columns (and relationships) copied into its summary rows.
_CLASS_COLUMNS = ("ends_on", "module_id", "module", "version_id", "version", "rule")


def touched_classes(session: Session) -> tuple[set[int], set[int]]:
    """(class ids, user ids whose unit changed) that the pending flush touches."""
    classes: set[int] = set()
    people: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, tuple(_WATCHED)):
            classes.update(_class_ids(obj))
        elif isinstance(obj, TrainingClass):
            classes.add(obj.id)
    for obj in session.dirty:
        names = _WATCHED.get(type(obj))
        if names is not None and _changed(obj, names):
            classes.update(_class_ids(obj))
        elif isinstance(obj, TrainingClass) and _changed(obj, _CLASS_COLUMNS):
            classes.add(obj.id)
        elif isinstance(obj, User) and _changed(obj, ("unit_id", "unit")):
            people.add(obj.id)
    return classes, people


def classes_of_people(conn: sa.Connection, user_ids: set[int]) -> set[int]:
    """Every class where these people have an enrolment, a completion or a certificate."""
    ids = list(user_ids)
    stmt = sa.union(
        select(Enrolment.class_id).where(Enrolment.user_id.in_(ids)),
        select(Completion.class_id).where(Completion.user_id.in_(ids)),
        select(Certificate.class_id).where(Certificate.user_id.in_(ids)),
    )
    return set(conn.scalars(stmt))


@dataclass
class Pending:
    """What the transaction's flushes touched, for ``settle`` to recompute once."""

    classes: set[int] = field(default_factory=set)
    #: People whose unit changed: every class of theirs.
    people: set[int] = field(default_factory=set)
    #: Person rows that went with a deleted class or person (ON DELETE CASCADE), as they were.
    going: PersonRows = field(default_factory=dict)
    #: The figures rows that went with a deleted class, as they were (for the month rows).
    going_figures: list[dict] = field(default_factory=list)


#: session.info key of the transaction's Pending.
_PENDING = "learnhub.summary.pending"


def _pending(session: Session) -> Pending:
    return session.info.setdefault(_PENDING, Pending())


def settle(session: Session) -> None:
    """Recompute what the transaction's flushes touched so far (each class once, however many
    flushes touched it): called before every commit, and by the readers of the summary so they
    see the transaction's own writes."""
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    conn = session.connection()
    classes = set(pending.classes)
    if pending.people:
        classes |= classes_of_people(conn, pending.people)
    refresh(conn, classes, went=pending.going, went_figures=pending.going_figures)


@event.listens_for(Session, "before_flush")
def _note_deleted(session: Session, _context, _instances) -> None:
    """A deleted class or person takes its person rows with it (ON DELETE CASCADE): note them
    while they are still there, for the year counters."""
    classes = [o.id for o in session.deleted if isinstance(o, TrainingClass)]
    people = [o.id for o in session.deleted if isinstance(o, User)]
    if not classes and not people:
        return
    where = sa.or_(UnitPerson.class_id.in_(classes), UnitPerson.user_id.in_(people))
    pending = _pending(session)
    pending.going |= _person_rows(session.connection(), where)
    if classes:
        pending.going_figures += _stored_figures(session.connection(), classes)


@event.listens_for(Session, "after_flush")
def _note_touched(session: Session, _context) -> None:
    """Note the classes the flush touched; ``settle`` recomputes them before the commit (a
    roster of 300 enrolled one autoflush at a time is then recomputed once, not 300 times)."""
    classes, people = touched_classes(session)
    if classes or people:
        pending = _pending(session)
        pending.classes |= {i for i in classes if i is not None}
        pending.people |= people


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    """The summary is written in the same transaction as the base rows it follows."""
    session.flush()
    settle(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """A rolled-back transaction's notes go with it (a savepoint's stay with the outer one)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


#: The columns of a bulk UPDATE that change the summary, for the models that are not _WATCHED.
_BULK_COLUMNS = {TrainingClass: ("ends_on", "module_id", "version_id", "rule"), User: ("unit_id",)}


def _set_columns(stmt) -> set[str] | None:
    """The names an UPDATE sets (None when they cannot be told: treat it as relevant)."""
    values = getattr(stmt, "_values", None)
    if not values:
        return None
    return {getattr(k, "key", k) for k in values}


def _classes_matching(conn: sa.Connection, entity, where) -> set[int]:
    """The classes whose rows the rows of *entity* that *where* matches feed."""
    if entity is User:
        stmt = select(User.id)
    elif entity is TrainingClass:
        stmt = select(TrainingClass.id)
    else:
        stmt = select(entity.class_id)
    if where is not None:
        stmt = stmt.where(where)
    ids = set(conn.scalars(stmt))
    return classes_of_people(conn, ids) if entity is User and ids else ids


@event.listens_for(Session, "do_orm_execute")
def _keep_summary_bulk(state) -> object:
    """ORM bulk statements (``session.execute(update(Enrolment)...)``) bypass the flush: the
    classes their rows feed are found with the statement's own WHERE (before, and for an UPDATE
    after it ran) and recomputed in the same transaction."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    entity = (state.statement.entity_description or {}).get("entity")
    watched = entity in _WATCHED
    if not watched and entity not in _BULK_COLUMNS:
        return None
    if state.is_update and not watched:
        names = _set_columns(state.statement)
        if names is not None and not names & set(_BULK_COLUMNS[entity]):
            return None
    if (state.is_delete or state.is_insert) and not watched:
        # A class's or person's rows go with them (ON DELETE CASCADE); neither can go in bulk
        # while an enrolment holds it (no cascade there), so no person row goes that way.
        return None
    conn = state.session.connection()
    if state.is_insert:
        params = state.parameters
        rows = params if isinstance(params, list) else [params or {}]
        result = state.invoke_statement()
        classes = {r.get("class_id") for r in rows if isinstance(r, dict)}
        _pending(state.session).classes |= {i for i in classes if i is not None}
        return result
    where = state.statement.whereclause
    before = _classes_matching(conn, entity, where)
    result = state.invoke_statement()
    after = _classes_matching(conn, entity, where) if state.is_update else set()
    _pending(state.session).classes |= before | after
    return result
