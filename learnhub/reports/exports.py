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

from learnhub import xlsx
from learnhub.xlsx import neutralise

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


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """The CSV file as a series of byte chunks: the BOM and header first, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: comma, double quotes, CRLF (RFC 4180)
    writer.writerow([neutralise(c.header) for c in columns])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
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
