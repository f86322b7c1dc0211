"""Issue 17, acceptance 1: EVERY PDF LearnHub prints, read back — its text (the blocks its form
has: Kính gửi, the signature block, Nơi nhận) AND its positions (page numbers only from page 2,
13–14 pt, centred in the top margin; the place/date line centred under the motto; the agency rule
1/3–1/2 of the name; margins; the class code on one line; the fonts).

PDFS lists every route that prints a PDF; test_every_pdf_route_is_checked walks the URL map, so
a new PDF route without an entry here fails (and test_every_pdf_template_is_checked does the same
for every template given to pdf.render). Each page of a file that opens a document or an annex
of its own (a letter per learner, a decision's phụ lục) numbers its pages afresh (§I.7).
Which blocks each form has:

=====================  =========  =========================================  =========
document               Kính gửi   signature block                            Nơi nhận
=====================  =========  =========================================  =========
sign-in sheet          no         yes (the organiser's confirmation)         no
register (sổ GCN)      no         yes (the head of the agency)               no
unit report            yes        yes                                        yes
annual report          yes        yes                                        yes
training history       no         yes (the certifying agency)                yes
class dossier's sổ     no         yes                                        no
quyết định mở lớp      no         yes                                        yes
giấy triệu tập         no         yes                                        yes
(per learner)
giấy triệu tập         yes (the   yes                                        yes
(per unit)             unit)
danh sách học viên     no         yes                                        no
danh sách ký tên       no         yes                                        no
quyết định công nhận   no         yes                                        yes
certificate            —          its own one-page form (Mẫu GCN), no NĐ 30 frame
=====================  =========  =========================================  =========
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import date, time

import pytest

from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.timeutil import place_date, today
from tests.documents import pdfcheck

CODE = "KNDN-2026-01"
AGENCY = "SỞ NỘI VỤ"
#: The signature block every form prints (the default issuer's, set in `world`).
SIGNATURE = ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Ký")
TO_PROVINCE = "Kính gửi: Ủy ban nhân dân tỉnh Cà Mau."
OPENED = date(2026, 3, 2)  # the class's decision
FIRST = date(2026, 3, 9)  # its first session


@dataclass(frozen=True)
class Form:
    """What one PDF's form has; `url` builds the address from the seeded world."""

    url: str
    kinh_gui: str | None  # the "Kính gửi" text, or None when the form has none
    noi_nhan: bool
    #: What dates it: "opened" (the decision opening the class), "session" (the session signed
    #: at), "issued" (the certificates' issue), "today" (the day it is made: reports, register).
    dated: str
    code: bool = True  # the class code appears (on one line)
    one_page_parts: bool = False  # a file of one-page letters: no page numbers at all


PDFS: dict[str, Form] = {
    "/manage/sessions/<int:session_id>/sheet.pdf": Form(
        "/manage/sessions/{session}/sheet.pdf", None, False, "session"
    ),
    "/manage/classes/<int:class_id>/sheet.pdf": Form(
        "/manage/classes/{klass}/sheet.pdf", None, False, "session"
    ),
    "/register/export.pdf": Form("/register/export.pdf?year=2026", None, False, "today"),
    "/reports/units.pdf": Form(
        "/reports/units.pdf?period=year&year=2026", TO_PROVINCE, True, "today", code=False
    ),
    "/reports/annual.pdf": Form(
        "/reports/annual.pdf?year=2026", "Kính gửi: Bộ Nội vụ.", True, "today", code=False
    ),
    "/reports/people/<int:user_id>.pdf": Form("/reports/people/{person}.pdf", None, True, "today"),
}
#: The class documents (one route, /manage/classes/<id>/documents/<kind>.<fmt>), per kind.
CLASS_DOCUMENTS: dict[str, Form] = {
    "quyet-dinh-mo-lop": Form("quyet-dinh-mo-lop", None, True, "opened"),
    # One letter per learner, naming them in its body ("Triệu tập: Ông/Bà …"): no Kính gửi.
    "giay-trieu-tap": Form("giay-trieu-tap", None, True, "opened", one_page_parts=True),
    "giay-trieu-tap-don-vi": Form("giay-trieu-tap-don-vi", "Kính gửi:", True, "opened"),
    "danh-sach-hoc-vien": Form("danh-sach-hoc-vien", None, False, "opened"),
    "danh-sach-ky-ten": Form("danh-sach-ky-ten", None, False, "session"),
    "quyet-dinh-cong-nhan": Form("quyet-dinh-cong-nhan", None, True, "issued"),
}
#: Routes that print PDFs checked by their own tests below (not the NĐ 30 frame's table).
OTHER_PDF_ROUTES = {
    "/manage/classes/<int:class_id>/documents/<kind>.<fmt>",  # CLASS_DOCUMENTS
    "/reports/classes/<int:class_id>/dossier.zip",  # its 05-so-cap-gcn.pdf
    "/certificates/<int:cert_id>/pdf",  # the certificate's own form
    "/classes/<int:class_id>/certificates.zip",  # the same certificate PDFs, zipped
}


def test_every_pdf_route_is_checked(app):
    printing = {r.rule for r in app.url_map.iter_rules() if r.rule.endswith((".pdf", "/pdf"))}
    printing |= {r.rule for r in app.url_map.iter_rules() if r.rule.endswith((".<fmt>", ".zip"))}
    missing = printing - set(PDFS) - OTHER_PDF_ROUTES
    assert not missing, f"PDF routes with no read-back test in {__name__}: {sorted(missing)}"


#: Every template the app prints a PDF from (pdf.render, or pdf.html_of for a render pool),
#: and the test that reads it back.
PDF_TEMPLATES = {
    "certificates/register_pdf.html": "test_pdf_reads_back[/register/export.pdf], dossier",
    "reports/periodic_pdf.html": "test_pdf_reads_back[/reports/units.pdf]",
    "reports/annual_pdf.html": "test_pdf_reads_back[/reports/annual.pdf]",
    "reports/history_pdf.html": "test_pdf_reads_back[/reports/people/…]",
    "documents/document.html": "test_class_document_reads_back",
    "certificates/certificate.html": "test_certificate_reads_back",
}


def test_every_pdf_template_is_checked():
    """A PDF printed outside a .pdf route (inside a ZIP, by a command) is caught here."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "learnhub"
    used = set()
    for source in package.rglob("*.py"):
        code = source.read_text(encoding="utf-8")
        used |= set(re.findall(r"pdf\.(?:render|html_of)\(\s*\"([^\"]+)\"", code))
    assert used - set(PDF_TEMPLATES) == set(), "PDFs with no read-back test"
    assert set(PDF_TEMPLATES) - used == set(), "stale entries (or the pattern no longer matches)"


# -- the world: one class long enough for every list to run over two pages -----------------


@pytest.fixture
def world(trainer, create_user, unit):
    from learnhub import db
    from learnhub.certificates import services as certificates

    issuer = certificates.default_issuer()
    issuer.signer_authority, issuer.signer_for = "KT.", "GIÁM ĐỐC"
    issuer.signer_title, issuer.signer_name = "PHÓ GIÁM ĐỐC", "Trần Văn Ký"
    db.session.flush()
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code=CODE,
            title="Lớp bồi dưỡng kiến thức đối ngoại nhân dân",
            starts_on=FIRST,
            ends_on=date(2026, 3, 10),
            place="Hội trường A",
            decision_no="123/QĐ-SNV",
            decision_on=OPENED,
        ),
        [trainer],
    )
    classes.add_sessions(Actor(trainer), training_class, FIRST, 2, time(7, 30), time(11), 4)
    people = [
        create_user(f"pdf-{i:02d}", full_name=f"Nguyễn Văn Học {i:02d}", unit=unit("CM-SNV"))
        for i in range(40)
    ]
    classes.enrol(Actor(trainer), training_class, people)
    return training_class, people


@pytest.fixture
def certified(world):
    """The world with certificates issued to enough learners for the register to fill 2 pages."""
    from learnhub.certificates import services as certificates
    from learnhub.timeutil import utcnow
    from tests.certificates.conftest import complete

    training_class, people = world
    certs = []
    for person in people[:30]:
        complete(training_class, person)
        certs.append(certificates.issue(Actor(None), training_class, person, utcnow()))
    return training_class, people, certs


@pytest.fixture
def long_history(world, trainer):
    """The first learner enrolled in enough further classes for the history to fill 2 pages."""
    training_class, people = world
    module = catalog.by_slug("doi-ngoai-nhan-dan")
    for n in range(2, 32):
        other = classes.open_class(
            Actor(trainer),
            module,
            classes.ClassData(
                code=f"KNDN-2025-{n:02d}",
                title=f"Lớp bồi dưỡng kiến thức đối ngoại nhân dân khóa {n}",
                starts_on=date(2025, 1, n % 28 + 1),
                ends_on=date(2025, 1, n % 28 + 1),
            ),
            [trainer],
        )
        classes.enrol(Actor(trainer), other, [people[0]])
    return training_class, people


def _dated(form: Form) -> str:
    """The place/date line the form carries: the class's own date where an event dates it (the
    decision opening it, the session signed at, the certificates issued), else the day it is
    made."""
    day = {"session": FIRST, "opened": OPENED, "issued": today(), "today": today()}[form.dated]
    return place_date("Cà Mau", day)


def assert_form(data: bytes, form: Form, place: str | None) -> None:
    """The frame's positions, then the blocks the form has, then the class code on one line."""
    pdfcheck.assert_frame(data, agency=AGENCY, place_date=place, one_page_parts=form.one_page_parts)
    pdfcheck.assert_fonts(data)
    text = pdfcheck.flat_text(data)
    if form.kinh_gui is None:
        assert "Kính gửi" not in text
    else:
        assert form.kinh_gui in text
    assert ("Nơi nhận:" in text) == form.noi_nhan
    if form.noi_nhan:
        assert "- Lưu: VT" in text
    pdfcheck.assert_signature(data, *SIGNATURE)
    if form.code:
        pdfcheck.assert_one_line(data, CODE)


@pytest.mark.parametrize("rule", list(PDFS))
def test_pdf_reads_back(rule, request, client, login, admin, trainer):
    form = PDFS[rule]
    fixture = "long_history" if "people" in rule else "certified" if "register" in rule else "world"
    training_class, people = request.getfixturevalue(fixture)[:2]
    login(trainer if "/manage/" in rule or "register" in rule else admin)
    url = form.url.format(
        klass=training_class.id, session=training_class.sessions[0].id, person=people[0].id
    )
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/pdf"
    assert_form(response.data, form, _dated(form))


@pytest.mark.parametrize(
    "kind",
    CLASS_DOCUMENTS,
)
def test_class_document_reads_back(kind, client, login, trainer, certified):
    from learnhub.reports import class_documents

    assert set(CLASS_DOCUMENTS) == set(class_documents.KINDS), "a class document without a check"
    training_class, _people, _certs = certified
    login(trainer)
    form = CLASS_DOCUMENTS[kind]
    response = client.get(f"/manage/classes/{training_class.id}/documents/{kind}.pdf")
    assert response.status_code == 200
    assert_form(response.data, form, _dated(form))


def test_dossier_register_reads_back(client, login, admin, certified):
    training_class, _people, _certs = certified
    login(admin)
    response = client.get(f"/reports/classes/{training_class.id}/dossier.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as folder:
        pdfs = [n for n in folder.namelist() if n.endswith(".pdf")]
        assert pdfs, "the dossier holds no PDF"
        for name in pdfs:
            assert_form(
                folder.read(name), PDFS["/register/export.pdf"], place_date("Cà Mau", today())
            )


def test_certificate_reads_back(client, login, certified):
    """The certificate is its own one-page form: no page number, the fonts, the holder's name."""
    _class, people, certs = certified
    login(people[0])
    response = client.get(f"/certificates/{certs[0].id}/pdf")
    assert response.status_code == 200
    data = response.data
    assert pdfcheck.page_count(data) == 1
    pdfcheck.assert_fonts(data)
    assert people[0].full_name in pdfcheck.flat_text(data)


def test_readme_names_the_fonts():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "Times New Roman" in readme
    assert "Liberation Serif" in readme


def test_finding1_docx_sections_number_their_own_pages(world):
    """The DOCX twin of nd30-part: every section (a letter, an annex) restarts its page numbers
    at 1 and shows none on its first page."""
    from docx import Document as Word

    from learnhub.reports import class_documents

    training_class, _people = world
    for kind in ("giay-trieu-tap", "quyet-dinh-mo-lop"):
        data = class_documents.docx_bytes(class_documents.build(training_class, kind))
        sections = Word(io.BytesIO(data)).sections
        assert len(sections) >= 2, kind
        for section in sections:
            assert section.different_first_page_header_footer, kind
            numbering = section._sectPr.find(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pgNumType"
            )
            assert numbering is not None, kind
            assert (
                numbering.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}start")
                == "1"
            )


def test_finding1_docx_page_numbers_read_back_through_libreoffice(
    world, trainer, create_user, unit, tmp_path
):
    """The DOCX as LibreOffice prints it: no number on the decision's first page nor on its
    annex's first page; the pages after each carry 2, 3, … centred in the top margin."""
    import shutil
    import subprocess

    from learnhub.reports import class_documents
    from tests.support import require

    soffice = shutil.which("soffice")
    require(soffice is not None, "LibreOffice (soffice) is not installed")
    training_class, _people = world
    more = [create_user(f"pdf-m{i:02d}", full_name=f"Lê Thị Mai {i:02d}") for i in range(40)]
    classes.enrol(Actor(trainer), training_class, more)  # the annex runs over two pages
    source = tmp_path / "doc.docx"
    doc = class_documents.build(training_class, "quyet-dinh-mo-lop")
    source.write_bytes(class_documents.docx_bytes(doc))
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        check=True,
        timeout=180,
    )
    data = (tmp_path / "doc.pdf").read_bytes()
    found = pdfcheck.lines(data)
    starts = [
        n for n in range(1, pdfcheck.page_count(data) + 1) if pdfcheck.starts_a_part(found, n)
    ]
    numbers = {ln.page: ln.text for ln in found if ln.y1 <= 20 * pdfcheck.MM and ln.text.isdigit()}
    assert 1 in starts
    assert len(starts) == 2, starts  # the decision and its annex
    for n in range(1, pdfcheck.page_count(data) + 1):
        start = max(s for s in starts if s <= n)
        assert numbers.get(n) == (None if n == start else str(n - start + 1)), (n, numbers)
