"""Spreadsheet writers shared by the reports: CSV and XLSX in constant memory, formula-safe.

The API is small on purpose; any report can use it:

- ``Column(header, width=None, number_format=None)`` describes one column.
- ``csv_chunks(columns, rows)`` yields the bytes of a CSV file: UTF-8 with a BOM (so Excel shows
  Vietnamese correctly), RFC 4180 quoting and CRLF line ends, a few hundred rows per chunk.
- ``xlsx_file(columns, rows, sheet_title, out=None)`` writes an XLSX with openpyxl's write-only
  workbook (rows go to disk as they come) into *out*, or into an unnamed temporary file that it
  returns rewound (the caller closes it, which deletes it). Past Excel's 1,048,576 rows a sheet,
  rows continue on a further sheet with the header again.
- ``csv_response`` / ``xlsx_response`` wrap these as streamed Flask downloads.
- ``neutralise(text)`` (learnhub.xlsx, the one formula guard) is applied to every text cell.
- ``query_csv_chunks(columns, select)`` is the fast CSV writer for a SELECT whose columns are
  already the cells' text (formatted in SQL with ``sql_text``, ``sql_date``, ``sql_fixed``):
  on PostgreSQL the server writes the rows (``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``,
  streamed through psycopg's ``cursor.copy()``); on SQLite the SELECT writes each whole line
  (``sql_text`` also quotes there, ``sql_cells`` joins the columns) and Python only joins the
  lines, so a column may also hold several cells written once (e.g. a class's, from a
  materialised CTE). The bytes are the ones ``csv_chunks`` writes for the same values
  (tests/reports/test_fast_csv.py compares them byte for byte on both backends).

*rows* is any iterable of sequences (e.g. a streamed SQLAlchemy result mapped by a generator); it
is consumed once and never held in memory. Cell values by type:

==================  ======================================  ==================================
value               CSV                                     XLSX
==================  ======================================  ==================================
None                empty                                   empty cell
str                 neutralised text                        neutralised text (no XML-illegal
                                                            control characters)
int/float/Decimal   the number: decimal point, never in     a number (column's number_format)
                    scientific notation (``2E+1``)
datetime            dd/mm/yyyy HH:MM (as given: convert     a date-time, "DD/MM/YYYY HH:MM"
                    UTC values to local time first)
date                dd/mm/yyyy                              a date, "DD/MM/YYYY"
==================  ======================================  ==================================

Numbers stay typed in both formats (a CSV is read by programs and spreadsheets, which want the
decimal point): pages and PDFs show them through learnhub.i18n's formatter ("8,57"), exports as
the numbers they are ("8.57"), the API as plain JSON numbers.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from flask import Response, stream_with_context
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    null,
    or_,
)
from sqlalchemy import literal_column as sql_literal

from learnhub import db, xlsx
from learnhub.xlsx import FORMULA_START, neutralise

#: Rows written to the CSV buffer before a chunk is yielded.
CSV_ROWS_PER_CHUNK = 500
#: Bytes per chunk when streaming a finished file back.
FILE_CHUNK = 64 * 1024

CSV_MIMETYPE = "text/csv"  # Flask adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    #: XLSX column width in characters (None: the spreadsheet's default).
    width: float | None = None
    #: XLSX number format for this column's numbers and dates (None: by type, see the module doc).
    number_format: str | None = None


def _csv_date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _csv_datetime(value: datetime) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d} {value.hour:02d}:{value.minute:02d}"


#: How each type is written to a CSV cell (looked up by exact type: this runs for every cell).
_CSV_BY_TYPE = {
    str: neutralise,
    type(None): lambda _value: "",
    date: _csv_date,
    datetime: _csv_datetime,
    int: str,
    float: repr,
    Decimal: lambda value: f"{value:f}",  # never scientific notation (2E+1)
    bool: lambda value: "1" if value else "0",
}


def _csv_value(value: object) -> str:
    """A cell of any other type (subclasses of the above, or anything else)."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        return _csv_datetime(value)
    if isinstance(value, date):
        return _csv_date(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


def _csv_header(columns: Sequence[Column]) -> bytes:
    """The BOM and the header row."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(c.header) for c in columns])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """The CSV file as a series of byte chunks: the BOM and header first, then the rows."""
    yield _csv_header(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: comma, double quotes, CRLF (RFC 4180)
    pending = 0
    by_type, fallback = _CSV_BY_TYPE, _csv_value
    for row in rows:
        writer.writerow([by_type.get(v.__class__, fallback)(v) for v in row])
        pending += 1
        if pending >= CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


# -- the fast path: cells formatted in SQL, rows written by the database -------------------------

#: Lines fetched a batch on SQLite, joined into one chunk (5,000 would add ~12 MiB of peak
#: memory to `flask reports export` for no measurable gain).
SQL_BATCH = 2000
#: COPY rows gathered before a chunk is yielded (psycopg hands them over one row at a time).
COPY_ROWS_PER_CHUNK = 2000
#: PostgreSQL settings while the COPY runs (SET LOCAL, restored after it): dates' text is
#: dd/mm/yyyy (sql_date casts them), and no JIT compilation, which costs each process of a
#: parallel plan a second or more for these expressions and saves less than it costs here.
COPY_SETTINGS = {"DateStyle": "SQL, DMY", "jit": "off"}
#: The characters neutralise() guards against that a database text can hold (PostgreSQL text
#: cannot hold NUL; the app's text cleaning removes it before it is stored on SQLite).
_SQL_FORMULA_START = [ch for ch in FORMULA_START if ch != "\0"]
#: Their code points, as PostgreSQL's ascii() gives a text's first character.
_SQL_FORMULA_CODES = [ord(ch) for ch in _SQL_FORMULA_START]
#: The characters that make csv.writer (excel dialect, QUOTE_MINIMAL) quote a cell.
_CSV_QUOTED = (",", '"', "\n", "\r")


def sql_text(value: ColumnElement) -> ColumnElement[str]:
    """neutralise() in SQL: text a spreadsheet would read as a formula gets a leading
    apostrophe. On PostgreSQL empty text becomes NULL, which COPY leaves empty (it would write
    an empty string as ""), and COPY quotes the cell. On SQLite, where the SQL writes the whole
    line (sql_cells), the cell is also quoted as csv.writer quotes it (QUOTE_MINIMAL: a cell
    holding a comma, a double quote, CR or LF is enclosed in double quotes, its quotes
    doubled) and NULL is the empty cell."""
    if _dialect() != "sqlite":
        # ascii() is the code of the first character (0 for empty text): one integer test
        # where substr() would cut a text and compare it with each character.
        return case(
            (func.ascii(value).in_(_SQL_FORMULA_CODES), literal("'", String) + value),
            (value != literal("", String), value),
            else_=null(),
        )
    starts_formula = func.substr(value, 1, 1).in_(_SQL_FORMULA_START)
    # The guard's apostrophe never needs quoting, so the test reads the stored text, and every
    # reference is to the column itself (SQLite has no common subexpressions).
    guard = case((starts_formula, literal("'", String)), else_=literal("", String))
    needs_quotes = or_(*(func.instr(value, literal(ch, String)) > 0 for ch in _CSV_QUOTED))
    quoted = literal('"', String) + guard + func.replace(value, '"', '""') + literal('"', String)
    return case((needs_quotes, quoted), else_=func.coalesce(guard + value, literal("", String)))


def sql_text_constant(value: str) -> ColumnElement[str]:
    """A text known when the query is built (e.g. a status's label) as sql_text would write
    it, worked out once in Python instead of for every row."""
    text = neutralise(value)
    if _dialect() == "sqlite":
        if any(ch in text for ch in _CSV_QUOTED):
            text = '"' + text.replace('"', '""') + '"'
    elif not text:
        return null()
    return literal(text, String)


def sql_cells(*cells: ColumnElement) -> ColumnElement[str]:
    """On SQLite, the cells (sql_text, sql_date, … or other sql_cells) written as one piece
    of a CSV line: NULL as the empty cell, a comma between cells. query_csv_chunks joins a
    statement's columns with it, so a column may also be several cells computed once (e.g. a
    class's cells from a materialised CTE)."""
    line: ColumnElement[str] | None = None
    for cell in cells:
        text = func.coalesce(cell, literal("", String), type_=String)
        line = text if line is None else line + literal(",", String) + text
    if line is None:
        raise ValueError("sql_cells needs at least one cell")
    return line


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def sql_date(value: ColumnElement, hours: int = 0) -> ColumnElement[str]:
    """A date (or a date-time shifted by *hours*, then its day) as dd/mm/yyyy, like
    csv_chunks writes a date; NULL stays NULL. On PostgreSQL only inside query_csv_chunks'
    COPY, which sets the DateStyle this relies on (COPY_SETTINGS)."""
    if _dialect() == "sqlite":
        # SQLite keeps dates as 'yyyy-mm-dd' text: cutting is cheaper than parsing.
        day, month, year = (
            func.substr(value, i, n, type_=String) for i, n in ((9, 2), (6, 2), (1, 4))
        )
        cut = day + "/" + month + "/" + year
        if not hours:
            return cut
        # SQLite's date arithmetic rounds to milliseconds (23:59:59.9999 would become the
        # next day): the whole seconds, 'yyyy-mm-dd hh:mm:ss', are shifted instead.
        seconds = func.substr(value, 1, 19)
        shifted = func.strftime("%d/%m/%Y", seconds, f"{hours:+d} hours", type_=String)
        if not 0 < hours < 24:
            return shifted
        # A time before 24 - hours o'clock stays on its day: cut it, parse only the others.
        same_day = func.substr(value, 12, 2) < literal(f"{24 - hours:02d}", String)
        return case((same_day, cut), else_=shifted)
    # PostgreSQL: the date's text under COPY_SETTINGS' DateStyle (SQL, DMY), dd/mm/yyyy; a
    # cast costs half of to_char(value, 'DD/MM/YYYY'), which reads its pattern for every row.
    if hours:
        value = value + sql_literal(f"interval '{int(hours)} hours'")
    return cast(cast(value, Date), Text)


def sql_fixed_units(units: ColumnElement, places: int) -> ColumnElement[str]:
    """A non-negative whole number of 10**-places as "i.ff" (places >= 1)."""
    scale = 10**places
    if _dialect() == "sqlite":
        # The float nearest units / 10**places, printed with as many places: exact (the value
        # is no tie, so printf's own rounding cannot differ from Python's), and *units* is
        # read once (SQLite evaluates each reference again).
        return func.printf(f"%.{places}f", units / sql_literal(f"{scale}.0"), type_=String)
    whole, part = units // scale, units % scale
    return cast(whole, Text) + "." + func.lpad(cast(part, Text), places, "0")


def sql_fixed(value: ColumnElement, places: int) -> ColumnElement[str]:
    """A non-negative NUMERIC(p, *places*) as the Decimal SQLAlchemy reads and csv_chunks
    writes: all its places, decimal point, never scientific ("8.50"). SQLite holds it as a
    float: the float rounded to whole hundredths (for places=2) in integers, never by SQLite's
    printf("%.2f"), whose rounding differs from Python's."""
    if _dialect() == "sqlite":
        units = cast(func.round(value * 10**places), Integer)
        return case((value.is_(None), None), else_=sql_fixed_units(units, places))
    return cast(value, Text)


def sql_half_even(units: ColumnElement, drop: int) -> ColumnElement[int]:
    """A whole number *units* (non-negative) divided by 10**drop, rounded half to even (as
    Decimal.quantize does by default)."""
    step = 10**drop
    # Add just under half a step, plus one when the quotient is odd: a rest of exactly half
    # a step then carries for odd quotients only. *units* is read twice, not six times.
    return (units + (step // 2 - 1) + (units // step) % 2) // step


def _raw_connection():
    """The DBAPI connection under the session's (after a flush: the export reads what the
    request wrote, in its transaction)."""
    db.session.flush()
    return db.session.connection().connection.driver_connection


def _copy_sql(stmt: Select) -> str:
    """*stmt* as the text of a COPY … TO STDOUT in CSV. The values are inlined by SQLAlchemy's
    literal rendering for this server (quotes doubled; backslashes too when the server does
    not use standard strings), since COPY takes no parameters. The psycopg dialect doubles
    every % of the text for its %s placeholders; there are none here, so they are undone."""
    dialect = db.session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return f"COPY ({sql.replace('%%', '%')}) TO STDOUT WITH (FORMAT csv)"


def _copy_chunks(stmt: Select, written: list[int]) -> Iterator[bytes]:
    cursor = _raw_connection().cursor()
    try:
        names = list(COPY_SETTINGS)
        cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in names), names)
        before = cursor.fetchone()
        _set_local(cursor, COPY_SETTINGS)
        with cursor.copy(_copy_sql(stmt)) as copy:
            batch: list[bytes] = []
            for row in copy:
                # One row a read, ending in "\n"; csv_chunks ends rows with "\r\n". A newline
                # inside a quoted cell stays as it is, as in csv_chunks.
                batch.append(bytes(row)[:-1])
                if len(batch) >= COPY_ROWS_PER_CHUNK:
                    written[0] += len(batch)
                    yield b"\r\n".join(batch) + b"\r\n"
                    batch = []
            if batch:
                written[0] += len(batch)
                yield b"\r\n".join(batch) + b"\r\n"
        # The rest of the transaction (a request's) reads dates as before.
        _set_local(cursor, dict(zip(names, before, strict=True)))
    finally:
        cursor.close()


def _set_local(cursor, settings: dict[str, str]) -> None:
    """Set *settings* for the rest of the transaction (SET LOCAL)."""
    cursor.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
        [v for item in settings.items() for v in item],
    )


def _sqlite_chunks(stmt: Select, written: list[int]) -> Iterator[bytes]:
    # SQLite writes each whole line (sql_cells over the statement's columns): Python only
    # joins them. The lines come as SQLite's own UTF-8 bytes (text_factory), never decoded to
    # str and encoded back: a fifth of the export's time once the query is written.
    lines = stmt.with_only_columns(sql_cells(*stmt.selected_columns))
    connection = db.session.connection()
    dbapi = connection.connection.driver_connection
    dbapi.text_factory = bytes
    try:
        result = connection.execute(lines)
        cursor = result.cursor  # the DBAPI cursor: one-item tuples, no Row objects
        try:
            while rows := cursor.fetchmany(SQL_BATCH):
                written[0] += len(rows)
                yield b"\r\n".join([line for (line,) in rows]) + b"\r\n"
        finally:
            result.close()
    finally:
        dbapi.text_factory = str


def query_csv_chunks(
    columns: Sequence[Column], stmt: Select, written: list[int] | None = None
) -> Iterator[bytes]:
    """The CSV file of *stmt*, whose columns are the cells' text (or NULL) in the order of
    *columns*: the BOM and header from Python, then the rows written by PostgreSQL's COPY or,
    on SQLite, by the SELECT itself, one text a line (a column there may hold several cells,
    see sql_cells). *written*, when given, is a one-item list that counts the rows written."""
    written = written if written is not None else [0]
    yield _csv_header(columns)
    if _dialect() == "postgresql":
        yield from _copy_chunks(stmt, written)
    else:
        yield from _sqlite_chunks(stmt, written)


#: Excel opens at most 1,048,576 rows a sheet: the header and 1,048,575 rows.
SHEET_ROWS = 1_048_575


def _continued_title(title: str, number: int) -> str:
    # "Hồ sơ hoàn thành (2)": the suffix survives Excel's 31-character limit on titles.
    suffix = f" ({number})" if number > 1 else ""
    title, room = xlsx.sheet_title(title), 31 - len(suffix)
    if len(title) > room:
        cut = title[:room]
        # Cut between words when the limit falls inside one.
        title = cut.rsplit(" ", 1)[0] if title[room] != " " and " " in cut else cut
    return title.rstrip() + suffix


def xlsx_file(
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    sheet_title: str,
    out: IO[bytes] | str | None = None,
    sheet_rows: int = SHEET_ROWS,
) -> IO[bytes] | None:
    """Write the XLSX (a bold header row, then *rows*) to *out* (a path or a binary file).
    Without *out*, write to an unnamed temporary file and return it rewound: closing it deletes
    it. Rows beyond what Excel opens in one sheet (*sheet_rows*) continue on a further sheet,
    "title (2)", with the header again, so a national export opens whole."""

    def write(target: IO[bytes] | str) -> None:
        xlsx.write_table(
            [c.header for c in columns],
            [c.width for c in columns],
            [c.number_format for c in columns],
            rows,
            lambda number: _continued_title(sheet_title, number),
            target,
            sheet_rows,
        )

    if out is not None:
        write(out)
        return None
    target = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        write(target)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return target


def _headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }


def csv_response(chunks: Iterator[bytes], filename: str) -> Response:
    """A streamed CSV download of *chunks* (csv_chunks); *filename* is plain ASCII. The request
    context (and the database session) stays open until the last chunk is sent."""
    return Response(stream_with_context(chunks), mimetype=CSV_MIMETYPE, headers=_headers(filename))


def _file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(FILE_CHUNK):
            yield chunk
    finally:
        file.close()


def xlsx_response(file: IO[bytes], filename: str) -> Response:
    """A streamed download of a finished XLSX *file* (xlsx_file's temporary file), closed (and so
    deleted) when sent or when the client goes away."""
    response = Response(_file_chunks(file), mimetype=XLSX_MIMETYPE, headers=_headers(filename))
    response.call_on_close(file.close)
    return response
