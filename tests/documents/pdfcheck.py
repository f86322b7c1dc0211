"""Reading a document PDF back: words with their boxes (pdftotext -bbox-layout), filled rules
(pypdf content streams), and the Nghị định 30/2020 checks every document test shares."""

import html
import io
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ContentStream

from tests.support import require

MM = 72 / 25.4  # points per millimetre
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


@dataclass
class Line:
    page: int  # 1-based
    x0: float  # points, from the left / top of the page
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def lines(data: bytes) -> list[Line]:
    """Every text line of the PDF with its box (pdftotext -bbox-layout)."""
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.pdf"
        path.write_bytes(data)
        out = subprocess.run(
            ["pdftotext", "-bbox-layout", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = []
    for number, page in enumerate(re.findall(r"<page .*?</page>", out, re.S), start=1):
        for box, body in re.findall(r"<line (.*?)>(.*?)</line>", page, re.S):
            c = {k: float(v) for k, v in re.findall(r'(\w+)="([\d.]+)"', box)}
            words = [html.unescape(w) for w in re.findall(r"<word [^>]*>(.*?)</word>", body)]
            text = unicodedata.normalize("NFC", " ".join(words))
            found.append(Line(number, c["xMin"], c["yMin"], c["xMax"], c["yMax"], text))
    return found


def text(data: bytes) -> str:
    """The text of all pages (pypdf), NFC, lines joined by spaces per page line."""
    reader = PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


def first(found: list[Line], start: str, page: int = 1) -> Line:
    for line in found:
        if line.page == page and line.text.startswith(start):
            return line
    raise AssertionError(f"no line starting {start!r} on page {page}")


def rules(data: bytes, page: int = 1) -> list[tuple[float, float, float]]:
    """Thin horizontal filled rectangles of a page: (x0, x1, y from the top), in points.

    WeasyPrint draws a border as a filled rectangle; a transform (cm) scales its coordinates.
    """
    reader = PdfReader(io.BytesIO(data))
    pdf_page = reader.pages[page - 1]
    height = float(pdf_page.mediabox.height)
    stream = ContentStream(pdf_page.get_contents(), reader)
    found, ctm, stack, pending = [], [1, 0, 0, 1, 0, 0], [], []

    def apply(m, x, y):
        return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]

    for operands, op in stream.operations:
        if op == b"q":
            stack.append(list(ctm))
        elif op == b"Q":
            ctm = stack.pop() if stack else [1, 0, 0, 1, 0, 0]
        elif op == b"cm":
            a, b, c, d, e, f = (float(v) for v in operands)
            m = ctm
            ctm = [
                a * m[0] + b * m[2],
                a * m[1] + b * m[3],
                c * m[0] + d * m[2],
                c * m[1] + d * m[3],
                e * m[0] + f * m[2] + m[4],
                e * m[1] + f * m[3] + m[5],
            ]
        elif op == b"re":
            x, y, w, h = (float(v) for v in operands)
            (x0, y0), (x1, y1) = apply(ctm, x, y), apply(ctm, x + w, y + h)
            pending.append((min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)))
        elif op in (b"f", b"F", b"f*"):
            for x0, x1, y0, y1 in pending:
                if y1 - y0 < 2 and x1 - x0 > 5:
                    found.append((x0, x1, height - y1))
            pending = []
        elif op in (b"n", b"S", b"B", b"b"):
            pending = []
    return found


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def page_size(data: bytes, page: int = 1) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[page - 1].mediabox
    return float(box.width), float(box.height)


def starts_a_part(found: list[Line], page: int) -> bool:
    """Does the page open a document of its own (its header: the Quốc hiệu) or an annex (it
    opens with "Phụ lục")? Each numbers its pages afresh (NĐ 30/2020, Phụ lục I, §I.7)."""
    body = [ln for ln in found if ln.page == page and ln.y1 > 20 * MM]
    if not body:
        return False
    opening = min(body, key=lambda ln: ln.y0)
    return any(ln.text.startswith(NATION) for ln in body) or opening.text.startswith("Phụ lục")


def assert_frame(
    data: bytes, *, agency: str, place_date: str | None = None, one_page_parts: bool = False
) -> None:
    """The NĐ 30/2020 frame: page numbers only from the second page of each document or annex,
    13–14 pt, centred in the top margin; the agency's rule 1/3–1/2 of its name; the place/date
    line centred under the motto; text inside the margins (left 30 mm, right 15 mm, top and
    bottom 20 mm). `one_page_parts`: a file of one-page documents (a letter per person), which
    carry no page number at all."""
    found = lines(data)
    pages = page_count(data)
    assert pages >= 2, "make the document long enough for a second page"
    numbered, start = 0, 1
    for n in range(1, pages + 1):
        width, _height = page_size(data, n)
        centre = (30 * MM + width - 15 * MM) / 2
        top = [ln for ln in found if ln.page == n and ln.y1 <= 20 * MM]
        if n == 1 or starts_a_part(found, n):
            start = n
            assert top == [], f"page {n} opens a document or annex but has a page number: {top}"
            continue
        expected = str(n - start + 1)
        assert [ln.text for ln in top] == [expected], f"page {n} top margin: {top}"
        number = top[0]
        assert abs(number.centre - centre) < 2 * MM, (number, centre)
        assert 12 <= number.y1 - number.y0 <= 16, "page number not 13–14 pt"
        sizes = [size for t, size in text_sizes(data, n) if t == expected]
        assert sizes, f"page {n}: no page number run"
        assert all(13 <= size <= 14 for size in sizes), f"page {n} number: {sizes} pt"
        numbered += 1
    if one_page_parts:
        assert numbered == 0
    else:
        assert numbered, "no page carries a number: make a document or annex run over two pages"
    for ln in found:
        if ln.page > 1 and ln.y1 <= 20 * MM:
            continue
        width, height = page_size(data, ln.page)
        assert ln.x0 >= 30 * MM - 1, f"left margin: {ln}"
        assert ln.x1 <= width - 15 * MM + 1, f"right margin: {ln}"
        assert ln.y1 <= height - 20 * MM + 1, f"bottom margin: {ln}"
    for n in range(1, pages + 1):  # the rules (table borders, underlines) keep the margins too
        width, height = page_size(data, n)
        for x0, x1, y in rules(data, n):
            assert x0 >= 30 * MM - 1, f"page {n}: a rule in the left margin: {x0, x1, y}"
            assert x1 <= width - 15 * MM + 1, f"page {n}: a rule in the right margin: {x0, x1, y}"
            assert 20 * MM - 1 <= y <= height - 20 * MM + 1, f"page {n}: a rule at y={y}"
    name = first(found, agency)
    under = [r for r in rules(data) if 0 < r[2] - name.y1 < 8 * MM]
    assert under, "no rule under the agency name"
    x0, x1, _y = under[0]
    length, name_width = x1 - x0, name.x1 - name.x0
    assert name_width / 3 - 1 <= length <= name_width / 2 + 1, (length, name_width)
    assert abs((x0 + x1) / 2 - name.centre) < 1 * MM
    nation = first(found, NATION)
    if place_date is not None:
        place = first(found, place_date)
        assert place.text == place_date
        assert abs(place.centre - nation.centre) < 1.5 * MM, (place, nation)


def text_sizes(data: bytes, page: int) -> list[tuple[str, float]]:
    """Each text run of a page with its size in points (pypdf's visitor: font size times the
    text and transformation matrices' vertical scale)."""
    reader = PdfReader(io.BytesIO(data))
    found: list[tuple[str, float]] = []

    def visit(run, cm, tm, _font, size):
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
        if run.strip():
            found.append((run.strip(), round(size * scale, 1)))

    reader.pages[page - 1].extract_text(visitor_text=visit)
    return found


def flat_text(data: bytes) -> str:
    """The text of all pages on one line: NFC, no-break spaces and line breaks as single spaces."""
    return " ".join(text(data).replace("\u00a0", " ").split())


def assert_one_line(data: bytes, code: str) -> None:
    """`code` (a class code such as KNDN-2026-01) is printed, and never broken across lines."""
    texts = [line.text for line in lines(data)]
    whole = sum(t.count(code) for t in texts)
    assert whole, f"{code} is missing or broken across lines"
    assert "".join(texts).count(code) == whole, f"{code} is broken across lines somewhere"


def fonts(data: bytes) -> set[str]:
    """The base names of the fonts the PDF uses (subset prefixes "ABCDEF+" dropped)."""
    names = set()
    for pdf_page in PdfReader(io.BytesIO(data)).pages:
        resources = pdf_page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            name = str(font.get_object().get("/BaseFont", ""))
            names.add(name.lstrip("/").split("+", 1)[-1])
    return names


def expected_font() -> str:
    """Times New Roman when the machine has it, else Liberation Serif (its metric twin)."""
    listed = subprocess.run(["fc-list", ":family"], capture_output=True, text=True).stdout
    return "TimesNewRoman" if "Times New Roman" in listed else "LiberationSerif"


def assert_fonts(data: bytes) -> None:
    want = expected_font()
    used = fonts(data)
    assert used, "no fonts"
    squeezed = {name.replace("-", "").replace(" ", "").replace("PS", "") for name in used}
    assert all(name.startswith(want) for name in squeezed), (want, used)


def assert_signature(data: bytes, *lines_in_order: str) -> None:
    """The signature block (ô 7): its lines (quyền hạn "KT. GIÁM ĐỐC", chức vụ, họ tên) one under
    another on one page, centred on one axis in the right half of the page."""
    found = lines(data)
    pages = sorted({ln.page for ln in found if ln.text == lines_in_order[-1]})
    assert pages, f"no signer line {lines_in_order[-1]!r}"
    page = pages[-1]
    block = []
    for wanted in lines_in_order:
        matches = [ln for ln in found if ln.page == page and ln.text == wanted]
        assert matches, f"page {page}: no line {wanted!r} in the signature block"
        below = [ln for ln in matches if not block or ln.y0 > block[-1].y0]
        assert below, f"{wanted!r} is not below {block[-1].text!r}"
        block.append(min(below, key=lambda ln: ln.y0))
    width, _height = page_size(data, page)
    axis = block[0].centre
    assert axis > width / 2, f"signature block not in the right half: {block}"
    for ln in block:
        assert abs(ln.centre - axis) < 1.5 * MM, f"signature block not centred: {block}"
