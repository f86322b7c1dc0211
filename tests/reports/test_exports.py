"""CSV and XLSX exports of the completion records: scope, formula neutralisation, encoding,
types, streaming, and a real client (LibreOffice) reading the XLSX."""

import csv
import io
import os
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Result

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.reports import exports, records
from learnhub.timeutil import utcnow
from tests.reports.test_records import complete, enrol, make_class
from tests.support import require

HEADER = [c.header for c in records.EXPORT_COLUMNS]
NAME, LOGIN, BIRTH, UNIT_CODE = 0, 1, 2, 3
CLASS_CODE, ENDS_ON, STATUS, COMPLETED_ON, SCORE, SHARE, CERT = 5, 9, 10, 11, 12, 13, 14

#: Names a spreadsheet would read as formulas (security.md case 19).
HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1)", "@x", "-1+1", "\tTab đầu dòng"]


def download(client, url: str):
    with client.get(url) as response:
        # A streamed response has no Content-Length (a buffered one would).
        streamed = "Content-Length" not in response.headers
        return response.status_code, response.headers, response.get_data(), streamed


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def xlsx_rows(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    try:
        return [tuple(c.value for c in row) for row in book.worksheets[0].iter_rows()]
    finally:
        book.close()


@pytest.fixture
def world(create_user, unit, trainer):
    """Unit A (Sở Nội vụ): three learners, one with a certificate; unit B (Sở Tài chính): one
    learner, and hostile names everywhere."""
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    a = [
        create_user(
            "hv-nhung",
            full_name="Nguyễn Thị Hồng Nhung",
            unit=snv,
            birth_date=date(1990, 7, 15),
        ),
        create_user("hv-duc", full_name="Phạm Minh Đức", unit=snv),
    ]
    for i, name in enumerate(HOSTILE):
        person = create_user(f"hv-x{i}", full_name="Tạm", unit=snv)
        person.full_name = name  # as is: create_user would trim the leading tab
        a.append(person)
    db.session.flush()
    b = [create_user("hv-quan", full_name="Trần Hồng Quân", unit=stc)]
    klass = make_class(trainer, "XK-2026-01")
    enrol(klass, *a, *b)
    complete(klass, a[0], "9.5", "0.875")
    cert = certificates.issue(Actor(None), klass, a[0], utcnow())
    officers = {
        "a": create_user("hr-a", roles=(Role.hr,), unit=snv, scope=snv),
        "b": create_user("hr-b", roles=(Role.hr,), unit=stc, scope=stc),
        "all": create_user("hr-all", roles=(Role.hr,), unit=snv),
    }
    return {"a": a, "b": b, "klass": klass, "cert": cert, "officers": officers}


# -- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_keep_to_the_officers_scope(app, login, world, admin, fmt):
    a_names = {p.full_name for p in world["a"]}
    b_names = {p.full_name for p in world["b"]}
    read = csv_rows if fmt == "csv" else xlsx_rows

    def names(user, query: str = "klass=XK-2026-01") -> set[str]:
        c = login(user, c=app.test_client())
        status, _headers, data, _streamed = download(c, f"/reports/records.{fmt}?{query}")
        assert status == 200
        rows = read(data)
        assert list(rows[0]) == HEADER
        return {str(r[NAME]).removeprefix("'") for r in rows[1:]}

    assert names(world["officers"]["a"]) == a_names
    assert names(world["officers"]["b"]) == b_names
    # The other unit asked for by code, or by name: nothing.
    assert names(world["officers"]["a"], "unit=CM-STC") == set()
    assert names(world["officers"]["a"], "q=quan") == set()
    assert names(world["officers"]["b"], "unit=CM-SNV") == set()
    for viewer in (world["officers"]["all"], admin):
        assert names(viewer) == a_names | b_names


def test_exports_need_the_hr_role(app, login, learner, trainer):
    anonymous = app.test_client()
    for fmt in ("csv", "xlsx"):
        status, headers, _data, _s = download(anonymous, f"/reports/records.{fmt}")
        assert status == 302
        assert "/login" in headers["Location"]
        for user in (learner, trainer):
            c = login(user, c=app.test_client())
            assert download(c, f"/reports/records.{fmt}")[0] == 403


# -- CSV -------------------------------------------------------------------------------------


def test_csv(client, login, admin, world):
    login(admin)
    status, headers, data, streamed = download(client, "/reports/records.csv?klass=XK-2026-01")
    assert status == 200
    assert streamed
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"].startswith('attachment; filename="ho-so-hoan-thanh-')
    assert headers["Cache-Control"] == "no-store"
    assert b"\r\n" in data  # RFC 4180 line ends
    rows = csv_rows(data)
    assert rows[0] == HEADER
    assert len(rows) == 1 + len(world["a"]) + len(world["b"])
    by_login = {r[LOGIN]: r for r in rows[1:]}
    nhung = by_login["hv-nhung"]
    assert nhung[NAME] == "Nguyễn Thị Hồng Nhung"  # Vietnamese intact
    assert nhung[BIRTH] == "15/07/1990"
    assert nhung[UNIT_CODE] == "CM-SNV"
    assert nhung[CLASS_CODE] == "XK-2026-01"
    assert nhung[ENDS_ON] == "09/01/2026"
    assert nhung[STATUS] == "Hoàn thành"
    assert nhung[COMPLETED_ON].count("/") == 2
    assert nhung[SCORE] == "9.50"
    assert nhung[SHARE] == "87.5"
    assert nhung[CERT] == world["cert"].number_label
    assert by_login["hv-duc"][STATUS] == "Chưa hoàn thành"
    assert by_login["hv-duc"][CERT] == ""
    # Formula neutralisation: the cell starts with an apostrophe, the text is otherwise kept.
    names = {r[NAME] for r in rows[1:]}
    for hostile in HOSTILE:
        assert "'" + hostile in names, (hostile, names)
    assert not any(n.startswith(tuple("=+-@\t\r")) for r in rows for n in r)


def test_csv_order_and_rows_match_the_page(client, login, admin, world):
    login(admin)
    _s, _h, data, _st = download(client, "/reports/records.csv?klass=XK-2026-01&status=completed")
    rows = csv_rows(data)
    assert [r[LOGIN] for r in rows[1:]] == ["hv-nhung"]
    _s, _h, data, _st = download(client, "/reports/records.csv?klass=XK-2026-01")
    logins = [r[LOGIN] for r in csv_rows(data)[1:]]
    everyone = [*world["a"], *world["b"]]
    assert logins == [p.login for p in everyone]  # enrolment order


def test_bad_filters_give_400_not_a_file(client, login, admin):
    login(admin)
    for fmt in ("csv", "xlsx"):
        status, headers, data, _s = download(client, f"/reports/records.{fmt}?from=32/13/2026")
        assert status == 400
        assert headers["Content-Type"].startswith("text/html")
        assert "Ngày không hợp lệ" in data.decode()


def test_exports_stream_and_never_fetch_everything(client, login, admin, world, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("an export must stream its rows, never fetch them all")

    login(admin)  # signing in writes (INSERT … RETURNING reads its rows with all())
    monkeypatch.setattr(Result, "fetchall", refuse)
    monkeypatch.setattr(Result, "all", refuse)
    for fmt in ("csv", "xlsx"):
        status, _h, data, streamed = download(client, f"/reports/records.{fmt}?klass=XK-2026-01")
        assert status == 200
        assert streamed
        assert len(data) > 100


def test_csv_writer_types_and_chunks():
    columns = [exports.Column(h) for h in ("text", "date", "when", "int", "decimal", "none")]
    when = datetime(2026, 1, 5, 8, 30)  # noqa: DTZ001 (local time, as the writer takes it)
    rows = [
        ("\0=1+1", date(2026, 1, 5), when, 3, Decimal("8.50"), None)
        for _ in range(exports.CSV_ROWS_PER_CHUNK + 1)
    ]
    chunks = list(exports.csv_chunks(columns, iter(rows)))
    assert len(chunks) == 3  # header, a full chunk, the rest
    parsed = csv_rows(b"".join(chunks))
    assert parsed[1] == ["'=1+1", "05/01/2026", "05/01/2026 08:30", "3", "8.50", ""]
    assert exports.neutralise("Nguyễn") == "Nguyễn"
    assert exports.neutralise("\r=x") == "'\r=x"
    assert exports.neutralise("a-b") == "a-b"
    assert exports.neutralise('he said "=1"') == 'he said "=1"'


# -- XLSX ------------------------------------------------------------------------------------


def test_xlsx(client, login, admin, world):
    login(admin)
    status, headers, data, streamed = download(client, "/reports/records.xlsx?klass=XK-2026-01")
    assert status == 200
    assert streamed
    assert headers["Content-Type"] == exports.XLSX_MIMETYPE
    assert headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(data))
    try:
        sheet = book.worksheets[0]
        assert sheet.title == "Hồ sơ hoàn thành"
        rows = list(sheet.iter_rows())
        assert [c.value for c in rows[0]] == HEADER
        assert len(rows) == 1 + len(world["a"]) + len(world["b"])
        by_login = {r[LOGIN].value: r for r in rows[1:]}
        nhung = by_login["hv-nhung"]
        assert nhung[NAME].value == "Nguyễn Thị Hồng Nhung"
        assert nhung[BIRTH].is_date
        assert nhung[BIRTH].value.date() == date(1990, 7, 15)
        assert nhung[BIRTH].number_format == "DD/MM/YYYY"
        assert nhung[ENDS_ON].is_date
        assert nhung[ENDS_ON].value.date() == date(2026, 1, 9)
        assert nhung[COMPLETED_ON].is_date
        assert nhung[SCORE].data_type == "n"
        assert nhung[SCORE].value == pytest.approx(9.5)
        assert nhung[SHARE].value == pytest.approx(87.5)
        assert nhung[STATUS].value == "Hoàn thành"
        assert nhung[CERT].value == world["cert"].number_label
        assert by_login["hv-duc"][COMPLETED_ON].value is None
        assert by_login["hv-duc"][SCORE].value is None
        names = {r[NAME].value for r in rows[1:]}
        for hostile in HOSTILE:
            assert "'" + hostile in names, hostile
        assert all(c.data_type != "f" for r in rows for c in r)  # no formula anywhere
    finally:
        book.close()


def test_xlsx_writer_strips_illegal_characters(tmp_path):
    columns = [exports.Column("A"), exports.Column("B", number_format="0.00")]
    out = tmp_path / "x.xlsx"
    exports.xlsx_file(columns, [("a\x01b\x0bc", 1.5), ("=x", None)], "Sổ: a/b [1]", str(out))
    book = load_workbook(out)
    try:
        sheet = book.worksheets[0]
        assert sheet.title == "Sổ  a b  1"
        assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
            ["abc", 1.5],
            ["'=x", None],
        ]
        assert sheet["B2"].number_format == "0.00"
    finally:
        book.close()


def test_xlsx_rows_continue_on_a_further_sheet_when_one_is_full(tmp_path):
    """Excel opens 1,048,576 rows a sheet: a national export goes on, header again, on the next
    sheet (shown here with sheets of two rows)."""
    assert exports.SHEET_ROWS + 1 == 2**20
    columns = [exports.Column("Họ và tên"), exports.Column("Điểm", number_format="0.0")]
    rows = [(f"Người {i}", i / 2) for i in range(5)]
    title = "Hồ sơ hoàn thành của toàn tỉnh Cà Mau"  # longer than Excel's 31 characters
    out = tmp_path / "x.xlsx"
    exports.xlsx_file(columns, iter(rows), title, str(out), sheet_rows=2)
    book = load_workbook(out)
    try:
        assert [s.title for s in book.worksheets] == [
            "Hồ sơ hoàn thành của toàn tỉnh",
            "Hồ sơ hoàn thành của toàn (2)",
            "Hồ sơ hoàn thành của toàn (3)",
        ]
        values = [[[c.value for c in r] for r in s.iter_rows()] for s in book.worksheets]
        assert [v[0] for v in values] == [["Họ và tên", "Điểm"]] * 3
        assert [r for v in values for r in v[1:]] == [list(r) for r in rows]
        assert [len(v) - 1 for v in values] == [2, 2, 1]
        assert all(s.freeze_panes == "A2" for s in book.worksheets)
    finally:
        book.close()


# -- a real client ---------------------------------------------------------------------------


def test_libreoffice_reads_the_xlsx(client, login, admin, world, tmp_path):
    require(shutil.which("soffice") is not None, "LibreOffice (soffice) is not installed")
    login(admin)
    _status, _headers, data, _streamed = download(client, "/reports/records.xlsx?klass=XK-2026-01")
    source = tmp_path / "records.xlsx"
    source.write_bytes(data)
    outdir = tmp_path / "out"
    home = tmp_path / "home"
    home.mkdir()
    profile = (tmp_path / "lo-profile").as_uri()
    result = subprocess.run(
        [
            shutil.which("soffice"),
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(outdir),
            str(source),
        ],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = outdir / "records.csv"
    assert converted.exists(), result.stdout + result.stderr
    text = converted.read_bytes().decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [r for r in rows if any(r)]
    assert rows[0] == HEADER
    assert len(rows) == 1 + len(world["a"]) + len(world["b"])
    by_login = {r[LOGIN]: r for r in rows[1:]}
    nhung = by_login["hv-nhung"]
    assert nhung[NAME] == "Nguyễn Thị Hồng Nhung"
    assert nhung[BIRTH] == "15/07/1990"  # a date, shown in its DD/MM/YYYY format
    assert nhung[ENDS_ON] == "09/01/2026"
    assert nhung[STATUS] == "Hoàn thành"
    assert nhung[CERT] == world["cert"].number_label
    assert by_login["hv-quan"][NAME] == "Trần Hồng Quân"
    names = {r[NAME] for r in rows[1:]}
    for hostile in HOSTILE:
        assert "'" + hostile in names, (hostile, names)
