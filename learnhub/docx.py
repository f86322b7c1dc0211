"""DOCX writing: the one home of python-docx in LearnHub.

Renders a learnhub.documents.Document to an editable Word file with the layout of Nghị định
30/2020 (A4, margins 20/20/30/15 mm, Times New Roman 13–14 pt, the header in a borderless
two-column table, page numbers centred in the top margin from page 2), so an office can edit
the draft before it is signed. The same Document renders to PDF through
templates/documents/document.html: both carry the same text.
"""

import io

from learnhub.documents import MOTTO, NATION, Document, Page, Paragraph, Table

FONT = "Times New Roman"


def _run(paragraph, text: str, *, bold=False, italic=False, size: float = 13, underline=False):
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.name = FONT
    run.font.size = Pt(size)
    return run


def _para(container, text: str = "", *, align="center", space_after: float = 0, **style):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    paragraph.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    paragraph.paragraph_format.space_after = Pt(space_after)
    paragraph.paragraph_format.space_before = Pt(0)
    if text:
        _run(paragraph, text, **style)
    return paragraph


def _no_borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _frame(document, left_width, right_width):
    """A borderless two-column table of fixed widths (the header, the closing blocks)."""
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    _no_borders(table)
    for column, cell, width in zip(
        table.columns, table.rows[0].cells, (left_width, right_width), strict=True
    ):
        column.width = cell.width = width
    return table


def _header(document, doc: Document, page: Page) -> None:
    from docx.shared import Mm

    table = _frame(document, Mm(65), Mm(100))
    left, right = table.rows[0].cells
    left.paragraphs[0].alignment = 1
    if doc.parent:
        _run(left.paragraphs[0], doc.parent, size=12.5)
        _para(left, doc.agency, bold=True, size=12.5)
    else:
        _run(left.paragraphs[0], doc.agency, bold=True, size=12.5)
    _rule(_para(left, "", size=6))
    if page.number:
        _para(left, page.number, size=13)
    right.paragraphs[0].alignment = 1
    _run(right.paragraphs[0], NATION, bold=True, size=12.5)
    _para(right, MOTTO, bold=True, size=13.5, underline=True)
    if page.place_date:
        _para(right, "")
        _para(right, page.place_date, italic=True, size=13.5)


def _rule(paragraph) -> None:
    """A short solid rule under the agency's name (a bottom border, indented to ~1/3)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = Mm(22)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _body(document, block: Paragraph) -> None:
    from docx.shared import Cm, Pt

    if block.style == "centre":
        _para(document, block.text, bold=True, size=13.5, space_after=6)
        return
    if block.style == "note":
        _para(document, block.text, italic=True, size=13.5, space_after=6)
        return
    paragraph = _para(document, align="justify", space_after=6)
    paragraph.paragraph_format.first_line_indent = Cm(1.27)
    paragraph.paragraph_format.line_spacing = Pt(18)
    if block.lead:
        _run(paragraph, block.lead + " ", bold=True, size=13.5)
    _run(paragraph, block.text, italic=block.style == "basis", size=13.5)


def _table(document, block: Table, usable_mm: float) -> None:
    from docx.shared import Mm

    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    table.autofit = False
    widths = [Mm(usable_mm * w / 100) for w in block.widths]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, text, width in zip(table.rows[0].cells, block.headers, widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = 1
        _run(cell.paragraphs[0], text, bold=True, size=12)
    for row in block.rows:
        cells = table.add_row().cells
        for column, (cell, text, width) in enumerate(zip(cells, row, widths, strict=True)):
            cell.width = width
            _run(cell.paragraphs[0], text, size=12)
            if column in block.nowrap:
                _no_wrap(cell)
    _para(document, "")


def _no_wrap(cell) -> None:
    """The cell's text stays on one line (w:noWrap), as the PDF's class="nowrap"."""
    from docx.oxml import OxmlElement

    cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))


def _signature(document, page: Page) -> None:
    from docx.shared import Mm

    table = _frame(document, Mm(75), Mm(90))
    left, right = table.rows[0].cells
    if page.maker:
        left.paragraphs[0].alignment = 1
        _run(left.paragraphs[0], page.maker, bold=True, size=13)
        _para(left, "(Ký, ghi rõ họ tên)", italic=True, size=12)
    elif page.recipients:
        _run(left.paragraphs[0], "Nơi nhận:", bold=True, italic=True, size=12)
        for line in page.recipients:
            _para(left, f"- {line}", align="left", size=11)
    signer = page.signer
    if signer is None:
        return
    right.paragraphs[0].alignment = 1
    for index, line in enumerate(signer.lines):
        paragraph = right.paragraphs[0] if index == 0 else _para(right)
        _run(paragraph, line, bold=True, size=13.5)
    for _blank in range(4):
        _para(right, "")
    _para(right, signer.name, bold=True, size=13.5)


def _page_number_field(section) -> None:
    """The page number centred in the header (the top margin), none on the first page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = 1
    run = _run(paragraph, "", size=13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _restart_numbering(section) -> None:
    """Each page of a Document is a document or an annex of its own (NĐ 30/2020, §I.7): its
    section numbers its pages from 1, none on its first page (the PDF's nd30-part)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    sect_pr = section._sectPr
    numbering = sect_pr.find(qn("w:pgNumType"))
    if numbering is None:
        numbering = OxmlElement("w:pgNumType")
        sect_pr.append(numbering)
    numbering.set(qn("w:start"), "1")


def _section(document, page: Page, first: bool):
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Mm

    section = document.sections[0] if first else document.add_section(WD_SECTION.NEW_PAGE)
    wide, tall = Mm(297), Mm(210)
    if page.landscape:
        section.orientation, section.page_width, section.page_height = (
            WD_ORIENT.LANDSCAPE,
            wide,
            tall,
        )
    else:
        section.orientation, section.page_width, section.page_height = (
            WD_ORIENT.PORTRAIT,
            tall,
            wide,
        )
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    if first:
        _page_number_field(section)
    _restart_numbering(section)
    return (297 if page.landscape else 210) - 45


def render(doc: Document) -> bytes:
    """The document as DOCX bytes."""
    from docx import Document as Word

    document = Word()
    document.core_properties.title = doc.title
    from docx.shared import Pt

    style = document.styles["Normal"]
    style.font.name = FONT
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.line_spacing = 1.0
    for index, page in enumerate(doc.pages):
        usable = _section(document, page, first=index == 0)
        if page.header:
            _header(document, doc, page)
        for line in page.above:
            _para(document, line, bold=True, size=13.5)
        _para(document, "")
        _para(document, page.kind, bold=True, size=14)
        if page.subject:
            _para(document, page.subject, bold=True, size=14)
        _para(document, "")
        if page.decider:
            _para(document, page.decider, bold=True, size=14, space_after=6)
        if page.recipient:
            _para(document, f"Kính gửi: {page.recipient}", size=14, space_after=6)
        for block in page.blocks:
            if isinstance(block, Table):
                _table(document, block, usable)
            else:
                _body(document, block)
        if page.signer is not None or page.recipients:
            _signature(document, page)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
