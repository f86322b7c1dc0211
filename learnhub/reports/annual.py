"""The annual report on bồi dưỡng the province sends upward (báo cáo kết quả bồi dưỡng cán bộ,
công chức, viên chức hằng năm). docs/annual-report.md says which form it follows and how sure
that is.

- **period**: the reporting year of Nghị định 09/2019/NĐ-CP, 15/12 of the previous year to 14/12
  (periodic.reporting_year); a class counts in it when it *ends* in it, as in the unit report.
- **unit counted**: *lượt người* (person-times): one per enrolment still on the roster (a person
  in two classes counts twice). Withdrawn enrolments are left out.
- **rows** (table I): đối tượng, derived (LearnHub stores no đối tượng) from the person's
  chức vụ (``users.position``), ngạch / chức danh nghề nghiệp (``users.rank``) and the level of
  their unit, first rule that applies:

  1. *Cán bộ*: the chức vụ begins with Bí thư, Phó Bí thư, Chủ tịch or Phó Chủ tịch (elected
     posts).
  2. *Viên chức*: the ngạch names a professional grade ("hạng I" … "hạng IV") or says "viên chức".
  3. *Công chức cấp xã* / *cấp huyện (trước 01/07/2025)* / *cấp tỉnh*: a ngạch is recorded; the
     level is that of the unit (below).
  4. *Đối tượng khác*: neither chức vụ nor ngạch says which (e.g. người lao động, hội viên).

- **level (cấp)** of a unit: xã when the unit or one above it is a xã or phường, huyện when it
  is a former district, tỉnh otherwise; "chưa xác định" for people without a unit.
- **columns**: the total, then by *loại hình* (the class format: tập trung, trực tuyến, kết
  hợp), then by *nội dung* (the module's category, module.toml ``category``).
- **other tables**: the same columns with rows by ngạch, by chức vụ and by cấp.
- **scope**: an HR officer limited to units counts only people of those units (policy.unit_ids).

Cost: two queries (units; enrolments with their class, module category and person), whatever
the size of the year.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from learnhub import db, policy
from learnhub.accounts.models import Role, User
from learnhub.catalog.models import CATEGORY_LABELS, Category, Module, ModuleVersion
from learnhub.classes.models import FORMAT_LABELS, ClassFormat, Enrolment, TrainingClass
from learnhub.orgunits.models import OrgUnit, UnitKind
from learnhub.reports.periodic import Period, XlsxBook, reporting_year
from learnhub.textutil import collation_key, fold
from learnhub.timeutil import format_date, today

# -- đối tượng and cấp -----------------------------------------------------------------------

CAN_BO = "can-bo"
CONG_CHUC_TINH = "cong-chuc-tinh"
CONG_CHUC_HUYEN = "cong-chuc-huyen"
CONG_CHUC_XA = "cong-chuc-xa"
VIEN_CHUC = "vien-chuc"
KHAC = "khac"

GROUP_LABELS = {
    CAN_BO: _l("Cán bộ"),
    CONG_CHUC_TINH: _l("Công chức cấp tỉnh"),
    CONG_CHUC_HUYEN: _l("Công chức cấp huyện (trước 01/07/2025)"),
    CONG_CHUC_XA: _l("Công chức cấp xã"),
    VIEN_CHUC: _l("Viên chức"),
    KHAC: _l("Đối tượng khác"),
}

TINH, HUYEN, XA, UNKNOWN = "tinh", "huyen", "xa", "chua-xac-dinh"
LEVEL_LABELS = {
    TINH: _l("Cấp tỉnh"),
    HUYEN: _l("Cấp huyện (trước 01/07/2025)"),
    XA: _l("Cấp xã"),
    UNKNOWN: _l("Chưa xác định đơn vị"),
}

#: Folded beginnings of a chức vụ that make a person a cán bộ (elected posts).
CAN_BO_POSITIONS = ("bi thu", "pho bi thu", "chu tich", "pho chu tich")
VIEN_CHUC_RANK = re.compile(r"\bhang (i|ii|iii|iv)\b|\bvien chuc\b")


def level_of(unit_id: int | None, units: dict[int, OrgUnit]) -> str:
    """tỉnh, huyện or xã, from the kinds of the unit and the units above it."""
    unit = units.get(unit_id) if unit_id is not None else None
    if unit is None:
        return UNKNOWN
    kinds = {units[int(i)].kind for i in unit.path.strip("/").split("/") if int(i) in units}
    kinds.add(unit.kind)
    if kinds & {UnitKind.ward, UnitKind.commune}:
        return XA
    if UnitKind.district in kinds:
        return HUYEN
    return TINH


def group_of(position: str, rank: str, level: str) -> str:
    """The đối tượng of a person (the rules of the module docstring, in order)."""
    folded_position = fold(position or "").strip()
    folded_rank = fold(rank or "").strip()
    if folded_position.startswith(CAN_BO_POSITIONS):
        return CAN_BO
    if VIEN_CHUC_RANK.search(folded_rank):
        return VIEN_CHUC
    if folded_rank:
        return {XA: CONG_CHUC_XA, HUYEN: CONG_CHUC_HUYEN}.get(level, CONG_CHUC_TINH)
    return KHAC


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass
class Line:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.counts[key] = self.counts.get(key, 0) + 1

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)


@dataclass
class Table:
    title: str
    heading: str
    lines: list[Line]
    total: Line


@dataclass
class Report:
    period: Period
    columns: list[Column]
    #: The columns' groups for a two-level header: (label, number of columns).
    groups: list[tuple[str, int]]
    by_group: Table
    by_rank: Table
    by_position: Table
    by_level: Table

    @property
    def tables(self) -> list[Table]:
        return [self.by_group, self.by_rank, self.by_position, self.by_level]


TOTAL = "total"


def _columns(categories: set[str]) -> tuple[list[Column], list[tuple[str, int]]]:
    formats = [Column(f"format:{f.value}", str(FORMAT_LABELS[f])) for f in ClassFormat]
    known = [c.value for c in Category]
    others = sorted(c for c in categories if c not in known)
    contents = [Column(f"category:{c.value}", str(CATEGORY_LABELS[c])) for c in Category]
    contents += [Column(f"category:{c}", c or _("Chưa phân loại")) for c in others]
    columns = [Column(TOTAL, _("Tổng số")), *formats, *contents]
    groups = [("", 1), (_("Theo loại hình"), len(formats)), (_("Theo nội dung"), len(contents))]
    return columns, groups


def _table(title: str, heading: str, lines: dict[str, Line], order) -> Table:
    total = Line(TOTAL, _("Tổng cộng"))
    for line in lines.values():
        for key, value in line.counts.items():
            total.counts[key] = total.counts.get(key, 0) + value
    return Table(title, heading, order(lines), total)


def build(viewer: User, year: int) -> Report:
    """The report of reporting year *year* as *viewer* may see it."""
    period = reporting_year(year)
    units = {u.id: u for u in db.session.scalars(select(OrgUnit))}
    class_version = aliased(ModuleVersion)
    module_version = aliased(ModuleVersion)
    stmt = (
        select(
            TrainingClass.format,
            class_version.meta["category"].as_string(),
            module_version.meta["category"].as_string(),
            User.position,
            User.rank,
            User.unit_id,
        )
        .select_from(Enrolment)
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == TrainingClass.module_id)
        .outerjoin(class_version, class_version.id == TrainingClass.version_id)
        .outerjoin(module_version, module_version.id == Module.published_version_id)
        .where(
            Enrolment.withdrawn_at.is_(None),
            TrainingClass.ends_on >= period.start,
            TrainingClass.ends_on <= period.end,
        )
    )
    scope = policy.unit_ids(viewer, Role.hr)
    if scope is not None:
        stmt = stmt.where(User.unit_id.in_(scope.scalar_subquery()))

    groups = {key: Line(key, str(label)) for key, label in GROUP_LABELS.items()}
    levels = {key: Line(key, str(label)) for key, label in LEVEL_LABELS.items()}
    ranks: dict[str, Line] = {}
    positions: dict[str, Line] = {}
    categories: set[str] = set()
    for (
        class_format,
        class_category,
        module_category,
        position,
        rank,
        unit_id,
    ) in db.session.execute(stmt):
        category = class_category or module_category or ""
        categories.add(category)
        keys = (TOTAL, f"format:{class_format}", f"category:{category}")
        level = level_of(unit_id, units)
        groups[group_of(position, rank, level)].add(keys)
        levels[level].add(keys)
        rank_label = " ".join((rank or "").split()) or _("(Chưa ghi ngạch)")
        ranks.setdefault(rank_label, Line(rank_label, rank_label)).add(keys)
        position_label = " ".join((position or "").split()) or _("(Không giữ chức vụ)")
        positions.setdefault(position_label, Line(position_label, position_label)).add(keys)

    def fixed(lines: dict[str, Line]) -> list[Line]:
        return list(lines.values())

    def by_label(lines: dict[str, Line]) -> list[Line]:
        return sorted(lines.values(), key=lambda line: collation_key(line.label))

    columns, column_groups = _columns(categories)
    return Report(
        period=period,
        columns=columns,
        groups=column_groups,
        by_group=_table(_("I. Theo đối tượng"), _("Đối tượng"), groups, fixed),
        by_rank=_table(_("II. Theo ngạch, chức danh nghề nghiệp"), _("Ngạch"), ranks, by_label),
        by_position=_table(_("III. Theo chức vụ"), _("Chức vụ"), positions, by_label),
        by_level=_table(_("IV. Theo cấp"), _("Cấp"), levels, fixed),
    )


# -- the XLSX --------------------------------------------------------------------------------


def to_xlsx(report: Report, agency: str) -> bytes:
    """The report as XLSX (always Vietnamese): one sheet per table, numbers typed."""
    book = XlsxBook()
    for table in report.tables:
        columns = [("STT", 6), (table.heading, 40)] + [(c.label, 13) for c in report.columns]
        sheet = book.sheet(table.title.split(". ", 1)[-1], columns)
        sheet.line("BÁO CÁO KẾT QUẢ BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC", bold=True, size=14)
        sheet.line(agency, bold=True)
        sheet.line(f"Kỳ báo cáo: {report.period.label()}")
        sheet.line(table.title)
        sheet.line("Đơn vị tính: lượt người")
        sheet.line(f"Ngày lập: {format_date(today())}")
        sheet.line()
        sheet.header()
        formats = ["0", None] + ["0"] * len(report.columns)
        for index, line in enumerate(table.lines, start=1):
            sheet.row([index, line.label, *(line.get(c.key) for c in report.columns)], formats)
        total = table.total
        sheet.row(["", total.label, *(total.get(c.key) for c in report.columns)], formats, True)
    return book.save()


def file_stem(report: Report) -> str:
    return f"bao-cao-boi-duong-nam-{report.period.year}"
