"""Organisational-unit queries (subtrees, successors) and changes (sync, edit)."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, or_, select

from learnhub import db
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.orgunits.models import OrgUnit, UnitKind
from learnhub.textutil import collation_key


class UnitError(Exception):
    """A rule about the unit tree says no; the message is shown to the person."""


def by_code(code: str) -> OrgUnit | None:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def tree() -> list[OrgUnit]:
    """Every unit in tree order (each parent followed by its subtree)."""
    units = db.session.scalars(select(OrgUnit)).all()
    return sorted(units, key=_tree_key(units))


def current_tree(on: date | None = None) -> list[OrgUnit]:
    """Units that exist on *on* (today by default), in tree order."""
    on = on or date.today()  # noqa: DTZ011 (a calendar day in the province is what matters)
    return [u for u in tree() if u.is_current(on)]


def _tree_key(units: list[OrgUnit]):
    names = {u.id: u for u in units}

    def key(unit: OrgUnit) -> tuple:
        ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        return tuple(
            (_kind_order(names[i]), collation_key(names[i].name)) for i in ids if i in names
        )

    return key


_KIND_ORDER = list(UnitKind)


def _kind_order(unit: OrgUnit) -> int:
    return _KIND_ORDER.index(UnitKind(unit.kind))


def subtree_ids(unit: OrgUnit) -> Select:
    """SELECT of the ids of *unit* and every unit below it (one indexed prefix match)."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def _under(paths: set[str]) -> ColumnElement[bool]:
    return or_(*(OrgUnit.path.startswith(p, autoescape=True) for p in sorted(paths)))


def rollup_ids(unit: OrgUnit) -> Select:
    """SELECT of the ids of the units whose people report under *unit*: its subtree, the units
    merged into it, what lies below a merged unit (a commune of a former district with no
    successor of its own reports under the district's successor), and chains of mergers. The
    tree is small, so the merged roots are found with a few short queries; the result is one
    prefix match per root."""
    paths = {unit.path}
    while True:
        merged = db.session.scalars(
            select(OrgUnit.path).where(
                OrgUnit.successor_id.in_(select(OrgUnit.id).where(_under(paths)))
            )
        )
        new = {p for p in merged if not any(p.startswith(known) for known in paths)}
        if not new:
            return select(OrgUnit.id).where(_under(paths))
        paths |= new


def _set_path(unit: OrgUnit) -> None:
    old = unit.path
    prefix = unit.parent.path if unit.parent is not None else "/"
    unit.path = f"{prefix}{unit.id}/"
    if old and old != "/" and old != unit.path:
        below = db.session.scalars(
            select(OrgUnit).where(
                OrgUnit.path.startswith(old, autoescape=True), OrgUnit.id != unit.id
            )
        ).all()
        for child in below:
            child.path = unit.path + child.path.removeprefix(old)


@dataclass(frozen=True)
class UnitData:
    """The editable fields of a unit, as read from org-units.toml or a form."""

    code: str
    name: str
    kind: UnitKind
    parent_code: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str = ""
    former_district: str = ""
    note: str = ""


def _snapshot(unit: OrgUnit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": str(unit.kind),
        "parent": unit.parent.code if unit.parent else "",
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "successor": unit.successor.code if unit.successor else "",
        "former_district": unit.former_district or "",
        "note": unit.note,
    }


def _resolve(code: str, what: str) -> OrgUnit | None:
    if not code:
        return None
    found = by_code(code)
    if found is None:
        raise UnitError(f"{what} '{code}' không tồn tại.")
    return found


def save_unit(actor: Actor, data: UnitData, unit: OrgUnit | None = None) -> tuple[OrgUnit, bool]:
    """Create or update a unit from *data*; returns (unit, changed). Audited when changed."""
    unit = unit or by_code(data.code)
    parent = _resolve(data.parent_code, "Đơn vị cấp trên")
    if unit is not None and parent is not None and unit.contains(parent):
        raise UnitError(_l("Không thể đặt một đơn vị dưới chính nó hoặc đơn vị cấp dưới của nó."))
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        raise UnitError(_l("Ngày hết hiệu lực phải sau ngày bắt đầu."))
    creating = unit is None
    if creating:
        unit = OrgUnit(code=data.code, name=data.name, kind=data.kind, path="/")
        db.session.add(unit)
        before = None
    else:
        before = _snapshot(unit)
    unit.code = data.code
    unit.name = data.name
    unit.kind = data.kind
    unit.parent = parent
    unit.valid_from, unit.valid_to = data.valid_from, data.valid_to
    unit.former_district = data.former_district or None
    unit.note = data.note
    db.session.flush()
    if data.successor_code != (unit.successor.code if unit.successor else ""):
        successor = _resolve(data.successor_code, "Đơn vị kế thừa")
        _check_successor(unit, successor)  # before the change: nothing half-done
        unit.successor = successor
    _set_path(unit)
    db.session.flush()
    after = _snapshot(unit)
    if creating:
        audit.record(actor, "unit.create", "unit", unit.code, None, after)
        return unit, True
    old, new = audit.changes(before, after)
    if new:
        audit.record(actor, "unit.update", "unit", unit.code, old, new)
    return unit, bool(new)


def _check_successor(unit: OrgUnit, successor: OrgUnit | None) -> None:
    """A successor chain never comes back to the unit (itself, its successor's successor, …)."""
    if successor is not None and successor.id == unit.id:
        raise UnitError(_l("Một đơn vị không thể kế thừa chính nó."))
    seen = {unit.id}
    while successor is not None:
        if successor.id in seen:
            raise UnitError(
                _l(
                    "Đơn vị kế thừa tạo thành vòng: %(u)s sẽ là đơn vị kế thừa của chính nó.",
                    u=unit.name,
                )
            )
        seen.add(successor.id)
        successor = successor.successor


def sync_units(actor: Actor, rows: list[UnitData]) -> tuple[int, int]:
    """Load units (parents first; successors may point forward); returns (created, updated)."""
    created: set[str] = set()
    changed: set[str] = set()
    for row in rows:
        if by_code(row.code) is None:
            created.add(row.code)
        if save_unit(actor, _without_successor(row))[1]:
            changed.add(row.code)
    for row in rows:
        unit = by_code(row.code)
        if row.successor_code != (unit.successor.code if unit.successor else ""):
            save_unit(actor, row, unit)
            changed.add(row.code)
    return len(created), len(changed - created)


def _without_successor(row: UnitData) -> UnitData:
    existing = by_code(row.code)
    keep = existing.successor.code if existing and existing.successor else ""
    return UnitData(**{**row.__dict__, "successor_code": keep})
