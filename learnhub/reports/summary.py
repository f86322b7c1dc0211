"""Summary rows of the unit report (reports/periodic.py), kept exact by the ORM session.

The unit report used to group every enrolment, completion and certificate of the period. It now
reads two small derived tables instead:

- ``report_unit_figures``: one row per (class, the person's unit) with the additive figures
  (active enrolments, their attendance periods by status, completions, scored completions and
  the sum of their scores, valid certificates of kind "certificate");
- ``report_unit_persons``: one narrow row per active enrolment (class, person, unit, module,
  the class's end day) for the distinct-person counts, which cannot be summed over classes. Its
  covering index answers "persons by unit and module in a period" without reading a base table.
- ``report_unit_year_persons``: those distinct-person counts already made for the standard
  periods (every reporting year and calendar year), per unit and module and over every module:
  the default report reads a few hundred counters instead of sorting a year's roster places.
  A custom range still counts from ``report_unit_persons``.

Both are keyed by the person's *current* unit (``users.unit_id``) as the report is: merging
units (a successor) changes nothing here, the report maps units to rows when it reads.

**One home for the bookkeeping**: a session listener (``after_flush``) notes every class a flush
touched (an enrolment, withdrawal or attendance counter; a completion or grade; a certificate
issued, revoked or re-issued; a class's dates or module; a person's unit), and ``settle``
recomputes those classes' rows from the base tables once, before the transaction commits (and
before a report reads them in the same transaction): ``refresh``. A per-class recompute is a
few grouped statements over one roster: cheap, and exact whatever path wrote; once per
transaction, however many autoflushes a service made (enrolling 300 people one lookup at a
time used to recompute the class 300 times).
Where a class's person rows changed (an enrolment, a withdrawal, a person's unit, the class's
end day or module; not attendance or grades), the year counters move by the people concerned
(``move_counters``: their person rows now and before, read through ix_report_unit_persons_user;
a counter moves by how many of them entered or left it), so the cost follows the change, not
the size of a unit's year. On PostgreSQL the (year, unit) slices are locked first with
transaction-scoped advisory locks: two concurrent writers into one slice move it one after
the other, the second reading the people's rows after the first committed.
ORM bulk statements through the session (``session.execute(update(Enrolment)...)``) are caught
by a ``do_orm_execute`` hook. Only SQL that bypasses the session (a Core connection, psql) is
not seen: the bench seed calls ``rebuild`` after its Core inserts, and ``flask reports
check-summary`` recomputes everything and lists differences (``--fix`` rebuilds).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import delete, distinct, event, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from learnhub.accounts.models import User
from learnhub.attendance.models import Completion
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.db import Base

#: Classes recomputed per statement batch (bound parameters stay well under SQLite's limit).
CHUNK = 500


class UnitFigures(Base):
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
    enrolments: Mapped[int] = mapped_column(default=0)
    present_periods: Mapped[int] = mapped_column(default=0)
    late_periods: Mapped[int] = mapped_column(default=0)
    excused_periods: Mapped[int] = mapped_column(default=0)
    absent_periods: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    score_sum: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    certified: Mapped[int] = mapped_column(default=0)


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


# -- recomputing from the base tables --------------------------------------------------------


def _computed(conn: sa.Connection, ids: list[int]) -> tuple[list[dict], list[dict]]:
    """The figures and person rows of classes *ids*, from the base tables."""
    classes = {
        cid: (module_id, ends_on)
        for cid, module_id, ends_on in conn.execute(
            select(TrainingClass.id, TrainingClass.module_id, TrainingClass.ends_on).where(
                TrainingClass.id.in_(ids)
            )
        )
    }
    figures: dict[tuple[int, int | None], dict] = {}

    def row(class_id: int, unit_id: int | None) -> dict:
        key = (class_id, unit_id)
        if key not in figures:
            module_id, ends_on = classes[class_id]
            figures[key] = {
                "class_id": class_id,
                "unit_id": unit_id,
                "module_id": module_id,
                "ends_on": ends_on,
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
) -> None:
    """Recompute the summary rows of *class_ids* from the base tables (a deleted class's rows
    go), and move the year counters by the person rows that changed and those that *went*
    already (by ON DELETE CASCADE), all in one move (not with *years* False: ``rebuild``
    counts them all at once)."""
    ordered = sorted({int(i) for i in class_ids if i is not None})
    gone: PersonRows = dict(went or {})
    came: PersonRows = {}
    for start in range(0, len(ordered), CHUNK):
        ids = ordered[start : start + CHUNK]
        old = _person_rows(conn, UnitPerson.class_id.in_(ids))
        conn.execute(delete(UnitFigures).where(UnitFigures.class_id.in_(ids)))
        figures, persons = _computed(conn, ids)
        if figures:
            conn.execute(insert(UnitFigures), figures)
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
    """Move the year counters by person rows that went (*gone*, as they were) and came
    (*came*, as they are now stored). Only the people concerned are read: their person rows
    now, and, from those and the change, their rows before; a counter moves by how many of
    them entered or left it (a person in two classes of one module and year counts once)."""
    slices = _slices((*gone.values(), *came.values()))
    _lock(conn, slices)
    people = sorted({user_id for _class_id, user_id in (*gone, *came)})
    now: PersonRows = {}
    for start in range(0, len(people), CHUNK):
        now |= _person_rows(conn, UnitPerson.user_id.in_(people[start : start + CHUNK]))
    before = {k: v for k, v in now.items() if k not in came} | gone
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


def rebuild(conn: sa.Connection) -> None:
    """Recompute every class's rows (and drop rows of classes that no longer exist)."""
    conn.execute(delete(UnitFigures))
    conn.execute(delete(UnitPerson))
    refresh(conn, all_class_ids(conn), years=False)
    _count_years(conn)


@dataclass(frozen=True)
class Difference:
    #: None for a year counter (it belongs to no one class).
    class_id: int | None
    what: str
    stored: object
    computed: object


def _stored(conn: sa.Connection, ids: list[int]) -> tuple[list[dict], list[dict]]:
    figures = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                UnitFigures.class_id,
                UnitFigures.unit_id,
                UnitFigures.module_id,
                UnitFigures.ends_on,
                *(getattr(UnitFigures, name) for name in FIGURES),
            ).where(UnitFigures.class_id.in_(ids))
        )
    ]
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
    return found


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
        elif isinstance(obj, TrainingClass) and _changed(obj, ("ends_on", "module_id", "module")):
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
    refresh(conn, classes, went=pending.going)


@event.listens_for(Session, "before_flush")
def _note_deleted(session: Session, _context, _instances) -> None:
    """A deleted class or person takes its person rows with it (ON DELETE CASCADE): note them
    while they are still there, for the year counters."""
    classes = [o.id for o in session.deleted if isinstance(o, TrainingClass)]
    people = [o.id for o in session.deleted if isinstance(o, User)]
    if not classes and not people:
        return
    where = sa.or_(UnitPerson.class_id.in_(classes), UnitPerson.user_id.in_(people))
    _pending(session).going |= _person_rows(session.connection(), where)


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
_BULK_COLUMNS = {TrainingClass: ("ends_on", "module_id"), User: ("unit_id",)}


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
