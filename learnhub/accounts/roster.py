"""Roster import: CSV (UTF-8) or XLSX with Vietnamese headers, checked whole, applied whole.

The file is read through learnhub.tables (its size, XML and row limits); this module holds the
rules of the rows (rather than living in content/, which reads the content tree): a roster is
account data, and its rules are account rules.
"""

import csv
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select

from learnhub import db, tables
from learnhub.accounts import services
from learnhub.accounts.models import USERNAME, Role, RoleGrant, Sex, User, nfc, sex_label
from learnhub.audit import services as audit
from learnhub.audit.services import Actor
from learnhub.orgunits.models import OrgUnit
from learnhub.textutil import fold
from learnhub.timeutil import parse_date

#: Column -> accepted header spellings (compared without accents and case).
HEADERS = {
    "full_name": ("ho va ten", "ho ten", "full name"),
    "birth_date": ("ngay sinh", "date of birth", "birth date"),
    "sex": ("gioi tinh", "gioi", "sex", "gender"),
    "login": ("ten dang nhap/email", "ten dang nhap / email", "ten dang nhap", "login"),
    "email": ("email", "e-mail", "thu dien tu"),
    "unit": ("don vi", "ma don vi", "unit"),
    "position": ("chuc vu", "position"),
    "rank": ("ngach", "rank"),
    "roles": ("vai tro", "roles"),
}
LABELS = {
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "login": "Tên đăng nhập/Email",
    "email": "Email",
    "unit": "Đơn vị",
    "position": "Chức vụ",
    "rank": "Ngạch",
    "roles": "Vai trò",
}
REQUIRED = ("full_name", "login")
ROLE_WORDS = {
    "hoc vien": Role.learner,
    "learner": Role.learner,
    "giang vien": Role.trainer,
    "bao cao vien": Role.trainer,
    "trainer": Role.trainer,
    "can bo to chuc": Role.hr,
    "to chuc can bo": Role.hr,
    "nhan su": Role.hr,
    "hr": Role.hr,
}
LIMITS = {"full_name": 200, "login": 254, "email": 254, "position": 200, "rank": 200, "unit": 255}
#: What a "Giới tính" cell may say (folded); an empty cell means not recorded.
SEX_WORDS = {
    "nam": Sex.male,
    "m": Sex.male,
    "male": Sex.male,
    "nu": Sex.female,
    "f": Sex.female,
    "female": Sex.female,
}
MAX_ROWS = 200_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterError(Exception):
    """The file as a whole cannot be read; the message says what to do."""


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str


@dataclass
class RosterRow:
    row: int
    full_name: str
    login: str
    email: str | None
    birth_date: date | None
    sex: Sex | None
    unit: OrgUnit | None
    position: str
    rank: str
    roles: set[Role]

    @property
    def sex_label(self) -> str:
        return sex_label(self.sex)


@dataclass
class Plan:
    """What an import would do: rows to create, update, leave alone, and every problem."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    create: list[RosterRow] = field(default_factory=list)
    update: list[tuple[RosterRow, User]] = field(default_factory=list)
    unchanged: int = 0
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def read_table(data: bytes, filename: str = "") -> Iterator[list[object]]:
    """Rows of the first sheet (XLSX) or of the CSV file, header included, read within the
    limits of learnhub.tables (the one safe reader of uploaded files)."""
    try:
        yield from tables.read_table(data, filename)
    except tables.TableError as exc:
        raise RosterError(str(exc)) from exc


def _match_headers(header: list[object]) -> tuple[dict[str, int], list[Problem]]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = fold(nfc(str(cell))).strip(" *:")
        for name, spellings in HEADERS.items():
            if key in spellings and name not in columns:
                columns[name] = index
                break
    problems = [
        Problem(1, LABELS[name], f"thiếu cột '{LABELS[name]}'")
        for name in REQUIRED
        if name not in columns
    ]
    return columns, problems


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


def _units_index() -> dict[str, OrgUnit]:
    index: dict[str, OrgUnit] = {}
    for unit in db.session.scalars(select(OrgUnit)):
        index.setdefault(unit.code.casefold(), unit)
        index.setdefault(fold(unit.name), unit)
    return index


def _parse_row(number: int, cells: list[object], columns: dict[str, int], units: dict) -> tuple:
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for name, index in columns.items():
        raw = cells[index] if index < len(cells) else ""
        values[name] = raw if isinstance(raw, datetime | date) else _text(raw)
        text = values[name]
        if isinstance(text, str):
            if text.startswith(("=", "+", "@")) and name != "login":
                problems.append(
                    Problem(number, LABELS[name], "công thức hoặc ký tự đầu không hợp lệ")
                )
            if any(ord(ch) < 32 for ch in text):
                problems.append(Problem(number, LABELS[name], "có ký tự điều khiển"))
            if name in LIMITS and len(text) > LIMITS[name]:
                problems.append(Problem(number, LABELS[name], f"dài quá {LIMITS[name]} ký tự"))
    full_name = str(values.get("full_name", ""))
    if not full_name:
        problems.append(Problem(number, LABELS["full_name"], "bắt buộc"))
    login = str(values.get("login", "")).casefold()
    email = str(values.get("email", "")).casefold() or None
    if not login:
        problems.append(Problem(number, LABELS["login"], "bắt buộc"))
    elif "@" in login:
        if not EMAIL.match(login):
            problems.append(Problem(number, LABELS["login"], f"email không hợp lệ: {login}"))
    elif not USERNAME.match(login):
        problems.append(
            Problem(
                number,
                LABELS["login"],
                "tên đăng nhập chỉ gồm a-z, 0-9, dấu chấm, gạch; 2-100 ký tự",
            )
        )
    if email and not EMAIL.match(email):
        problems.append(Problem(number, LABELS["email"], f"email không hợp lệ: {email}"))
    birth = values.get("birth_date", "")
    birth_date = None
    if isinstance(birth, datetime):
        birth_date = birth.date()
    elif isinstance(birth, date):
        birth_date = birth
    elif birth:
        try:
            birth_date = parse_date(str(birth))
        except (ValueError, TypeError):
            problems.append(
                Problem(number, LABELS["birth_date"], f"'{birth}' không phải ngày dd/mm/yyyy")
            )
    if birth_date and not (1930 <= birth_date.year <= date.today().year - 15):  # noqa: DTZ011
        problems.append(Problem(number, LABELS["birth_date"], "năm sinh không hợp lý"))
    sex_text = str(values.get("sex", ""))
    sex = SEX_WORDS.get(fold(sex_text).strip(" ."))
    if sex_text and sex is None:
        problems.append(
            Problem(number, LABELS["sex"], f"'{sex_text}' không phải giới tính; ghi Nam hoặc Nữ")
        )
    unit = None
    unit_text = str(values.get("unit", ""))
    if unit_text:
        unit = units.get(unit_text.casefold()) or units.get(fold(unit_text))
        if unit is None:
            problems.append(Problem(number, LABELS["unit"], f"không có đơn vị '{unit_text}'"))
    roles = set()
    for word in re.split(r"[,;/]", str(values.get("roles", ""))):
        key = fold(word).strip()
        if not key:
            continue
        if key in ("quan tri", "admin"):
            problems.append(
                Problem(number, LABELS["roles"], "không thể gán quyền quản trị qua tệp")
            )
        elif key in ROLE_WORDS:
            roles.add(ROLE_WORDS[key])
        else:
            problems.append(Problem(number, LABELS["roles"], f"vai trò không rõ: '{word.strip()}'"))
    row = RosterRow(
        number,
        full_name,
        login,
        email if "@" not in login else None,
        birth_date,
        sex,
        unit,
        str(values.get("position", "")),
        str(values.get("rank", "")),
        roles or {Role.learner},
    )
    return row, problems


def _existing(rows: list[RosterRow]) -> dict[str, User]:
    found: dict[str, User] = {}
    logins = [r.login for r in rows]
    for start in range(0, len(logins), 500):
        chunk = logins[start : start + 500]
        stmt = select(User).where(or_(User.username.in_(chunk), User.email.in_(chunk)))
        for user in db.session.scalars(stmt):
            for key in (user.username, user.email):
                if key:
                    found[key] = user
    return found


def _differs(row: RosterRow, user: User) -> bool:
    return (
        user.full_name != row.full_name
        or (row.birth_date is not None and user.birth_date != row.birth_date)
        or (row.sex is not None and user.sex != row.sex)
        or (row.unit is not None and user.unit_id != row.unit.id)
        or (bool(row.position) and user.position != row.position)
        or (bool(row.rank) and user.rank != row.rank)
        or not row.roles <= user.roles
    )


def plan_import(
    data: bytes, filename: str = "", progress: Callable[[int], None] | None = None
) -> Plan:
    """Read and check the whole file; decide, row by row, what importing it would do."""
    plan = Plan(sha256=hashlib.sha256(data).hexdigest())
    table = read_table(data, filename)
    try:
        header = next(table)
    except StopIteration as exc:
        raise RosterError("Tệp trống.") from exc
    except csv.Error as exc:
        raise RosterError(f"Không đọc được tệp CSV: {exc}") from exc
    columns, plan.problems = _match_headers(header)
    if plan.problems:
        return plan
    units = _units_index()
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(table, start=2):
            if number > MAX_ROWS + 1:
                raise RosterError(f"Tệp có hơn {MAX_ROWS} dòng; hãy chia nhỏ.")
            if not any(str(c).strip() for c in cells):
                continue
            row, problems = _parse_row(number, cells, columns, units)
            if row.login and row.login in seen:
                problems.append(
                    Problem(number, LABELS["login"], f"trùng với dòng {seen[row.login]}")
                )
            seen.setdefault(row.login, number)
            plan.problems += problems
            plan.rows.append(row)
            if progress and number % 500 == 0:
                progress(500)
    except csv.Error as exc:
        raise RosterError(f"Không đọc được tệp CSV: {exc}") from exc
    if progress:
        progress(len(plan.rows) % 500)
    if plan.problems:
        return plan
    existing = _existing(plan.rows)
    for row in plan.rows:
        user = existing.get(row.login)
        if _hr_unit(row, user) is None and Role.hr in row.roles - (user.roles if user else set()):
            plan.problems.append(
                Problem(
                    row.row,
                    LABELS["roles"],
                    "vai trò cán bộ tổ chức cần cột 'Đơn vị' (quyền được giới hạn trong đơn vị "
                    "đó); quyền toàn tỉnh chỉ cấp trên trang tài khoản",
                )
            )
        if user is None:
            plan.create.append(row)
        elif _differs(row, user):
            plan.update.append((row, user))
        else:
            plan.unchanged += 1
    return plan


def _hr_unit(row: RosterRow, user: User | None) -> OrgUnit | None:
    """The unit an HR role granted by a roster row is limited to: the row's, else the user's."""
    return row.unit or (user.unit if user is not None else None)


def _grants(roles: set[Role], hr_unit: OrgUnit | None) -> list[RoleGrant]:
    """Role grants for a roster row; HR is limited to *hr_unit* (never every unit)."""
    grants = [
        services.Grant(role, hr_unit.id if role == Role.hr and hr_unit else None)
        for role in sorted(roles)
    ]
    services.check_grants(grants)
    return [RoleGrant(role=g.role, unit_id=g.unit_id) for g in grants]


def apply_plan(actor: Actor, plan: Plan, progress: Callable[[int], None] | None = None) -> None:
    """Write a checked plan in the current transaction (the caller commits once).

    An admin's tool: it creates accounts, changes names and units and grants roles, so it
    refuses any other actor (a trainer's class enrolment uses classes/matching.py instead).
    """
    try:
        services.require_admin(actor)
    except services.AccountError as exc:
        raise RosterError(str(exc)) from exc
    if not plan.ok:
        raise RosterError("Tệp còn lỗi; không nhập gì.")
    for count, row in enumerate(plan.create, start=1):
        user = User(
            full_name=row.full_name,
            username=None if "@" in row.login else row.login,
            email=row.login if "@" in row.login else row.email,
            birth_date=row.birth_date,
            sex=row.sex,
            unit=row.unit,
            position=row.position,
            rank=row.rank,
        )
        user.grants = _grants(row.roles, row.unit)
        db.session.add(user)
        if count % 1000 == 0:
            db.session.flush()
            if progress:
                progress(1000)
    db.session.flush()
    if progress:
        progress(len(plan.create) % 1000)
    for row, user in plan.update:
        before = {
            "full_name": user.full_name,
            "sex": user.sex,
            "unit": user.unit.code if user.unit else None,
            "roles": sorted(user.roles),
        }
        user.full_name = row.full_name
        user.birth_date = row.birth_date or user.birth_date
        user.sex = row.sex or user.sex
        user.unit = row.unit or user.unit
        user.position = row.position or user.position
        user.rank = row.rank or user.rank
        user.grants += _grants(row.roles - user.roles, _hr_unit(row, user))
        after = {
            "full_name": user.full_name,
            "sex": user.sex,
            "unit": user.unit.code if user.unit else None,
            "roles": sorted(user.roles | row.roles),
        }
        old, new = audit.changes(before, after)
        audit.record(actor, "user.update", "user", user.id, old, new)
        if progress:
            progress(1)
    db.session.flush()
    audit.record(
        actor,
        "users.import",
        "roster",
        plan.sha256[:16],
        None,
        {"created": len(plan.create), "updated": len(plan.update), "unchanged": plan.unchanged},
    )
