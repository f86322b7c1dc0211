"""Security case 20 over every route: no query, form, file or path value ever gives a 500.

Every (endpoint, method) of the app is fuzzed as a role that reaches it (per the access matrix:
a route added there is fuzzed without a change here, and a route missing there fails here), with
every parameter name LearnHub reads: the fields of its WTForms forms, the names its code reads
from request.args/request.form (and its query helpers), the `name="..."` attributes of its
templates and the API's OpenAPI parameters. Which of those names and forms concern a route is
read from its view's code (the strings and form classes the view uses, itself or through the
functions it calls). Each example is one of four kinds:

- shaped: every field of the route's forms gets a value of its own shape (a date for a date
  field, an integer in the field's range, a string matching its pattern, one of its choices...),
  drawn by Hypothesis, with the edges (01/01/0001, 31/12/9999) among them. This gets past the
  validation of a form to the code behind it.
- shaped+nasty: the same, with a few names given a nasty value.
- rotation: every name the app reads gets a nasty value, the fixed list spread over the names.
- sparse: only a few of the route's names, with nasty values.

The nasty values: overflowing numbers, NaN, LIKE wildcards, SQL, odd dates and times, Vietnamese
in NFC and NFD, homoglyphs, control characters, NUL, invalid UTF-8 and broken percent-escapes,
10k-character strings, Hypothesis text. They go in the query string, and on POST also in the
body with a valid CSRF token, urlencoded or multipart (with files from a pool of broken CSV,
XLSX, GIFT and image files); now and then in a path argument (ids beyond 32 and 64 bits) and in
the Referer, Accept-Language, Accept and Origin headers. The answers of a quiz (JSON of any type
from the autosave, or the question's form) have a test of their own, as do uploads of every file
of the pool and HEAD/OPTIONS/unknown methods on every rule.

The property: a status below 500 and no traceback in the body. Runs are derandomized (the same
examples in CI); the bugs found are kept as explicit examples.
"""

import enum
import functools
import inspect
import io
import itertools
import re
import struct
import types
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from wtforms import fields as wtf
from wtforms import validators as wtv
from wtforms.fields.core import UnboundField

import learnhub
import learnhub.forms
from learnhub import db
from learnhub.api import openapi
from learnhub.api import tokens as api_tokens
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.quizzes import services as quiz_services
from learnhub.timeutil import today, utcnow
from tests.core.test_access_matrix import (  # noqa: F401 (fixtures)
    EXPECTED,
    ROLES,
    _url,
    learner_attempt,
    matrix_certificate,
    matrix_class,
    people,
)
from tests.support import csrf_token

A, L, T, H, D = ROLES
API = "api-token"  # the API's routes take a bearer token, not a session
SOURCE = Path(learnhub.__file__).resolve().parent

# -- parameter names, gathered from the code -----------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_READS = (
    # request.args.get("q"), args.getlist("choices"), form.get("action"), files.get("file") ...
    re.compile(
        rf"\b(?:args|form|files|values|raw|data|params)\s*\.\s*(?:get|getlist|pop)"
        rf"\(\s*[\"']({_IDENT})[\"']"
    ),
    # request.args["q"]
    re.compile(rf"\b(?:args|form|files|values)\s*\[\s*[\"']({_IDENT})[\"']\s*\]"),
    # query-parameter helpers: _text("unit"), _int("year", ...), _clean(args, "q", 40) ...
    re.compile(
        rf"\b_(?:text|int|date|choice|clean|flag|arg)\(\s*(?:args\s*,\s*)?[\"']({_IDENT})[\"']"
    ),
)
# f-string names: request.form.get(f"s-{user.id}") -> "s-{}"
_FSTRING_READS = re.compile(r"\b(?:args|form)\s*\.\s*(?:get|getlist)\(\s*f[\"']([^\"']+)[\"']")
_HTML_NAME = re.compile(r"""\bname=["']([^"']+)["']""")
_HTML_VALUE = re.compile(r"""\bvalue=["']([^"'{}]+)["']""")
_NOT_PARAMETERS = {"csrf_token", "viewport", "description", "color-scheme", "referrer"}


def scanned_names() -> tuple[set[str], set[str], set[str]]:
    """Names read in learnhub/**/*.py and templates/**/*.html: (plain names, patterns with "{}"
    holes such as "s-{}", literal `value="..."` attributes of the templates)."""
    names: set[str] = set()
    patterns: set[str] = set()
    values: set[str] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for regex in _READS:
            names.update(regex.findall(text))
        for found in _FSTRING_READS.findall(text):
            patterns.add(re.sub(r"\{[^}]*\}", "{}", found))
    for path in sorted((SOURCE / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for found in _HTML_NAME.findall(text):
            if "{{" in found or "{%" in found:
                patterns.add(re.sub(r"\{\{.*?\}\}", "{}", found))
            else:
                names.add(found)
        values.update(_HTML_VALUE.findall(text))
    return names - _NOT_PARAMETERS, patterns, values


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@functools.cache
def form_fields() -> dict[str, list[UnboundField]]:
    """The fields of every FlaskForm subclass in learnhub (imported once the app exists), by
    name: a name several forms use (code, unit, login...) lists each form's field."""
    found: dict[str, list[UnboundField]] = {}
    for form in _subclasses(FlaskForm):
        if not form.__module__.startswith("learnhub."):
            continue
        for name, unbound in form_class_fields(form).items():
            found.setdefault(name, []).append(unbound)
    return found


@functools.cache
def enum_values() -> tuple[str, ...]:
    """The values of LearnHub's enums (roles, statuses, kinds...): values some field accepts."""
    found = set()
    for cls in _subclasses(enum.Enum):
        if cls.__module__.startswith("learnhub."):
            found.update(str(member.value) for member in cls)
    return tuple(sorted(found))


def openapi_parameters() -> set[str]:
    document = openapi.document()
    found = set()
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "query":
                        found.add(parameter["name"])
    for parameter in document.get("components", {}).get("parameters", {}).values():
        if parameter.get("in") == "query":
            found.add(parameter["name"])
    return found


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def view_refs(func, depth: int = 3, seen: set | None = None) -> tuple[set[str], set[type]]:
    """The string constants and the FlaskForm classes a view uses, itself or through the
    learnhub functions it calls (*depth* levels down): which names and forms concern a route."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    func = getattr(func, "__func__", func)  # a classmethod, as Page.of
    if not isinstance(func, types.FunctionType) or func in seen:
        return set(), set()
    seen.add(func)
    strings: set[str] = set()
    forms: set[type] = set()
    scope = func.__globals__
    for code in _code_objects(func.__code__):
        strings.update(c for c in code.co_consts if isinstance(c, str))
        found = [scope.get(n) for n in code.co_names]
        # module.function and Class.method: look the other names up in modules and classes
        holders = [
            o
            for o in found
            if isinstance(o, types.ModuleType)
            or (isinstance(o, type) and o.__module__.startswith("learnhub."))
        ]
        for name in code.co_names:
            for obj in [scope.get(name), *(getattr(h, name, None) for h in holders)]:
                if isinstance(obj, type) and issubclass(obj, FlaskForm):
                    forms.add(obj)
                elif depth and (getattr(obj, "__module__", None) or "").startswith("learnhub."):
                    more_strings, more_forms = view_refs(obj, depth - 1, seen)
                    strings |= more_strings
                    forms |= more_forms
    return strings, forms


def form_class_fields(form: type) -> dict[str, UnboundField]:
    return {
        name: unbound
        for name in dir(form)
        if isinstance(unbound := getattr(form, name, None), UnboundField)
        and name not in _NOT_PARAMETERS
    }


SCANNED, PATTERNS, TEMPLATE_VALUES = scanned_names()
# Always worth sending, whatever a scan finds.
BASELINE = {"page", "per_page", "next", "q", "from", "to", "unit", "format", "lang"}

# -- values ----------------------------------------------------------------------------------


class Raw(str):
    """A value put into the query string or body as is, not percent-encoded (e.g. "%zz")."""

    __slots__ = ()


class Absent:
    """The parameter is not sent at all."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()

VIETNAMESE = "Nguyễn Thị Hồng Nhung, Đoàn Thị Điểm, Cà Mau"
NASTY: list[object] = [
    "",
    " ",
    "-1",
    "0",
    "1",
    "2147483648",
    "9223372036854775808",
    str(10**20),
    "9" * 5000,
    "1e309",
    "1E+999999",
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "0x1F",
    "1,5",
    "½",
    "²",
    "١٢",
    "１２",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "%",
    "_",
    "%_%",
    "\\",
    '"',
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "{{7*7}}",
    "javascript:alert(1)",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "../../etc/passwd",
    "31/02/2026",
    "2026-13-01",
    "29/02/2025",
    "00/00/0000",
    "01/01/0001",
    "0001-01-01",
    "31/12/9999",
    "9999-12-31",
    "99999999999/1/2026",
    "1/99999999999/2026",
    "1/1/2026/1",
    "2026/06/15",
    " 1 . 1 . 2026 ",
    "25:00",
    "99:99",
    "7:5",
    "-1:-1",
    VIETNAMESE,
    unicodedata.normalize("NFD", VIETNAMESE),
    "аdmin",  # Cyrillic а
    "İstanbul ß ﬁ",
    "\u202eevil\u202c",
    "a\u200bb",
    "👩🏽‍🏫🇻🇳",
    "\t\r\n",
    "\x1b[31m\x07\x7f",
    "\u2028\u2029",
    "x" * 10_000,
    "ệ" * 10_000,
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xed\xa0\x80",  # a lone surrogate, UTF-8 encoded
    b"\xc0\xaf",
    Raw("%zz%"),
    Raw("%"),
    Raw("%u0041"),
    Raw("a+b"),
]
NUL = "a\x00b"  # refused at the door (400) whatever the route: kept out of the rotation
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=200)
VALUE = st.one_of(
    st.sampled_from([*NASTY, NUL]),
    st.text(max_size=100),  # may hold NUL
    st.binary(max_size=30),
    st.integers().map(str),
)
# Request headers the app reads: where a form came from (re-authentication sends the user
# back there), the language, JSON or HTML errors. As a server hands them over: UTF-8 bytes
# read as Latin-1, on one line.
HEADER_VALUE = st.one_of(
    st.sampled_from([v for v in NASTY if isinstance(v, str)] + ["application/json", "vi, en;q=x"]),
    TEXT,
).map(lambda v: re.sub(r"[\r\n]", "", v.encode("utf-8").decode("latin-1"))[:2000])
HEADERS = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("Referer", "Accept-Language", "Accept", "Origin"), HEADER_VALUE)
)
PATH_FUZZ = 8  # path_index from this on: a path argument gets a nasty value
PATH_INTS = [-1, 0, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**20, 10**40]
PATH_TEXT = st.one_of(
    st.sampled_from([v for v in NASTY if isinstance(v, str) and v]), st.text(min_size=1)
)


def _png(width: int, height: int, body: bytes = b"") -> bytes:
    """A PNG signature and header chunk for an image of any size (the pixels need not follow)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + body
    )


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Tên đăng nhập", "Đơn vị", "Ngày sinh", "Vai trò"])
    sheet.append(['=HYPERLINK("https://evil.example","x")', "@cmd", "CM-SNV", 10**20, "admin"])
    sheet.append([unicodedata.normalize("NFD", VIETNAMESE), "x" * 10_000, None, "31/02/1990"])
    sheet.append([1e308, float("inf"), datetime(1, 1, 1), datetime(9999, 12, 31), True])  # noqa: DTZ001
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Uploaded files: (file name, content). The file name is part of the attack.
FILES: list[tuple[str, bytes]] = [
    ("trong.csv", b""),
    ("bom.csv", b"\xef\xbb\xbf"),
    (
        "danh-sach.csv",
        (
            "\ufeffHọ và tên,Tên đăng nhập,Đơn vị,Ngày sinh\r\n"
            "Nguyễn Văn A,nva,CM-SNV,31/02/1990\r\n"
            '=HYPERLINK("x"),@x,CM-SNV,99999999999/1/2026\r\n'
            "Nguyễn Văn A,nva,KHONG-CO,01/01/0001\r\n"
        ).encode(),
    ),
    ("diem-danh.csv", "Tên đăng nhập,Buổi ²,Buổi ١\r\nhocvien,có mặt,x\r\n".encode()),
    ("diem-danh-2.csv", "Tên đăng nhập,Buổi 1\r\nhocvien,vắng không phép\r\n,\r\n".encode()),
    ("dai.csv", b'"' + b"x" * 200_000 + b'"\r\n'),
    ("nul.csv", b"login\x00,Bu\x00\r\nhocvien\x00,x\r\n"),
    ("cp1258.csv", "Họ và tên,Tên đăng nhập\r\nNguyễn,nva\r\n".encode("cp1258", "replace")),
    ("utf16.csv", "Họ và tên,Tên đăng nhập\r\n".encode("utf-16")),
    ("danh-sach.xlsx", _xlsx()),
    ("hong.xlsx", b"PK\x03\x04" + b"\x00" * 64),
    ("khong-phai.xlsx", b"Ho va ten,Ten dang nhap\r\n"),
    (
        "cau-hoi.gift",
        b"::N1:: x? {#1..NaN}\n\n::N2:: y? {#Infinity}\n\n::N3:: z? {#1e999999999:1}\n\n"
        b"::N4:: w? {#NaN:1}\n\n::N5:: v? {#1e-999999999}\n",
    ),
    ("hong.gift", b"::Q:: {=a ~b\n\n::\x07:: }{ {{=\n\n$CATEGORY:\n// @ref\n"),
    (
        "du-lieu.gift",
        (
            "::Ghép:: Nối {=a -> =b -> ~c}\n\n::TL:: Đúng? {T#sai#đúng####chung}\n\n"
            "::Chọn:: x {~%200%a ~%-0.5%b =%NaN%c}\n\n"
            + unicodedata.normalize("NFD", "::Tự luận:: Viết {}\n")
        ).encode(),
    ),
    ("anh.png", _png(1, 1, b"\x00\x00\x00\x00IEND\xaeB`\x82")),
    ("bom.png", _png(100_000, 100_000)),
    ("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
    ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
    ("evil.html.png", b"<html><script>alert(1)</script></html>"),
    ("../../app.py", b"print(1)"),
    ("..\\..\\x.png", _png(1, 1)),
    ("a\x00.png", _png(1, 1)),
    ("ệ" * 300 + ".pdf", b"%PDF-1.4\n%\xff\xfe broken"),
]


def _encode(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bytes):
        return quote(value, safe="")
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def urlencode(pairs: list[tuple[str, object]]) -> str:
    return "&".join(f"{quote(name, safe='')}={_encode(value)}" for name, value in pairs)


def multipart(pairs: list[tuple[str, object]], files: dict[str, tuple[str, bytes]]) -> bytes:
    """A multipart body with the fields and the files."""
    out = bytearray()
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += raw + b"\r\n"
    for name, (filename, data) in files.items():
        filename = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        out += (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode("utf-8", "surrogatepass")
        out += data + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


BOUNDARY = "----learnhub-fuzz"

# -- values of the right shape, from the form fields ---------------------------------------------


def _choice_values(choices) -> list[str]:
    values = []
    for choice in choices or ():
        value = getattr(choice, "value", None)
        if value is None and isinstance(choice, tuple | list):
            value = choice[0]
        values.append(str(value))
    return values


EDGE_DATES = [date.min, date(1, 1, 2), date(1899, 12, 31), date(9999, 12, 1), date.max]


def _date_text(day) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def field_strategy(unbound: UnboundField, known: list[str]) -> st.SearchStrategy:
    """A value of the field's own shape: it passes the field's validators, mostly."""
    default = unbound.kwargs.get("default")
    shaped = _shaped(unbound, known)
    if isinstance(default, str | int) and not isinstance(default, bool):
        return st.one_of(st.just(str(default)), shaped)  # a field's default is a valid value
    return shaped


def _shaped(unbound: UnboundField, known: list[str]) -> st.SearchStrategy:
    cls = unbound.field_class
    checks = list(unbound.kwargs.get("validators") or [])
    span = next((v for v in checks if isinstance(v, wtv.NumberRange)), None)
    length = next((v for v in checks if isinstance(v, wtv.Length)), None)
    pattern = next((v for v in checks if isinstance(v, wtv.Regexp)), None)
    if issubclass(cls, wtf.BooleanField):
        return st.sampled_from(["y", ABSENT])
    if issubclass(cls, wtf.SelectFieldBase):
        options = _choice_values(unbound.kwargs.get("choices")) or known
        one = st.sampled_from(options)
        if issubclass(cls, wtf.SelectMultipleField):
            return st.lists(one, max_size=3)
        return one
    if issubclass(cls, learnhub.forms.DateField) or "date" in cls.__name__.lower():
        return st.one_of(st.sampled_from(EDGE_DATES), st.dates()).map(_date_text)
    if issubclass(cls, wtf.IntegerField):
        low = span.min if span and span.min is not None else -(2**40)
        high = span.max if span and span.max is not None else 2**40
        return st.integers(low, high).map(str)
    if issubclass(cls, wtf.DecimalField | wtf.FloatField):
        low = span.min if span and span.min is not None else -(10**6)
        high = span.max if span and span.max is not None else 10**6
        return st.decimals(low, high, places=2, allow_nan=False).map(str)
    limit = length.max if length and length.max and length.max > 0 else 300
    if pattern is not None:
        # \d and \w match any script's digits and letters: ASCII ones reach further.
        ascii_only = re.compile(
            pattern.regex.pattern, (pattern.regex.flags & ~re.UNICODE) | re.ASCII
        )
        return st.one_of(
            st.from_regex(ascii_only, fullmatch=True), st.from_regex(pattern.regex, fullmatch=True)
        ).filter(lambda s: "\x00" not in s and len(s) <= limit)
    texts = st.text(
        alphabet=st.characters(blacklist_characters="\x00"), min_size=1, max_size=min(limit, 60)
    )
    return st.one_of(texts, st.sampled_from(known))


def name_strategy(fields: list[UnboundField], known: list[str]) -> st.SearchStrategy:
    if not fields:
        return st.one_of(st.just(ABSENT), st.sampled_from(known), TEXT)
    return st.one_of(*(field_strategy(f, known) for f in fields))


# -- who fuzzes which route -------------------------------------------------------------------

ROUTES = sorted(EXPECTED)
_UNREACHABLE = (401, 403, 404)


def role_for(endpoint: str, method: str) -> str:
    """The most specific role that reaches the route: anonymous for public pages, then the
    least privileged signed-in role; a bearer token for the API; else the first role that gets
    a 404 (a route whose object the fixtures do not have) rather than a 403."""
    statuses = dict(zip(ROLES, EXPECTED[(endpoint, method)], strict=True))
    if statuses[A] not in (302, *_UNREACHABLE):
        return A
    for role in (L, T, H, D):
        if statuses[role] not in _UNREACHABLE:
            return role
    if all(statuses[role] == 401 for role in ROLES):
        return API
    return next(role for role in (L, T, H, D) if statuses[role] == 404)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_fuzzed(app):
    """A new route is fuzzed as soon as the access matrix knows it (and fails here until then)."""
    found = {(rule.endpoint, method) for rule, method in _routes(app)}
    assert found - set(ROUTES) == set(), "routes the fuzz does not know: add them to EXPECTED"
    assert set(ROUTES) - found == set()


def test_parameter_names_are_gathered(app):
    """The gathering finds what the app reads (a broken scan would quietly fuzz nothing)."""
    fields = form_fields()
    strings, forms = view_refs(app.view_functions["classes.add_sessions"])
    assert {f.__name__ for f in forms} == {"SessionsForm"}
    strings, forms = view_refs(app.view_functions["register.index"])
    assert {"q", "klass", "year", "page", "per_page"} <= strings
    for expected in ("q", "page", "per_page", "next", "from", "to", "person", "lang", "klass"):
        assert expected in SCANNED
    for expected in ("full_name", "starts_on", "capacity", "count", "logins", "password", "file"):
        assert expected in fields
    with app.test_request_context():
        assert {"limit", "after", "year"} <= openapi_parameters()
    assert {"s-{}", "c-{}-{}"} <= PATTERNS
    assert {"present", "learner", "trainer"} <= set(enum_values())


# -- a signed-in client that stays signed in ---------------------------------------------------


@dataclass
class Agent:
    client: object
    role: str
    sign_in: object
    headers: dict = field(default_factory=dict)
    token: str | None = None
    raw_token: object = None
    stale: bool = True

    def ready(self) -> str:
        """Sign in again if a previous request ended the session; return a CSRF token."""
        with self.client.session_transaction() as sess:
            signed_in = "_user_id" in sess
            raw = sess.get("csrf_token")
        if self.role not in (A, API) and (self.stale or not signed_in):
            self.sign_in()
            self.token = None
        elif raw != self.raw_token:
            self.token = None
        self.stale = False
        if self.token is None:
            page = "/dashboard" if self.role not in (A, API) else "/login"
            self.token = csrf_token(self.client, page)
            with self.client.session_transaction() as sess:
                self.raw_token = sess.get("csrf_token")
        return self.token

    def saw(self, response) -> None:
        location = response.headers.get("Location", "")
        if response.status_code in (301, 302, 303) and urlsplit(location).path == "/login":
            self.stale = True


@pytest.fixture
def agent_for(app, login, people, hr):  # noqa: F811
    """An Agent for a role; for the API, a client that presents HR's bearer token."""

    def make(role: str) -> Agent:
        client = app.test_client()
        if role == API:
            _row, secret = api_tokens.create(Actor(hr), hr, "fuzz", None, today())
            return Agent(client, role, lambda: None, {"Authorization": f"Bearer {secret}"})
        if role == A:
            return Agent(client, role, lambda: None)
        return Agent(client, role, lambda: login(people[role], c=client))

    return make


@dataclass
class Target:
    """One route: its valid URL's path values, the names to send, the files it may take."""

    rules: list  # the endpoint's rules for the method (issuers.edit has /new and /<id>)
    method: str
    values: list[dict]  # path values of a valid URL, per rule
    names: list[str]  # every name: the rotation sends them all
    focus: list[str]  # the names the route's view (or its forms) reads
    files: list[str]
    shaped: st.SearchStrategy  # the focus names, with values of their fields' shapes

    def url(self, path_index: int, path_int: int, path_text: str) -> str:
        which = path_index % len(self.rules)
        values = dict(self.values[which])
        arguments = sorted(values)
        if arguments and path_index >= PATH_FUZZ:
            name = arguments[(path_index - PATH_FUZZ) % len(arguments)]
            values[name] = path_int if isinstance(values[name], int) else path_text
        return self.rules[which].build(values, append_unknown=False)[1]


def _expand(pattern: str, ids: list[int]) -> list[str]:
    holes = pattern.count("{}")
    return [pattern.format(*combo) for combo in itertools.product(ids, repeat=holes)]


@pytest.fixture
def target_for(app, people, unit, learner_attempt, matrix_class, matrix_certificate):  # noqa: F811
    def make(endpoint: str, method: str) -> Target:
        rules = sorted(
            (r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods),
            key=lambda r: r.rule,
        )
        adapter = app.url_map.bind("localhost")
        values = []
        for rule in rules:
            url = _url(rule, people, unit, learner_attempt, matrix_class, matrix_certificate)
            _endpoint, matched = adapter.match(url, method=method)
            values.append({k: v for k, v in matched.items() if k in rule.arguments})
        with app.test_request_context():
            api = openapi_parameters()
        fields = form_fields()
        # Ids for names such as s-<user id> or c-<session id>-<user id>, and a few small ones.
        ids = sorted({0, 1, people[L].id, matrix_class.sessions[0].id})
        names = set(SCANNED) | set(fields) | api | BASELINE
        strings, forms = view_refs(app.view_functions[endpoint])
        own: dict[str, list[UnboundField]] = {}
        for form in sorted(forms, key=lambda f: f.__qualname__):
            for name, unbound in form_class_fields(form).items():
                own.setdefault(name, []).append(unbound)
        focus = (names & strings) | set(own) | BASELINE
        for pattern in PATTERNS:
            expanded = _expand(pattern, ids)
            names.update(expanded)
            if pattern.split("{}")[0] in strings:
                focus.update(expanded)
        cert = matrix_certificate[0]
        known = sorted(
            {
                *enum_values(),
                *TEMPLATE_VALUES,
                *(str(i) for i in ids),
                *(p.login for p in people.values()),
                unit("CM-SNV").code,
                unit("CM-LHHN").code,
                matrix_class.code,
                str(matrix_class.id),
                learner_attempt.quiz.module.slug,
                str(learner_attempt.quiz.module_id),
                cert.code,
                str(cert.number_label or ""),
                str(today().year),
                _date_text(today()),
                *(_date_text(day) for day in EDGE_DATES),
            }
        )
        files = sorted(n for n, fs in fields.items() if any(_is_file(f) for f in fs))
        files = sorted({*files, *(n for n in SCANNED if n == "file")})
        shaped = st.fixed_dictionaries(
            {n: name_strategy(own.get(n, []), known) for n in sorted(focus) if n not in files}
        )
        return Target(rules, method, values, sorted(names), sorted(focus), files, shaped)

    return make


def _is_file(unbound: UnboundField) -> bool:
    return issubclass(unbound.field_class, wtf.FileField)


def _pairs(
    target: Target, mode: str, shaped: dict, shift: int, texts: list[str], overrides: dict
) -> list[tuple[str, object]]:
    """The (name, value) pairs to send; *overrides* come last and win."""
    pairs: list[tuple[str, object]] = []
    if mode == "shaped":
        overrides = {}  # values of the fields' shapes only: this gets deepest
    if mode in ("shaped", "shaped+nasty"):
        for name, value in shaped.items():
            if name in overrides or value is ABSENT:
                continue
            for one in value if isinstance(value, list) else [value]:
                pairs.append((name, one))
    elif mode == "rotation":
        # Every name gets a value from the pool, rotated by *shift*, so that one request
        # spreads the nasty list over the names and the next one shifts it.
        pool = [*NASTY, *texts, ABSENT, ABSENT, ABSENT]
        for i, name in enumerate(target.names):
            value = pool[(i + shift) % len(pool)]
            if name not in overrides and value is not ABSENT:
                pairs.append((name, value))
    pairs.extend((name, value) for name, value in overrides.items() if value is not ABSENT)
    return pairs


def _send(
    agent: Agent, target: Target, url: str, pairs, files: dict | None, headers: dict | None = None
):
    query = urlencode(pairs)
    environ = {"REMOTE_ADDR": "10.20.0.20"}
    headers = {**(headers or {}), **agent.headers}
    if target.method == "GET":
        return agent.client.get(url, query_string=query, headers=headers, environ_base=environ)
    token = agent.ready()
    with_token = [*pairs, ("csrf_token", token)]
    if files is not None:
        body = multipart([p for p in with_token if p[0] not in files], files)
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    else:
        body, content_type = urlencode(with_token).encode("ascii"), None
    return agent.client.open(
        url,
        method=target.method,
        query_string=query,
        data=body,
        content_type=content_type or "application/x-www-form-urlencoded",
        headers=headers,
        environ_base=environ,
    )


def _check(response, what: str) -> None:
    body = response.get_data()
    response.close()
    assert response.status_code < 500, what
    assert b"Traceback" not in body, what


FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

_DEFAULTS = {
    "only": None,
    "mode": "sparse",
    "shaped": {},
    "shift": 0,
    "texts": [""],
    "overrides": {},
    "path_index": 0,
    "path_int": 0,
    "path_text": "x",
    "file_shift": None,
    "headers": {},
}


def regression(only: str, **values) -> example:
    """An explicit example for the route *only* ("endpoint-METHOD"): a bug the fuzz found."""
    return example(**{**_DEFAULTS, "only": only, **values})


def _file(name: str) -> int:
    return next(i for i, (filename, _data) in enumerate(FILES) if filename == name)


@pytest.mark.parametrize(("endpoint", "method"), ROUTES, ids=[f"{e}-{m}" for e, m in ROUTES])
def test_fuzz_route(app, agent_for, target_for, endpoint, method):
    """Security case 20: any query, form, file or path value gives a 4xx (or a page), never a
    500 and never a traceback."""
    role = role_for(endpoint, method)
    agent = agent_for(role)
    if role not in (A, API):
        agent.ready()
    target = target_for(endpoint, method)
    route = f"{endpoint}-{method}"
    # Derandomized draws are the same for every route: offset the rotation per route so that
    # between them the routes see every nasty value under every name.
    offset = ROUTES.index((endpoint, method)) * 7

    @FUZZ
    @given(
        only=st.none(),
        mode=st.sampled_from(("shaped", "shaped+nasty", "rotation", "sparse")),
        shaped=target.shaped,
        shift=st.integers(min_value=0, max_value=len(NASTY) * 3),
        texts=st.lists(TEXT, min_size=1, max_size=4),
        overrides=st.dictionaries(st.sampled_from(target.focus), VALUE, max_size=3),
        path_index=st.integers(min_value=0, max_value=10),  # below 8: a valid path
        path_int=st.sampled_from(PATH_INTS),
        path_text=PATH_TEXT,
        file_shift=st.none() | st.integers(min_value=0, max_value=len(FILES) - 1),
        headers=HEADERS,
    )
    # Bugs the fuzz found, kept as regressions.
    # A path id beyond 64 bits: OverflowError in the SQLite driver (now a 404).
    @regression("admin_users.show-GET", path_index=PATH_FUZZ, path_int=2**63)
    @regression("quizzes.review-GET", path_index=PATH_FUZZ, path_int=10**20)
    # New passwords that differ: a ValueError WTForms 3 does not catch (now a form error).
    @regression(
        "accounts.change_password-POST", overrides={"current": "x", "new": "a", "confirm": "b"}
    )
    # Audit log dates before UTC's year 1: OverflowError (now ignored, as other bad dates).
    @regression("audit.index-GET", overrides={"from": "01/01/0001", "to": "0001-01-01"})
    # A quiz opening on 01/01/0001: OverflowError turning it into UTC (form dates are now
    # limited to the years 1900-2999).
    @regression(
        "quiz_manage.settings-POST",
        overrides={
            "title": "Bài kiểm tra",
            "open_on": "01/01/0001",
            "close_on": "31/12/9999",
            "time_limit_minutes": "0",
            "attempts_allowed": "0",
            "grading": "highest",
            "pass_mark": "5",
            "per_category": "0",
            "review_after_submit": "nothing",
            "review_after_close": "nothing",
        },
    )
    # Sessions from 31/12/9999: OverflowError in the date arithmetic (same limit).
    @regression(
        "classes.add_sessions-POST",
        overrides={
            "first": "31/12/9999",
            "count": "100",
            "every_days": "30",
            "starts_at": "07:30",
            "ends_at": "11:00",
            "periods": "4",
        },
    )
    # A day beyond a C int: OverflowError from parse_date, which promises a ValueError.
    @regression(
        "api_tokens.create-POST", overrides={"name": "x", "expires_on": "99999999999/1/2026"}
    )
    # A new issuer with a unit: the unit query autoflushed the issuer before it had a code
    # (IntegrityError).
    @regression(
        "issuers.edit-POST",
        path_index=1,  # /admin/issuers/new
        overrides={
            "code": "FUZZ",
            "name": "Sở Nội vụ",
            "place": "Cà Mau",
            "unit": "CM-SNV",
            "signer_authority": "",
            "signer_title": "Giám đốc",
        },
    )
    # A check-in code in other scripts' digits passed the form's \d and made compare_digest
    # raise a TypeError; so did a QR token with a non-ASCII signature, and "²" in its window
    # a ValueError.
    @regression("attendance.code-POST", mode="sparse", overrides={"code": "١٢٣٤٥٦"})
    @regression("attendance.check_in-GET", path_index=PATH_FUZZ, path_text="1.1.ệ")
    @regression("attendance.check_in-POST", path_index=PATH_FUZZ, path_text="1.².x")
    def fuzz(
        only,
        mode,
        shaped,
        shift,
        texts,
        overrides,
        path_index,
        path_int,
        path_text,
        file_shift,
        headers,
    ):
        if only is not None and only != route:
            return
        url = target.url(path_index, path_int, path_text)
        pairs = _pairs(target, mode, shaped, shift + offset, texts, overrides)
        files = None
        if file_shift is not None and method != "GET":
            files = {
                name: FILES[(file_shift + i) % len(FILES)] for i, name in enumerate(target.files)
            }
        note(f"{method} {url} mode={mode} files={files and list(files.values())!r:.300}")
        note(f"pairs={pairs!r:.3000} headers={headers!r:.500}")
        response = _send(agent, target, url, pairs, files, headers)
        agent.saw(response)
        _check(response, f"{role} {method} {url}")

    fuzz()


# -- quiz answers: every kind of question, as the autosave's JSON and as the question's form ----

EVERY_KIND = """$CATEGORY: fuzz

::Fuzz TF:: Đúng hay sai? {T}

::Fuzz SC:: Chọn một {=Cà Mau ~Bạc Liêu ~Sóc Trăng}

::Fuzz MC:: Chọn nhiều {~%50%a ~%50%b ~%-100%c}

::Fuzz SA:: Điền tên tỉnh {=Cà Mau =ca mau =*Mau}

::Fuzz NU:: Bao nhiêu? {#5:1}

::Fuzz NR:: Trong khoảng {#1..10}

::Fuzz MA:: Ghép {=a -> 1 =b -> 2 =c -> 3}

::Fuzz ES:: Viết một đoạn {}
"""
KINDS = ("truefalse", "single", "multi", "short", "numerical", "matching", "essay")
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from([v for v in NASTY if isinstance(v, str)]),
    st.text(max_size=50),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ANSWER = st.one_of(
    st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("choice", "choices", "value", "text", "pairs"), JSON)
    ),
    st.fixed_dictionaries(
        {
            "pairs": st.dictionaries(
                st.sampled_from(["0", "1", "2", "9", "-1", "x"]), JSON, max_size=3
            )
        }
    ),
    JSON,
)


@pytest.fixture
def every_kind_quiz(people):  # noqa: F811
    """The matrix module's quiz with a question of every kind added, in bank order, no limits."""
    module = by_slug("doi-ngoai-nhan-dan")
    quiz_services.import_gift(Actor(people[T]), module, EVERY_KIND)
    quiz = quiz_services.ensure_quiz(module)
    quiz.shuffle_questions = quiz.shuffle_choices = False
    quiz.attempts_allowed = quiz.time_limit_minutes = 0
    return quiz


def _form_of(answer: object) -> list[tuple[str, object]]:
    """The answer as the question's form would send it (no JavaScript)."""
    if not isinstance(answer, dict):
        return [("text", str(answer))]
    pairs = []
    for key, value in answer.items():
        if key == "pairs" and isinstance(value, dict):
            pairs += [(f"pair-{k}", str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            pairs += [(key, str(v)) for v in value]
        else:
            pairs.append((key, str(value)))
    return pairs


@settings(FUZZ, max_examples=15)
@given(
    answers=st.lists(st.tuples(st.sampled_from(KINDS), ANSWER, st.booleans()), max_size=5),
)
# A numerical answer "NaN" or "1e999999999": InvalidOperation and Overflow when graded.
@example(answers=[("numerical", {"text": "NaN"}, True)])
@example(
    answers=[("numerical", {"text": "1e999999999"}, False), ("numerical", {"text": "sNaN"}, True)]
)
def test_fuzz_quiz_answers(app, agent_for, people, every_kind_quiz, answers):  # noqa: F811
    """Security case 20 for the answers of a quiz: save (JSON and form), submit, review."""
    attempt = quiz_services.start_attempt(every_kind_quiz, people[L], utcnow())
    db.session.flush()
    position = {item.snapshot["kind"]: item.position for item in attempt.items}
    assert set(KINDS) <= set(position)
    agent = agent_for(L)
    base = f"/attempts/{attempt.id}"
    for kind, answer, as_json in answers:
        token = agent.ready()
        url = f"{base}/items/{position[kind]}"
        if as_json:
            response = agent.client.post(url, json=answer, headers={"X-CSRFToken": token})
        else:
            body = urlencode([*_form_of(answer), ("csrf_token", token)])
            response = agent.client.post(
                url, data=body, content_type="application/x-www-form-urlencoded"
            )
        agent.saw(response)
        _check(response, f"save {kind} {answer!r:.200}")
    token = agent.ready()
    response = agent.client.post(f"{base}/submit", data={"csrf_token": token})
    _check(response, "submit")
    _check(agent.client.get(f"{base}/review"), "review")


def test_uploads_never_fail(app, agent_for, target_for):
    """Every file of the pool to every route that takes a file: never a 500."""
    agents: dict[str, Agent] = {}
    uploads = 0
    for endpoint, method in ROUTES:
        if method == "GET":
            continue
        target = target_for(endpoint, method)
        names = [n for n in target.files if n in target.focus]
        if not names:
            continue
        role = role_for(endpoint, method)
        agent = agents.get(role) or agents.setdefault(role, agent_for(role))
        for upload in FILES:
            url = target.url(0, 0, "")
            response = _send(agent, target, url, [], dict.fromkeys(names, upload))
            agent.saw(response)
            _check(response, f"{role} {method} {url} {upload[0][:40]}")
            uploads += 1
    assert uploads >= 5 * len(FILES), "fewer routes that take a file than expected"


METHODS = ("HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "FOO")


def test_other_methods_never_fail(app, agent_for, target_for):
    """HEAD, OPTIONS and methods no route has: never a 500, on every rule."""
    agents: dict[str, Agent] = {}
    seen = set()
    for endpoint, method in ROUTES:
        role = role_for(endpoint, method)
        target = target_for(endpoint, method)
        agent = agents.get(role) or agents.setdefault(role, agent_for(role))
        if role not in (A, API):
            agent.ready()
        for index, rule in enumerate(target.rules):
            if rule.rule in seen:
                continue
            seen.add(rule.rule)
            url = target.url(index, 0, "")
            for verb in METHODS:
                response = agent.client.open(url, method=verb, headers=agent.headers)
                _check(response, f"{role} {verb} {url}")
