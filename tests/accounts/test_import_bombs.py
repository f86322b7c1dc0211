"""Finding 3 of issue 13: uploaded XLSX files that would exhaust the server are refused fast.

Every bomb is built here with zipfile (no committed binaries) and is refused in under 5 s with
under 100 MiB of memory growth, with a Vietnamese message naming the problem: by the reader
itself (in a subprocess, its peak RSS measured), and through the admin roster import, a
trainer's class enrolment file and `flask users import` (Python allocations, by tracemalloc).
"""

import io
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select

from learnhub import tables
from learnhub.accounts import roster
from learnhub.accounts.models import User
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.timeutil import today
from tests.support import csrf_token, multipart

MIB = 1024 * 1024
SHARED = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
HEADER = ["Họ và tên", "Ngày sinh", "Tên đăng nhập/Email", "Đơn vị", "Vai trò"]
LOL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n'
    + b"".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n'.encode() for i in range(1, 10))
    + b"]>\n"
)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _roster_parts() -> dict[str, bytes]:
    """A minimal roster XLSX as Excel writes it: its text in the shared strings."""
    strings = [*HEADER, "Trần Văn Bom", "01/01/1990", "tvbom", "CM-SNV", "Học viên"]
    cells = [
        "".join(
            f'<c r="{col}{row}" t="s"><v>{(row - 1) * 5 + i}</v></c>'
            for i, col in enumerate("ABCDE")
        )
        for row in (1, 2)
    ]
    rows = "".join(f'<row r="{n}">{c}</row>' for n, c in enumerate(cells, start=1))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/{SHEET}" ContentType="{TYPE}.worksheet+xml"/>'
            f'<Override PartName="/{SHARED}" ContentType="{TYPE}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            '<sheet name="Danh sách" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        SHEET: (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}">'
            f'<dimension ref="A1:E2"/><sheetData>{rows}</sheetData></worksheet>'
        ),
        SHARED: (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}" count="10" '
            f'uniqueCount="10">{"".join(f"<si><t>{t}</t></si>" for t in strings)}</sst>'
        ),
    }
    return {name: text.encode() for name, text in parts.items()}


def _roster_xlsx() -> bytes:
    return _replace(SHEET, lambda stream, original: stream.write(original))


def _replace(part: str, write) -> bytes:
    """A roster XLSX with one part replaced by what write(stream, original) writes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name, content in _roster_parts().items():
            if name == part:
                with target.open(part, "w", force_zip64=True) as stream:
                    write(stream, content)
            else:
                target.writestr(name, content)
    return out.getvalue()


def shared_strings_bomb() -> bytes:
    """~240 MB of shared strings (under the former 300 MB cap) in ~0.5 MB, as in the finding."""

    def write(stream, original):
        stream.write(original.removesuffix(b"</sst>"))
        chunk = (b"<si><t>" + b"A" * 1000 + b"</t></si>") * 1000
        for _ in range(240):
            stream.write(chunk)
        stream.write(b"</sst>")

    return _replace(SHARED, write)


def billion_laughs() -> bytes:
    """Shared strings whose DTD expands one entity into 10^9 'lol's."""

    def write(stream, original):
        body = original.split(b"?>", 1)[1].replace("<t>Trần Văn Bom</t>".encode(), b"<t>&lol9;</t>")
        stream.write(LOL + body.lstrip())

    return _replace(SHARED, write)


def huge_member() -> bytes:
    """A worksheet with one 250 MB cell."""

    def write(stream, original):
        head, tail = original.split(b"</sheetData>")
        stream.write(head + b'<row r="3"><c r="A3" t="inlineStr"><is><t>')
        block = b"A" * MIB
        for _ in range(250):
            stream.write(block)
        stream.write(b"</t></is></c></row></sheetData>" + tail)

    return _replace(SHEET, write)


BOMBS = {
    "shared_strings": (shared_strings_bomb, "xl/sharedStrings.xml giải nén ra"),
    "billion_laughs": (billion_laughs, "DTD/thực thể XML"),
    "huge_member": (huge_member, "xl/worksheets/sheet1.xml giải nén ra"),
}


@pytest.fixture(scope="module")
def bomb_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    paths = {}
    for name, (build, _) in BOMBS.items():
        paths[name] = folder / f"{name}.xlsx"
        paths[name].write_bytes(build())
    return paths


def measured(action):
    """Run action(); return (its result, seconds, peak Python allocation growth in bytes)."""
    tracemalloc.start()
    try:
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak


def assert_cheap(seconds: float, peak: int) -> None:
    assert seconds < 5, f"took {seconds:.1f} s"
    assert peak < 100 * MIB, f"grew by {peak / MIB:.0f} MiB"


READER = textwrap.dedent(
    """
    import json, resource, sys, time
    from learnhub import create_app
    from learnhub.accounts import roster

    app = create_app({"TESTING": True, "ENV": "testing", "SECRET_KEY": "x",
                      "DATABASE_URL": "sqlite://"})
    data = open(sys.argv[1], "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with app.app_context():
        try:
            rows = sum(1 for _ in roster.read_table(data, "bom.xlsx"))
            message = f"read {rows} rows"
        except roster.RosterError as exc:
            message = str(exc)
    seconds = time.perf_counter() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"seconds": seconds, "growth_kib": growth, "message": message}))
    """
)


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_finding_3_xlsx_bomb_refused_by_the_reader_fast_and_small(bomb, bomb_files):
    """Peak resident memory of a fresh process (C allocations too: expat, zlib, lxml)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", READER, str(bomb_files[bomb])],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{bomb}: still reading after 60 s")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert BOMBS[bomb][1] in result["message"], result
    assert result["seconds"] < 5, result
    assert result["growth_kib"] < 100 * 1024, result


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_finding_3_xlsx_bomb_refused_on_the_admin_roster_import(
    bomb, bomb_files, client, login, admin, db_session
):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    body, ctype = multipart(
        {"csrf_token": token}, {"file": (bomb_files[bomb].read_bytes(), "danh-sach.xlsx")}
    )
    before = db_session.scalar(select(func.count()).select_from(User))
    page, seconds, peak = measured(
        lambda: client.post("/admin/users/import/", data=body, content_type=ctype)
    )
    assert page.status_code == 400
    assert BOMBS[bomb][1] in page.get_data(as_text=True)
    assert_cheap(seconds, peak)
    assert db_session.scalar(select(func.count()).select_from(User)) == before


@pytest.fixture
def managed_class(trainer):
    return classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(code="BOM-1", title="Lớp thử tệp", starts_on=today(), ends_on=today()),
        [trainer],
    )


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_finding_3_xlsx_bomb_refused_on_a_class_enrolment_file(
    bomb, bomb_files, client, login, trainer, managed_class
):
    login(trainer)
    url = f"/manage/classes/{managed_class.id}"
    token = csrf_token(client, url)
    body, ctype = multipart(
        {"csrf_token": token}, {"file": (bomb_files[bomb].read_bytes(), "lop.xlsx")}
    )
    response, seconds, peak = measured(
        lambda: client.post(f"{url}/enrol-file", data=body, content_type=ctype)
    )
    assert response.status_code == 302
    assert_cheap(seconds, peak)
    assert BOMBS[bomb][1] in client.get(url).get_data(as_text=True)
    assert classes.roster(managed_class) == []


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_finding_3_xlsx_bomb_refused_by_flask_users_import(bomb, bomb_files, runner, db_session):
    before = db_session.scalar(select(func.count()).select_from(User))
    result, seconds, peak = measured(
        lambda: runner.invoke(args=["users", "import", str(bomb_files[bomb])])
    )
    assert result.exit_code == 1, result.output
    assert BOMBS[bomb][1] in result.output
    assert_cheap(seconds, peak)
    assert db_session.scalar(select(func.count()).select_from(User)) == before


# -- the reader's other limits ------------------------------------------------------------------


def _rows(data: bytes, filename: str = "x.xlsx") -> list:
    return list(tables.read_table(data, filename))


def test_a_part_compressed_far_beyond_normal_is_refused(app):
    data = _replace(SHEET, lambda stream, original: stream.write(original + b" " * (5 * MIB)))
    with pytest.raises(tables.TableError, match="nén quá mức bình thường"):
        _rows(data)


def test_limits_are_configurable(app, monkeypatch):
    data = _roster_xlsx()
    assert _rows(data)[1][2] == "tvbom"
    monkeypatch.setitem(app.config, "IMPORT_MAX_PART_BYTES", 100)
    with pytest.raises(tables.TableError, match="vượt giới hạn"):
        _rows(data)
    monkeypatch.setitem(app.config, "IMPORT_MAX_PART_BYTES", 30 * MIB)
    monkeypatch.setitem(app.config, "IMPORT_MAX_XLSX_BYTES", 1000)
    with pytest.raises(tables.TableError, match="vượt giới hạn"):
        _rows(data)


def test_rows_columns_and_cells_are_bounded(app, monkeypatch):
    # A row far down (Excel's last) makes openpyxl yield every empty row before it.
    def far_row(stream, original):
        head, tail = original.split(b"</sheetData>")
        head = head.replace(b'ref="A1:E2"', b'ref="A1:XFD1048576"')
        stream.write(head + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
        stream.write(b"</sheetData>" + tail)

    started = time.perf_counter()
    with pytest.raises(tables.TableError, match="dòng"):
        _rows(_replace(SHEET, far_row))
    assert time.perf_counter() - started < 5
    assert len(_rows(("a," * 500 + "\n").encode(), "x.csv")[0]) == 64
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELL_CHARS", 5)
    with pytest.raises(tables.TableError, match="Dòng 1, cột 1: ô dài hơn 5 ký tự"):
        _rows(_roster_xlsx())


def test_a_broken_xlsx_is_a_clear_message_never_a_crash(app):
    good = _roster_xlsx()
    broken = [
        good[: len(good) // 2],  # truncated: no zip directory
        _replace(SHEET, lambda s, o: s.write(o[: len(o) // 2])),  # unterminated XML
        _replace("xl/workbook.xml", lambda s, o: s.write(b"\x00\x01 not xml")),
        _replace("[Content_Types].xml", lambda s, o: s.write(b"<Types/>")),
    ]
    for data in broken:
        with pytest.raises(tables.TableError, match="XLSX"):
            _rows(data)


def test_an_external_entity_is_refused(app):
    def write(stream, original):
        body = original.split(b"?>", 1)[1].replace("<t>Trần Văn Bom</t>".encode(), b"<t>&x;</t>")
        stream.write(b'<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body)

    with pytest.raises(roster.RosterError, match="DTD"):
        roster.plan_import(_replace(SHARED, write), "x.xlsx")
