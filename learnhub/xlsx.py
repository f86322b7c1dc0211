"""XLSX: the one home of openpyxl in LearnHub, and of the one formula guard every spreadsheet
(XLSX and CSV) applies to its text cells.

- ``neutralise(text)``: text a spreadsheet would read as a formula (or DDE) gets a leading
  apostrophe; NUL characters go.
- ``cell_text(text)``: the same, with the control characters XML forbids removed (XLSX cells).
- ``write_table(...)``: a streamed table (a bold header row, then typed rows) in constant memory,
  continuing on a further sheet past a sheet's row limit (reports/exports.py).
- ``Book`` / ``Sheet``: a write-only workbook of small report sheets (title lines, a bold header,
  typed rows), for the periodic report, the class dossier and the certificate register.
- ``load(data)``: a read-only workbook of an uploaded file (learnhub.tables checks it first).
"""

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

#: A text cell starting with one of these is read as a formula (or DDE) by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralise(text: str) -> str:
    """*text* prefixed with an apostrophe when a spreadsheet would read it as a formula; NUL
    characters (which no spreadsheet or CSV reader accepts) are removed afterwards."""
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text.replace("\0", "") if "\0" in text else text


def cell_text(value: str) -> str:
    """Text safe for an XLSX cell: no characters XML forbids, never read as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


def sheet_title(title: str) -> str:
    """A valid sheet title: at most 31 characters, none of : \\ / ? * [ ]."""
    cleaned = "".join(" " if ch in ":\\/?*[]" else ch for ch in title).strip()
    return cleaned[:31] or "Sheet1"


def write_table(
    headers: Sequence[str],
    widths: Sequence[float | None],
    formats: Sequence[str | None],
    rows: Iterable[Sequence],
    titles: Callable[[int], str],
    out: IO[bytes] | str,
    sheet_rows: int,
) -> None:
    """Write a bold header, then *rows*, to *out*; past *sheet_rows* rows a further sheet
    (titled ``titles(number)``) starts with the header again. Text is a string whatever it looks
    like; dates and numbers stay typed (the column's format, else DD/MM/YYYY [HH:MM])."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def text_cell(sheet, value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=cell_text(value))
        cell.data_type = "s"  # a string, whatever it looks like
        return cell

    def new_sheet(number: int):
        sheet = book.create_sheet(titles(number))
        for index, width in enumerate(widths, start=1):
            if width is not None:
                sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for text in headers:
            cell = text_cell(sheet, text)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    def cell_for(sheet, value, number_format: str | None):
        if value is None:
            return None
        if isinstance(value, str):
            return text_cell(sheet, value)
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = number_format or "DD/MM/YYYY HH:MM"
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = number_format or "DD/MM/YYYY"
            return cell
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            cell = WriteOnlyCell(sheet, value=value)
            if number_format:
                cell.number_format = number_format
            return cell
        return text_cell(sheet, str(value))

    sheets, written = 1, 0
    sheet = new_sheet(sheets)
    for row in rows:
        if written == sheet_rows:
            sheets, written = sheets + 1, 0
            sheet = new_sheet(sheets)
        sheet.append([cell_for(sheet, v, f) for v, f in zip(row, formats, strict=True)])
        written += 1
    book.save(out)


class Book:
    """A write-only workbook of simple report sheets: title lines, a bold header, typed rows."""

    def __init__(self):
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)

    def sheet(self, title: str, columns: Sequence[tuple[str, float]]) -> "Sheet":
        return Sheet(self.book, title, columns)

    def save(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


class Sheet:
    """One sheet of a Book: its columns are (header, width) pairs."""

    def __init__(self, book, title: str, columns: Sequence[tuple[str, float]]):
        from openpyxl.utils import get_column_letter

        self.sheet = book.create_sheet(sheet_title(title))
        self.columns = columns
        for index, (_header, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def cell(self, value, *, bold=False, size=None, number_format=None, wrap=False):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font

        if isinstance(value, Decimal):
            value = float(value)
        if isinstance(value, str):
            value = cell_text(value)
        c = WriteOnlyCell(self.sheet, value=value)
        if bold or size:
            c.font = Font(bold=bold, size=size or 11)
        if number_format and value is not None:
            c.number_format = number_format
        elif isinstance(value, datetime):
            c.number_format = "DD/MM/YYYY HH:MM"
        elif isinstance(value, date):
            c.number_format = "DD/MM/YYYY"
        if wrap:
            c.alignment = Alignment(wrap_text=True, vertical="top")
        return c

    def line(self, text: str = "", *, bold: bool = False, size: int | None = None) -> None:
        self.sheet.append([self.cell(text, bold=bold, size=size)] if text else [])

    def header(self) -> None:
        self.sheet.append([self.cell(h, bold=True, wrap=True) for h, _width in self.columns])

    def row(self, values: Iterable, formats: Sequence[str | None] = (), bold: bool = False):
        formats = list(formats) + [None] * (len(self.columns) - len(formats))
        self.sheet.append(
            [
                self.cell(v, bold=bold, number_format=f)
                for v, f in zip(values, formats, strict=False)
            ]
        )


def load(data: bytes):
    """A read-only workbook of *data* (formulas as written, no external links)."""
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
