"""Who an enrolment list names: existing accounts only, matched and never changed.

A trainer enrols people from a pasted list or a file (CSV/XLSX). Each row is matched to ONE
existing, enabled account by its login name, its e-mail, or its exact full name (NFC) together
with its date of birth. Nothing here writes: no account is created, renamed, moved or given a
role. Columns such as Đơn vị or Vai trò are ignored (and said to be). Creating accounts and
granting roles is the admin's roster import (accounts/roster.py) and the admin pages.
"""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from learnhub import db
from learnhub.accounts import roster
from learnhub.accounts.models import User, nfc
from learnhub.textutil import fold
from learnhub.timeutil import parse_date

#: The columns that say who a row is; every other known roster column is ignored.
IDENTITY = ("login", "email", "full_name", "birth_date")
MAX_ROWS = 5000
SEPARATOR = re.compile(r"[\t;,]")


class MatchError(Exception):
    """The list as a whole cannot be read; the message says what to do."""


@dataclass(frozen=True)
class Problem:
    row: int
    message: str

    def __str__(self) -> str:
        return _("Dòng %(n)s: %(m)s", n=self.row, m=self.message)


@dataclass
class Match:
    """The accounts a list names (each once, in list order) and every row that named none."""

    users: list[User] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Labels of the file's columns that enrolment does not use (Đơn vị, Vai trò, ...).
    ignored: list[str] = field(default_factory=list)
    #: Rows ignored because an earlier row named the same person (the trainer is told).
    repeated: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Named:
    """What one row says about a person."""

    row: int
    login: str = ""
    email: str = ""
    full_name: str = ""
    birth_date: date | None = None

    @property
    def key(self) -> tuple:
        """What the row says, compared without regard to case after NFC (hocvien1 = HOCVIEN1)."""
        return (
            nfc(self.login).casefold(),
            nfc(self.email).casefold(),
            nfc(self.full_name).casefold(),
            self.birth_date,
        )

    @property
    def text(self) -> str:
        return self.login or self.email or nfc(self.full_name)


def _one(stmt) -> tuple[User | None, int]:
    found = db.session.scalars(stmt.limit(2)).all()
    return (found[0] if len(found) == 1 else None), len(found)


def _by_login(key: str) -> User | None:
    key = key.casefold()
    user, _n = _one(select(User).where(or_(User.username == key, User.email == key)))
    return user


def _resolve(named: Named) -> User | str:
    """The one account *named* points to, or why there is none (a message for the trainer)."""
    user = None
    if named.login or named.email:
        for key in filter(None, (named.login, named.email)):
            found = _by_login(key)
            if found is None:
                return _("không có tài khoản '%(x)s'", x=key)
            if user is not None and found.id != user.id:
                return _("tên đăng nhập và email là của hai tài khoản khác nhau")
            user = found
        if named.full_name and nfc(named.full_name).casefold() != user.full_name.casefold():
            return _("họ và tên không khớp với tài khoản '%(x)s'", x=user.login)
        if named.birth_date and user.birth_date and named.birth_date != user.birth_date:
            return _("ngày sinh không khớp với tài khoản '%(x)s'", x=user.login)
    elif named.full_name and named.birth_date:
        stmt = select(User).where(
            User.full_name == nfc(named.full_name), User.birth_date == named.birth_date
        )
        user, count = _one(stmt)
        if count == 0:
            return _(
                "không có tài khoản nào tên '%(x)s' sinh ngày %(d)s",
                x=nfc(named.full_name),
                d=named.birth_date.strftime("%d/%m/%Y"),
            )
        if count > 1:
            return _("có nhiều tài khoản cùng họ tên và ngày sinh; hãy ghi tên đăng nhập")
    else:
        return _("cần tên đăng nhập, email, hoặc họ và tên kèm ngày sinh")
    if not user.is_enabled:
        return _("tài khoản '%(x)s' đã bị khóa", x=user.login)
    return user


def _repeat(row: int, text: str, first: int) -> Problem:
    return Problem(row, _("'%(x)s' trùng với dòng %(n)s, bỏ qua", x=text, n=first))


def match(rows: Iterable[Named | Problem]) -> Match:
    """Resolve every row; a row that already failed to parse arrives as its Problem. A row that
    repeats an earlier one (the same text without regard to case after NFC, or the same account
    by another name) is ignored and listed in ``repeated``."""
    result = Match()
    said: dict[tuple, int] = {}
    users: dict[int, int] = {}  # user id -> the first row naming them
    for item in rows:
        if isinstance(item, Problem):
            result.problems.append(item)
            continue
        if item.key in said:
            result.repeated.append(_repeat(item.row, item.text, said[item.key]))
            continue
        said[item.key] = item.row
        found = _resolve(item)
        if isinstance(found, str):
            result.problems.append(Problem(item.row, found))
        elif found.id in users:
            result.repeated.append(_repeat(item.row, item.text, users[found.id]))
        else:
            users[found.id] = item.row
            result.users.append(found)
    return result


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value))


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _pasted(text: str) -> Iterable[Named | Problem]:
    lines = text.splitlines()
    if len(lines) > MAX_ROWS:
        raise MatchError(_("Danh sách có hơn %(n)s dòng; hãy chia nhỏ.", n=MAX_ROWS))
    for number, line in enumerate(lines, start=1):
        parts = [p.strip() for p in SEPARATOR.split(line) if p.strip()]
        if not parts:
            continue
        if len(parts) == 1:
            yield Named(number, login=nfc(parts[0]))
            continue
        try:
            birth = parse_date(parts[1]) if len(parts) == 2 else None
        except ValueError:
            birth = None
        if birth is None:
            yield Problem(
                number,
                _("mỗi dòng ghi một tên đăng nhập hoặc email, hoặc 'Họ và tên; ngày sinh'"),
            )
        else:
            yield Named(number, full_name=nfc(parts[0]), birth_date=birth)


def match_pasted(text: str) -> Match:
    """Match a pasted list: one login or e-mail per line, or 'Họ và tên; dd/mm/yyyy'."""
    return match(_pasted(text))


def _columns(header: list[object]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        key = fold(nfc(str(cell))).strip(" *:")
        name = next((n for n, spellings in roster.HEADERS.items() if key in spellings), None)
        if name in IDENTITY and name not in columns:
            columns[name] = index
        elif name is not None:
            ignored.append(roster.LABELS[name])
    if not ({"login", "email"} & columns.keys() or {"full_name", "birth_date"} <= columns.keys()):
        raise MatchError(
            _(
                "Tệp cần cột 'Tên đăng nhập/Email' hoặc 'Email', hoặc hai cột 'Họ và tên' và "
                "'Ngày sinh'."
            )
        )
    return columns, ignored


def _file_rows(table, columns: dict[str, int]) -> Iterable[Named | Problem]:
    for number, cells in enumerate(table, start=2):
        if number > MAX_ROWS + 1:
            raise MatchError(_("Tệp có hơn %(n)s dòng; hãy chia nhỏ.", n=MAX_ROWS))
        if not any(str(c).strip() for c in cells):
            continue
        values = {n: cells[i] if i < len(cells) else "" for n, i in columns.items()}
        birth = values.get("birth_date", "")
        try:
            birth_date = _date(birth) if str(birth).strip() else None
        except (ValueError, TypeError):
            yield Problem(number, _("'%(x)s' không phải ngày dd/mm/yyyy", x=_text(birth)))
            continue
        yield Named(
            number,
            login=_text(values.get("login", "")),
            email=_text(values.get("email", "")),
            full_name=_text(values.get("full_name", "")),
            birth_date=birth_date,
        )


def match_file(data: bytes, filename: str = "") -> Match:
    """Match a CSV (UTF-8) or XLSX list whose first row holds the roster headers."""
    try:
        table = roster.read_table(data, filename)
        header = next(table, None)
        if header is None:
            raise MatchError(_("Tệp trống."))
        columns, ignored = _columns(header)
        result = match(_file_rows(table, columns))
    except roster.RosterError as exc:
        raise MatchError(str(exc)) from exc
    except csv.Error as exc:
        raise MatchError(_("Không đọc được tệp CSV: %(e)s", e=str(exc))) from exc
    result.ignored = ignored
    return result
