"""Uploaded tables (CSV or XLSX) read without letting a file exhaust the server.

The one home for parsing an uploaded spreadsheet: the roster import, class enrolment from a file
and `flask users import` all read through ``read_table``. An XLSX is a zip of XML parts, so before
openpyxl parses anything:

- the zip directory is checked: number of parts, each part's uncompressed size
  (``IMPORT_MAX_PART_BYTES``), their total (``IMPORT_MAX_XLSX_BYTES``) and the compression ratio
  of every part over 1 MiB (``IMPORT_MAX_RATIO``). Python's zipfile never inflates a part past the
  size its directory declares (it stops there and fails the CRC), so a lying directory gains
  nothing;
- the prolog of every XML part is read with expat and any DTD is refused: no entity is ever
  declared, so no entity expansion ("billion laughs") and no external entity reaches a parser;
- the rows are bounded: ``IMPORT_MAX_ROWS`` rows (empty ones count), ``IMPORT_MAX_COLUMNS`` columns
  (cells further right are ignored), ``IMPORT_MAX_CELL_CHARS`` characters a cell, and a
  wall-clock limit on reading (``IMPORT_READ_SECONDS``).

The limits are set in learnhub/config.py. Every failure is a ``TableError`` whose (Vietnamese)
message names the problem; no parser exception escapes. Nothing here touches the database.
"""

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from xml.parsers import expat

from flask import current_app
from flask_babel import gettext as _

from learnhub import xlsx

MIB = 1024 * 1024
MAX_PARTS = 1_000
CHUNK = 64 * 1024
#: Compression methods an XLSX uses (others, e.g. LZMA, only cost time).
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class TableError(Exception):
    """The file cannot be read; the message says why and what to do."""


def limit(name: str) -> int:
    """One of the IMPORT_* limits (learnhub/config.py)."""
    return int(current_app.config[name])


def utf8_help() -> str:
    return _(
        "Tệp không được mã hóa UTF-8 (có thể là Windows-1258, TCVN3 hoặc VNI). Hãy lưu lại tệp "
        "dưới dạng UTF-8: trong Excel chọn Tệp > Lưu thành > kiểu 'CSV UTF-8 (Comma delimited) "
        "(*.csv)'; trong LibreOffice chọn Lưu thành > CSV, bộ ký tự 'Unicode (UTF-8)'; hoặc gửi "
        "tệp .xlsx."
    )


def _mib(size: int) -> str:
    return f"{size / MIB:.0f}"


# -- the zip directory --------------------------------------------------------------------------


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse, from the directory alone, a zip that would inflate past the limits."""
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise TableError(_("Tệp XLSX có quá nhiều phần (hơn %(n)s).", n=MAX_PARTS))
    part_cap, total_cap = limit("IMPORT_MAX_PART_BYTES"), limit("IMPORT_MAX_XLSX_BYTES")
    ratio_cap = limit("IMPORT_MAX_RATIO")
    total = 0
    for info in infos:
        name = info.filename[:80]
        if info.flag_bits & 0x1:
            raise TableError(_("Tệp XLSX được mã hóa bằng mật khẩu; hãy lưu lại không mật khẩu."))
        if info.compress_type not in METHODS:
            raise TableError(_("Tệp XLSX dùng kiểu nén không hỗ trợ (phần %(p)s).", p=name))
        if info.file_size > part_cap:
            raise TableError(
                _(
                    "Tệp XLSX bị từ chối: phần %(p)s giải nén ra %(s)s MB, vượt giới hạn "
                    "%(m)s MB mỗi phần (có thể là tệp 'bom giải nén').",
                    p=name,
                    s=_mib(info.file_size),
                    m=_mib(part_cap),
                )
            )
        if info.file_size > MIB and info.file_size > ratio_cap * max(info.compress_size, 1):
            raise TableError(
                _(
                    "Tệp XLSX bị từ chối: phần %(p)s nén quá mức bình thường (tỉ lệ %(r)s:1, "
                    "giới hạn %(m)s:1), dấu hiệu của tệp 'bom giải nén'.",
                    p=name,
                    r=info.file_size // max(info.compress_size, 1),
                    m=ratio_cap,
                )
            )
        total += info.file_size
    if total > total_cap:
        raise TableError(
            _(
                "Tệp XLSX bị từ chối: giải nén ra %(s)s MB, vượt giới hạn %(m)s MB.",
                s=_mib(total),
                m=_mib(total_cap),
            )
        )


# -- XML parts: no DTD, hence no entities -------------------------------------------------------


class _RootReached(Exception):
    """The prolog is over: no DTD can follow."""


class _DoctypeFound(Exception):
    pass


def _looks_like_xml(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith((b"<", b"\xff\xfe", b"\xfe\xff", b"\x00<"))


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Read a part's XML prolog with expat (no entity is ever expanded); refuse any DTD."""
    parser = expat.ParserCreate()

    def doctype(*args):
        raise _DoctypeFound

    def root(*args):
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = root
    name = info.filename[:80]
    with archive.open(info) as part:
        first = True
        while chunk := part.read(CHUNK):
            if first and not _looks_like_xml(chunk[:64]):
                return  # an image or other binary part: never parsed as XML
            first = False
            try:
                parser.Parse(chunk, False)
            except _RootReached:
                return
            except _DoctypeFound as exc:
                raise TableError(
                    _(
                        "Tệp XLSX bị từ chối: phần %(p)s khai báo DTD/thực thể XML (có thể là "
                        "tấn công 'billion laughs'); tệp Excel thật không có phần này.",
                        p=name,
                    )
                ) from exc
            except expat.ExpatError as exc:
                raise TableError(
                    _("Tệp XLSX hỏng: phần %(p)s không phải XML hợp lệ (%(e)s).", p=name, e=exc)
                ) from exc


# -- reading ------------------------------------------------------------------------------------


class _Bounds:
    """Row, cell and time limits shared by the CSV and XLSX readers."""

    def __init__(self) -> None:
        self.rows = limit("IMPORT_MAX_ROWS")
        self.columns = limit("IMPORT_MAX_COLUMNS")
        self.chars = limit("IMPORT_MAX_CELL_CHARS")
        self.seconds = limit("IMPORT_READ_SECONDS")
        self.deadline = time.monotonic() + self.seconds

    def row(self, number: int, values) -> list[object]:
        if number > self.rows:
            raise TableError(
                _("Tệp có hơn %(n)s dòng (kể cả dòng trống); hãy chia nhỏ.", n=self.rows)
            )
        if number % 1000 == 0 and time.monotonic() > self.deadline:
            raise TableError(
                _("Đọc tệp quá %(s)s giây; hãy chia nhỏ tệp rồi nhập từng phần.", s=self.seconds)
            )
        cells = ["" if v is None else v for v in values[: self.columns]]
        for column, value in enumerate(cells, start=1):
            if isinstance(value, str) and len(value) > self.chars:
                raise TableError(
                    _(
                        "Dòng %(r)s, cột %(c)s: ô dài hơn %(n)s ký tự; tệp bị từ chối.",
                        r=number,
                        c=column,
                        n=self.chars,
                    )
                )
        return cells


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(utf8_help())
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(utf8_help()) from exc


def _csv_rows(data: bytes) -> Iterator[list[object]]:
    text = _decode(data)
    bounds = _Bounds()
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, start=1):
            yield bounds.row(number, values)
    except csv.Error as exc:
        raise TableError(_("Không đọc được tệp CSV: %(e)s", e=exc)) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[object]]:
    unreadable = _("Không đọc được tệp XLSX. Hãy mở bằng Excel và lưu lại.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive)
            for info in archive.infolist():
                if not info.is_dir():
                    _check_prolog(archive, info)
        bounds = _Bounds()
        book = xlsx.load(data)
    except TableError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds on a broken file
        raise TableError(unreadable) from exc
    try:
        if not book.worksheets:
            raise TableError(unreadable)
        sheet = book.worksheets[0]
        width = min(sheet.max_column or bounds.columns, bounds.columns)
        rows = sheet.iter_rows(max_col=width, values_only=True)
        for number, values in enumerate(rows, start=1):
            yield bounds.row(number, values)
    except TableError:
        raise
    except Exception as exc:  # a broken worksheet part shows only while its rows are read
        raise TableError(unreadable) from exc
    finally:
        book.close()


def read_table(data: bytes, filename: str = "") -> Iterator[list[object]]:
    """Rows of the first sheet (XLSX) or of the CSV file, header included.

    A generator: every problem (size, format, encoding, limits) is raised as a TableError while
    iterating, from the first ``next()`` on.
    """
    if data.startswith(b"PK\x03\x04"):
        yield from _xlsx_rows(data)
        return
    if filename.lower().endswith((".xlsx", ".xls")):
        raise TableError(
            _("Tệp có đuôi Excel nhưng nội dung không phải XLSX. Hãy lưu lại dạng .xlsx.")
        )
    yield from _csv_rows(data)
