"""Summary rows of the unit report (reports/periodic.py), kept exact by the ORM session.

The unit report used to group every enrolment, completion and certificate of the period. It now
reads two small derived tables instead:

- ``report_unit_figures``: one row per (class, the person's unit) with the additive figures
  (active enrolments, their attendance periods by status, completions, scored completions and
  the sum of their scores, valid certificates of kind "certificate");
- ``report_unit_persons``: one narrow row per active enrolment (class, person, unit, module,
  the class's end day) for the distinct-person counts, which cannot be summed over classes. Its
  covering index answers "persons by unit and module in a period" without reading a base table.

Both are keyed by the person's *current* unit (``users.unit_id``) as the report is: merging
units (a successor) changes nothing here, the report maps units to rows when it reads.

**One home for the bookkeeping**: a session listener (``after_flush``) notes every class a flush
touched (an enrolment, withdrawal or attendance counter; a completion or grade; a certificate
issued, revoked or re-issued; a class's dates or module; a person's unit) and recomputes those
classes' rows from the base tables inside the same transaction (``refresh``). A per-class
recompute is a few grouped statements over one roster: cheap, and exact whatever path wrote.
ORM bulk statements through the session (``session.execute(update(Enrolment)...)``) are caught
by a ``do_orm_execute`` hook. Only SQL that bypasses the session (a Core connection, psql) is
not seen: the bench seed calls ``rebuild`` after its Core inserts, and ``flask reports
check-summary`` recomputes everything and lists differences (``--fix`` rebuilds).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import delete, event, func, insert, select
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


def refresh(conn: sa.Connection, class_ids: Iterable[int]) -> None:
    """Recompute the summary rows of *class_ids* from the base tables (a deleted class's rows
    go)."""
    ordered = sorted({int(i) for i in class_ids if i is not None})
    for start in range(0, len(ordered), CHUNK):
        ids = ordered[start : start + CHUNK]
        conn.execute(delete(UnitFigures).where(UnitFigures.class_id.in_(ids)))
        conn.execute(delete(UnitPerson).where(UnitPerson.class_id.in_(ids)))
        figures, persons = _computed(conn, ids)
        if figures:
            conn.execute(insert(UnitFigures), figures)
        if persons:
            conn.execute(insert(UnitPerson), persons)


def all_class_ids(conn: sa.Connection) -> list[int]:
    return list(conn.scalars(select(TrainingClass.id).order_by(TrainingClass.id)))


def rebuild(conn: sa.Connection) -> None:
    """Recompute every class's rows (and drop rows of classes that no longer exist)."""
    conn.execute(delete(UnitFigures))
    conn.execute(delete(UnitPerson))
    refresh(conn, all_class_ids(conn))


@dataclass(frozen=True)
class Difference:
    class_id: int
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


def differences(conn: sa.Connection, class_ids: Iterable[int] | None = None) -> list[Difference]:
    """Where the stored summary differs from a recomputation from the base tables (of every
    class, or of *class_ids*)."""
    ids = all_class_ids(conn) if class_ids is None else sorted(set(class_ids))
    found: list[Difference] = []
    orphans = conn.scalars(
        select(UnitFigures.class_id)
        .where(UnitFigures.class_id.not_in(select(TrainingClass.id)))
        .distinct()
    )
    found += [Difference(i, "class", "rows", None) for i in orphans]
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


@event.listens_for(Session, "after_flush")
def _keep_summary(session: Session, _context) -> None:
    """After the flush wrote the base rows (same transaction), recompute the touched classes."""
    classes, people = touched_classes(session)
    if not classes and not people:
        return
    conn = session.connection()
    if people:
        classes |= classes_of_people(conn, people)
    refresh(conn, {i for i in classes if i is not None})


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
        return None  # a class's or person's rows go with them (ON DELETE CASCADE)
    conn = state.session.connection()
    if state.is_insert:
        params = state.parameters
        rows = params if isinstance(params, list) else [params or {}]
        result = state.invoke_statement()
        refresh(conn, {r.get("class_id") for r in rows if isinstance(r, dict)})
        return result
    where = state.statement.whereclause
    before = _classes_matching(conn, entity, where)
    result = state.invoke_statement()
    after = _classes_matching(conn, entity, where) if state.is_update else set()
    refresh(conn, before | after)
    return result
