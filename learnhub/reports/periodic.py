"""The periodic report by unit (định kỳ các đơn vị báo cáo kết quả, Kế hoạch 72/KH-UBND).

For a period, one row per current unit (the children of a chosen unit, plus the chosen unit's
own people), then a breakdown by module and a totals row. Definitions (the page repeats them):

- **period**: a calendar year, a custom range (dd/mm/yyyy, both days included) or the
  government reporting year of Nghị định 09/2019/NĐ-CP: 15/12 of the previous year to 14/12.
  A class belongs to the period when it *ends* in it (``classes.ends_on``), as on the completion
  records page, so both reports count the same enrolments for the same period.
- **row**: a person counts under the row of their current unit (``users.unit_id``). A unit's row
  counts its whole subtree and the units merged into it (orgunits.services.rollup_ids), following
  chains of mergers and what lies below a merged unit: a commune of a former district reports
  under the district's successor. The chosen unit's own row ("trực tiếp") holds its people who are
  in none of its children, and the units merged into it directly.
- **Người / lượt người**: distinct persons enrolled / enrolments (a person in two classes counts
  once and twice). **Hoàn thành**: completions (lượt). **Cấp GCN**: certificates of kind
  "certificate" whose status is valid (not revoked, not re-issued). **Điểm TB**: the mean of the
  completions' recorded scores (completions without a score are left out).
- **Chuyên cần**: attended periods / recorded periods over the attendance records of the
  period's classes; each record weighs its session's periods by the class's completion rule:
  present 1, late ``late_weight`` (default 1), excused 1 when ``count_excused`` (default) else 0,
  absent 0 (attendance.services.weights). The periods come summed per enrolment (its
  ``*_periods`` counters, kept by attendance.services.record), not from the records themselves.
- **scope**: an HR officer limited to units sees only their units (policy.unit_ids):
  other rows never appear and the totals only count people in scope.

Cost: a fixed handful of statements whatever the number of units, people or classes (units,
scope, the classes' rules, then a few over the summary rows of reports/summary.py). Each comes
grouped in SQL, so Python loops over a few rows per unit and module, not over the (class, unit)
pairs of the period:

- the additive figures: the period's whole months from the month rows (summary.MonthFigures,
  a few per month, unit, module and class rule), the days of a month the period cuts (a
  reporting year's first and last half-month) from the per-class rows, per (unit, module, rule);
- the classes per module: one probe per class;
- the distinct persons of a reporting or calendar year: kept counters (summary.YearPersons,
  a few hundred rows per year); of a custom range: the union of its months' person sets
  (summary.MonthPersons, one per module and month) and its cut days' people, counted per unit
  (summary.count_persons).

No enrolment, completion, certificate or attendance record is read; the summary is kept by
session listeners in the same transaction as every write, and `flask reports check-summary`
compares it with the base tables. People are mapped to rows in Python from the small units
table.
"""

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from learnhub import db, policy
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import Status as Attendance
from learnhub.attendance.services import weights
from learnhub.catalog.models import Module, ModuleVersion
from learnhub.classes.models import TrainingClass
from learnhub.content import completion
from learnhub.i18n import format_number, format_percent
from learnhub.orgunits import services as units
from learnhub.orgunits.models import OrgUnit
from learnhub.reports import summary
from learnhub.textutil import fold
from learnhub.timeutil import format_date, parse_date, today
from learnhub.xlsx import Book as XlsxBook

#: The order of the period sums the enrolments statement gives.
STATUS_ORDER = (Attendance.present, Attendance.late, Attendance.excused, Attendance.absent)

REPORT = "report"
YEAR = "year"
RANGE = "range"
PERIOD_KINDS = (REPORT, YEAR, RANGE)
#: Years offered and accepted.
FIRST_YEAR = 2000
#: A custom range may not be longer than this (the report is per period, not a history).
MAX_RANGE_DAYS = 10 * 366


class NotAllowed(Exception):
    """The chosen unit does not exist, is not current, or lies outside the viewer's scope."""


# -- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date
    year: int | None = None

    def label(self) -> str:
        """The period in words (in the current locale; documents call it under "vi")."""
        span = _(
            "từ %(start)s đến %(end)s", start=format_date(self.start), end=format_date(self.end)
        )
        if self.kind == REPORT:
            return _("Năm báo cáo %(year)s (%(span)s)", year=self.year, span=span)
        if self.kind == YEAR:
            return _("Năm %(year)s (%(span)s)", year=self.year, span=span)
        return _(
            "Từ %(start)s đến %(end)s", start=format_date(self.start), end=format_date(self.end)
        )

    def args(self) -> dict:
        """The query string that reproduces this period."""
        if self.kind == RANGE:
            return {"period": RANGE, "start": format_date(self.start), "end": format_date(self.end)}
        return {"period": self.kind, "year": self.year}

    @property
    def slug(self) -> str:
        """For file names: bao-cao-2025, nam-2025, 20250301-20250630."""
        if self.kind == REPORT:
            return f"nam-bao-cao-{self.year}"
        if self.kind == YEAR:
            return f"nam-{self.year}"
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"


def reporting_year(year: int) -> Period:
    """15/12 of the previous year to 14/12 of *year* (Nghị định 09/2019/NĐ-CP)."""
    return Period(REPORT, date(year - 1, 12, 15), date(year, 12, 14), year)


def calendar_year(year: int) -> Period:
    return Period(YEAR, date(year, 1, 1), date(year, 12, 31), year)


def reporting_year_of(day: date) -> int:
    """The reporting year a day belongs to: from 15/12 on, the next one."""
    return day.year + 1 if (day.month, day.day) >= (12, 15) else day.year


def default_period(on: date | None = None) -> Period:
    return reporting_year(reporting_year_of(on or today()))


def _year(text: str | None) -> int | None:
    text = (text or "").strip()
    if not re.fullmatch(r"[0-9]{4}", text):
        return None
    year = int(text)
    return year if FIRST_YEAR <= year <= today().year + 1 else None


def _day(text: str | None, what: str) -> tuple[date | None, str]:
    """A typed day and, when it is not usable, why: its form, or the supported years."""
    text = (text or "").strip()[:10]
    try:
        day = parse_date(text)
    except ValueError:
        return None, _("%(what)s phải có dạng dd/mm/yyyy.", what=what)
    if not FIRST_YEAR <= day.year <= today().year + 1:
        return None, _(
            "%(what)s phải trong khoảng từ 01/01/%(first)s đến 31/12/%(last)s.",
            what=what,
            first=FIRST_YEAR,
            last=today().year + 1,
        )
    return day, ""


def offered_years() -> list[int]:
    """The years the period drop-down offers, newest first: from the first year a class ended
    (this year while there is none) to next year."""
    first = db.session.scalar(select(func.min(TrainingClass.ends_on)))
    last = today().year + 1
    start = max(FIRST_YEAR, min(first.year if first else last - 1, last - 1))
    return list(range(last, start - 1, -1))


def parse_period(args: Mapping[str, str]) -> tuple[Period, list[str]]:
    """The period the query string asks for, and what is wrong with it (then the default)."""
    kind = args.get("period", REPORT)
    if kind not in PERIOD_KINDS:
        return default_period(), [_("Loại kỳ báo cáo không hợp lệ.")]
    if kind in (REPORT, YEAR):
        raw = args.get("year", "")
        if not raw.strip():
            year = reporting_year_of(today()) if kind == REPORT else today().year
            return (reporting_year(year) if kind == REPORT else calendar_year(year)), []
        year = _year(raw)
        if year is None:
            message = _(
                "Năm phải từ %(first)s đến %(last)s.", first=FIRST_YEAR, last=today().year + 1
            )
            return default_period(), [message]
        return (reporting_year(year) if kind == REPORT else calendar_year(year)), []
    start, start_error = _day(args.get("start"), _("Ngày bắt đầu"))
    end, end_error = _day(args.get("end"), _("Ngày kết thúc"))
    errors = [e for e in (start_error, end_error) if e]
    if start and end and end < start:
        errors.append(_("Ngày kết thúc phải sau ngày bắt đầu."))
    if start and end and (end - start).days > MAX_RANGE_DAYS:
        errors.append(_("Khoảng thời gian tối đa là 10 năm."))
    if errors:
        return default_period(), errors
    return Period(RANGE, start, end), []


# -- figures ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """The figures of one row; rates and the mean are derived, so totals stay exact."""

    persons: int = 0
    enrolments: int = 0
    completed: int = 0
    certified: int = 0
    scored: int = 0
    score_sum: Decimal = Decimal(0)
    attended: Decimal = Decimal(0)
    recorded: int = 0
    classes: int = 0

    def add(self, other: "Tally") -> None:
        for name in ("persons", "enrolments", "completed", "certified", "scored", "recorded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.score_sum += other.score_sum
        self.attended += other.attended

    @property
    def completion_rate(self) -> Decimal | None:
        """Completions per enrolment, 0..1."""
        if not self.enrolments:
            return None
        return Decimal(self.completed) / Decimal(self.enrolments)

    @property
    def attendance_rate(self) -> Decimal | None:
        if not self.recorded:
            return None
        return self.attended / Decimal(self.recorded)

    @property
    def average_score(self) -> Decimal | None:
        if not self.scored:
            return None
        return (self.score_sum / Decimal(self.scored)).quantize(Decimal("0.01"))

    @property
    def empty(self) -> bool:
        return not (self.enrolments or self.completed or self.certified or self.recorded)


@dataclass
class Row:
    key: str
    name: str
    tally: Tally = field(default_factory=Tally)
    #: The chosen unit's own people (not those of its children).
    direct: bool = False
    #: People who map to no current unit (shown to unscoped viewers at the top of the tree).
    other: bool = False


@dataclass
class Report:
    period: Period
    parent: OrgUnit | None
    rows: list[Row]
    total: Tally
    modules: list[Row]
    module_total: Tally
    #: Current units the viewer may choose as the unit whose children are the rows.
    choices: list[OrgUnit] = field(default_factory=list)


def percent_text(value: Decimal | None) -> str:
    """0.855 -> "85,5%" in Vietnamese; None -> ""."""
    return format_percent(value)


def score_text(value: Decimal | None) -> str:
    return format_number(value, 2)


def percent_value(value: Decimal | None) -> float:
    """0..100 for a <meter>."""
    return 0.0 if value is None else min(100.0, round(float(value) * 100, 1))


# -- units, rows and the mapping of people to rows -------------------------------------------


def _path_ids(unit: OrgUnit) -> list[int]:
    return [int(p) for p in unit.path.strip("/").split("/") if p]


class UnitMap:
    """Which report row the people of each unit count under (see the module docstring)."""

    def __init__(self, all_units: Sequence[OrgUnit], rows: Sequence[tuple[OrgUnit, bool]]):
        self.by_id = {u.id: u for u in all_units}
        self.full = {u.id: i for i, (u, direct) in enumerate(rows) if not direct}
        self.direct = {u.id: i for i, (u, direct) in enumerate(rows) if direct}
        self._cache: dict[int | None, int | None] = {}

    def holder(self, unit_id: int) -> OrgUnit | None:
        """The unit that holds *unit_id*'s records today: the successor of the nearest merged
        unit at or above it, followed to the end of the chain."""
        current = self.by_id.get(unit_id)
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            merged = next(
                (
                    self.by_id[i]
                    for i in reversed(_path_ids(current))
                    if i in self.by_id and self.by_id[i].successor_id is not None
                ),
                None,
            )
            if merged is None:
                return current
            current = self.by_id.get(merged.successor_id)
        return None

    def row_of(self, unit_id: int | None) -> int | None:
        """The index of the row *unit_id*'s people count under, or None."""
        if unit_id in self._cache:
            return self._cache[unit_id]
        found = None
        holder = self.holder(unit_id) if unit_id is not None else None
        if holder is not None:
            for i in reversed(_path_ids(holder)):
                if i in self.full:
                    found = self.full[i]
                    break
                if i in self.direct:
                    found = self.direct[i]
                    break
        self._cache[unit_id] = found
        return found


def scope_ids(viewer: User) -> set[int] | None:
    """Ids of the units whose people *viewer* may see in reports (None: every unit)."""
    return policy.unit_id_set(viewer, Role.hr)


def unit_choices(all_units: Sequence[OrgUnit], scope: set[int] | None) -> list[OrgUnit]:
    """Current units the viewer may choose as the unit whose children are the rows."""
    on = today()
    return [u for u in all_units if u.is_current(on) and (scope is None or u.id in scope)]


def _rows_for(
    viewer: User, code: str, all_units: Sequence[OrgUnit], scope: set[int] | None
) -> tuple[OrgUnit | None, list[tuple[OrgUnit, bool]]]:
    """(the chosen unit, [(unit, direct?)]) of the report rows, in tree order."""
    on = today()
    if code:
        parent = next((u for u in all_units if u.code == code), None)
        if (
            parent is None
            or not parent.is_current(on)
            or (scope is not None and parent.id not in scope)
        ):
            raise NotAllowed(code)
    elif scope is None:
        roots = [u for u in all_units if u.parent_id is None and u.is_current(on)]
        if len(roots) != 1:
            return None, [(u, False) for u in roots]
        parent = roots[0]
    else:
        granted = viewer.scope_units(Role.hr) or []
        granted = [u for u in all_units if u.id in {g.id for g in granted}]
        if len(granted) != 1:
            return None, [(u, False) for u in granted]
        parent = granted[0]
    children = [u for u in all_units if u.parent_id == parent.id and u.is_current(on)]
    if scope is not None:
        children = [u for u in children if u.id in scope]
    return parent, [(parent, bool(children)), *((u, False) for u in children)]


# -- the queries -----------------------------------------------------------------------------


def _in_period(stmt, period: Period, column=TrainingClass.ends_on):
    return stmt.where(column >= period.start, column <= period.end)


def _scoped(stmt, viewer: User, column=User.unit_id):
    """Limit to people in scope in SQL too (fewer groups to read at national scale)."""
    ids = policy.unit_ids(viewer, Role.hr)
    return stmt if ids is None else stmt.where(column.in_(ids.scalar_subquery()))


#: What a class's attendance weights depend on: its module (the published version's rule), the
#: version it follows (that version's rule) and its own overrides, as the database writes them
#: as text. Classes with equal keys weigh attendance alike.
RuleKey = tuple[int, int | None, str | None]


def _classes(period: Period) -> tuple[dict[RuleKey, tuple], dict[int, tuple[str, str]]]:
    """The attendance weights of the period's classes and the titles of their modules:
    {rule key: weight of each status, in STATUS_ORDER}, {module id: (slug, title)}. One row per
    distinct (module, version, overrides), not per class."""
    class_version = aliased(ModuleVersion)
    module_version = aliased(ModuleVersion)
    rule_text = summary.rule_text()
    stmt = (
        _in_period(
            select(
                TrainingClass.module_id,
                TrainingClass.version_id,
                rule_text,
                class_version.meta["completion"],
                module_version.meta["completion"],
                Module.slug,
                module_version.meta["title"].as_string(),
                class_version.meta["title"].as_string(),
            )
            .join(Module, Module.id == TrainingClass.module_id)
            .outerjoin(class_version, class_version.id == TrainingClass.version_id)
            .outerjoin(module_version, module_version.id == Module.published_version_id),
            period,
        )
        .group_by(
            TrainingClass.module_id,
            TrainingClass.version_id,
            rule_text,
            class_version.id,
            module_version.id,
            Module.id,
        )
        .order_by(TrainingClass.module_id, TrainingClass.version_id)
    )
    weights_of, modules = {}, {}
    for row in db.session.execute(stmt):
        (module_id, version_id, override, class_rule, module_rule) = row[:5]
        slug, module_title, class_title = row[5:]
        # TrainingClass.completion_rule(), from the columns read here in one statement.
        meta = class_rule if version_id is not None else module_rule
        rule = completion.from_meta(meta).with_overrides(json.loads(override) if override else {})
        weight = weights(rule.count_excused, rule.late_weight)
        key = (module_id, version_id, override)
        weights_of[key] = tuple(weight.get(status, Decimal(0)) for status in STATUS_ORDER)
        if module_id not in modules or module_title:
            modules[module_id] = (slug, module_title or class_title or slug)
    return weights_of, modules


def _counts(viewer: User, period: Period, units_shown: list[int] | None):
    """The grouped figures, each keyed by the person's unit id, read from the summary rows
    (reports/summary.py) rather than from the period's enrolments. *units_shown*: the units
    whose people appear in some row (None: every unit in the viewer's scope), for the classes
    counted per module.

    The period's whole months come from the month rows (a few per unit, module and month), the
    days of its first and last month that it cuts from the per-class rows: a three-year range
    reads about 36 months of rows, not every class's. The additive figures of the two may come
    in several rows per key: the report adds them up."""
    figures, month = summary.UnitFigures, summary.MonthFigures
    # Core execution on the session's connection: plain rows, without the ORM's result layer.
    conn = db.session.connection()
    months, edges = summary.whole_months(period.start, period.end)
    sums = [func.sum(getattr(figures, name)) for name in summary.FIGURES]
    additive = []
    for first, last in edges:
        # Every additive figure in one statement, summed per (unit, module, the class's rule,
        # which weighs attendance): a few rows per unit and module, whatever the classes.
        stmt = _scoped(
            select(figures.unit_id, figures.module_id, figures.version_id, figures.rule, *sums)
            .where(figures.ends_on >= first, figures.ends_on <= last)
            .group_by(figures.unit_id, figures.module_id, figures.version_id, figures.rule),
            viewer,
            figures.unit_id,
        )
        additive += conn.execute(stmt).all()
    if months is not None:
        stmt = _scoped(
            select(
                func.nullif(month.unit_key, 0),
                month.module_id,
                func.nullif(month.version_key, 0),
                func.nullif(month.rule, ""),
                *(func.sum(getattr(month, name)) for name in summary.FIGURES),
            )
            .where(month.month >= months[0], month.month <= months[1])
            .group_by(month.unit_key, month.module_id, month.version_key, month.rule),
            viewer,
            month.unit_key,
        )
        additive += conn.execute(stmt).all()
    # The classes of each module with someone enrolled in the rows shown: one probe per class.
    enrolled = _scoped(
        select(figures.id).where(figures.class_id == TrainingClass.id, figures.enrolments > 0),
        viewer,
        figures.unit_id,
    )
    if units_shown is not None:
        enrolled = enrolled.where(figures.unit_id.in_(units_shown))
    classes_by_module = conn.execute(
        _in_period(select(TrainingClass.module_id, func.count()), period)
        .where(enrolled.exists())
        .group_by(TrainingClass.module_id)
    ).all()
    if (period.start, period.end) in summary.spans_of(period.end):
        # A reporting or calendar year: its distinct-person counts are kept, per unit and
        # module and over every module (summary.YearPersons).
        years = summary.YearPersons
        kept = _scoped(
            select(years.unit_id, years.module_id, years.persons).where(
                years.starts_on == period.start, years.ends_on == period.end
            ),
            viewer,
            years.unit_id,
        )
        counted = conn.execute(kept).all()
        persons_by_module = [r for r in counted if r[1] is not None]
        persons_by_unit = [(unit_id, n) for unit_id, module_id, n in counted if module_id is None]
    else:
        # A custom range: the union of its months' person sets (and its edges' people).
        scope = policy.unit_ids(viewer, Role.hr)
        persons_by_module, persons_by_unit = summary.count_persons(
            conn, months, edges, None if scope is None else scope.scalar_subquery()
        )
    return additive, classes_by_module, persons_by_module, persons_by_unit


def build(viewer: User, period: Period, code: str = "") -> Report:
    """The report for *viewer* (their scope applies) over *period*; *code* names the unit whose
    children are the rows (default: the province, or the viewer's scope unit). Raises NotAllowed
    for a unit that is not current or not in scope."""
    summary.settle(db.session)  # this transaction's own writes, if any, counted first
    all_units = units.tree()
    scope = scope_ids(viewer)
    parent, specs = _rows_for(viewer, code, all_units, scope)
    rows = []
    for unit, direct in specs:
        name = _("Thuộc trực tiếp %(name)s", name=unit.name) if direct else unit.name
        rows.append(Row(unit.code, name, direct=direct))
    mapping = UnitMap(all_units, specs)
    top = parent is None or parent.parent_id is None
    other = Row("", _("Chưa xác định đơn vị hiện hành"), other=True)
    show_other = scope is None and top

    def row_of(unit_id: int | None) -> Row | None:
        if scope is not None and unit_id not in scope:
            return None
        index = mapping.row_of(unit_id)
        if index is not None:
            return rows[index]
        return other if show_other else None

    weights_of, module_names = _classes(period)
    by_module: dict[int, Tally] = defaultdict(Tally)
    # Every unit in scope appears in some row when the "other" row is shown; else only those
    # that map to a row (the classes per module count only classes seen in the rows).
    units_shown = (
        None if show_other else sorted(u.id for u in all_units if row_of(u.id) is not None)
    )
    additive, classes_by_module, persons_by_module, persons = _counts(viewer, period, units_shown)
    # Periods by status summed in integers per (row, module, weights) first; each group's
    # weights (a handful of distinct ones: the classes' rules) are applied once at the end.
    periods_of: dict[tuple[int, int, tuple], list[int]] = {}
    rows_by_id = {id(r): r for r in (*rows, other)}
    for unit_id, module_id, version_id, override, count, *rest in additive:
        row = row_of(unit_id)
        periods, (completed, scored, score_sum, certified) = rest[:4], rest[4:]
        if row is None or not (count or completed or certified):
            continue
        for tally in (row.tally, by_module[module_id]):
            tally.enrolments += count
            tally.completed += completed
            tally.scored += scored
            tally.score_sum += Decimal(str(score_sum)) if score_sum else Decimal(0)
            tally.certified += certified
        weight = weights_of.get((module_id, version_id, override))
        if weight is not None and any(periods):
            sums = periods_of.setdefault((id(row), module_id, weight), [0] * len(STATUS_ORDER))
            for index, n in enumerate(periods):
                sums[index] += int(n or 0)
    for (row_id, module_id, weight), sums in periods_of.items():
        recorded = sum(sums)
        attended = sum((Decimal(n) * w for n, w in zip(sums, weight, strict=True)), Decimal(0))
        for tally in (rows_by_id[row_id].tally, by_module[module_id]):
            tally.recorded += recorded
            tally.attended += attended
    for module_id, count in classes_by_module:
        by_module[module_id].classes = count
    for unit_id, module_id, count in persons_by_module:
        if row_of(unit_id) is not None:
            by_module[module_id].persons += count
    for unit_id, count in persons:
        row = row_of(unit_id)
        if row is not None:
            row.tally.persons += count
    # The chosen unit's own row only when someone is directly under it (none is the usual case).
    rows = [r for r in rows if not (r.direct and r.tally.empty)]
    if show_other and not other.tally.empty:
        rows.append(other)
    total = Tally()
    for row in rows:
        total.add(row.tally)
    modules = []
    for module_id, tally in by_module.items():
        slug, title = module_names.get(module_id, ("", ""))
        modules.append(Row(slug, title or slug, tally))
    modules.sort(key=lambda r: (fold(r.name), r.key))
    module_total = Tally()
    for row in modules:
        module_total.add(row.tally)
    # A person may take several modules: the persons total is the units' total, not a sum.
    module_total.persons = total.persons
    # A class belongs to one module: the classes total is the sum.
    module_total.classes = sum(r.tally.classes for r in modules)
    choices = unit_choices(all_units, scope)
    return Report(period, parent, rows, total, modules, module_total, choices)


# -- XLSX ------------------------------------------------------------------------------------


UNIT_COLUMNS = (
    ("STT", 6),
    ("Mã đơn vị", 16),
    ("Đơn vị", 44),
    ("Số người", 10),
    ("Số lượt người", 12),
    ("Hoàn thành (lượt)", 12),
    ("Tỷ lệ hoàn thành", 12),
    ("Được cấp GCN", 12),
    ("Tỷ lệ chuyên cần", 12),
    ("Điểm trung bình", 12),
)
MODULE_COLUMNS = (
    ("STT", 6),
    ("Mã chuyên đề", 22),
    ("Chuyên đề", 50),
    ("Số lớp", 8),
    ("Số người", 10),
    ("Số lượt người", 12),
    ("Hoàn thành (lượt)", 12),
    ("Tỷ lệ hoàn thành", 12),
    ("Được cấp GCN", 12),
    ("Tỷ lệ chuyên cần", 12),
    ("Điểm trung bình", 12),
)
_FIGURES = ("0", "0", "0", "0.0%", "0", "0.0%", "0.00")


def _figures(t: Tally) -> list:
    return [
        t.persons,
        t.enrolments,
        t.completed,
        t.completion_rate,
        t.certified,
        t.attendance_rate,
        t.average_score,
    ]


def to_xlsx(report: Report, agency: str) -> bytes:
    """The report as XLSX (always Vietnamese): a sheet by unit, a sheet by module."""
    book = XlsxBook()
    title = "BÁO CÁO KẾT QUẢ BỒI DƯỠNG THEO ĐƠN VỊ"
    scope = report.parent.name if report.parent is not None else ""
    sheet = book.sheet("Theo đơn vị", UNIT_COLUMNS)
    sheet.line(title, bold=True, size=14)
    sheet.line(agency, bold=True)
    sheet.line(f"Kỳ báo cáo: {report.period.label()}")
    if scope:
        sheet.line(f"Đơn vị tổng hợp: {scope}")
    sheet.line(f"Ngày lập: {format_date(today())}")
    sheet.line()
    sheet.header()
    formats = ("0", None, None, *_FIGURES)
    for index, row in enumerate(report.rows, start=1):
        sheet.row([index, row.key, row.name, *_figures(row.tally)], formats)
    sheet.row(["", "", "Tổng cộng", *_figures(report.total)], formats, bold=True)

    sheet = book.sheet("Theo chuyên đề", MODULE_COLUMNS)
    sheet.line(title, bold=True, size=14)
    sheet.line(f"Kỳ báo cáo: {report.period.label()}")
    if scope:
        sheet.line(f"Đơn vị tổng hợp: {scope}")
    sheet.line("Một người học nhiều chuyên đề được tính ở mỗi chuyên đề, một lần ở dòng tổng.")
    sheet.line()
    sheet.header()
    formats = ("0", None, None, "0", *_FIGURES)
    for index, row in enumerate(report.modules, start=1):
        sheet.row([index, row.key, row.name, row.tally.classes, *_figures(row.tally)], formats)
    total = report.module_total
    sheet.row(["", "", "Tổng cộng", total.classes, *_figures(total)], formats, bold=True)
    return book.save()


def strings(t: Tally) -> dict[str, str]:
    """Plain strings of a row's figures (page and PDF)."""
    return {
        "persons": str(t.persons),
        "enrolments": str(t.enrolments),
        "completed": str(t.completed),
        "completion_rate": percent_text(t.completion_rate),
        "certified": str(t.certified),
        "attendance_rate": percent_text(t.attendance_rate),
        "average_score": score_text(t.average_score),
        "classes": str(t.classes),
    }


def file_stem(report: Report) -> str:
    code = re.sub(r"[^A-Za-z0-9-]+", "", report.parent.code) if report.parent else "tong-hop"
    return f"bao-cao-don-vi-{code or 'tong-hop'}-{report.period.slug}"
