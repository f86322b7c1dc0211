"""Issue 17, Build 2: the documents of a class's life as PDF and editable DOCX; LibreOffice reads
the DOCX back with the same names, numbers and dates as the PDF."""

import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import date

import pytest
from pypdf import PdfReader

from learnhub import db
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.reports import class_documents
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete, open_class
from tests.support import require

KINDS = list(class_documents.KINDS)
DATES = re.compile(r"\d{2}/\d{2}/\d{4}|ngày \d{2} tháng \d{1,2} năm \d{4}")
NUMBERS = re.compile(r"Số: …/[A-ZĐ]+-[A-Z0-9]+|\d{3}/\d{4}/GCN-[A-Z0-9]+|\d+/QĐ-[A-Z]+")


@pytest.fixture
def demo_class(trainer, create_user, unit):
    """A class like the demo's: a decision, a place, learners of two units, two certified."""
    training_class = open_class(trainer, code="KNDN-2026-01")
    training_class.place = "Hội trường Sở Nội vụ"
    training_class.decision_no = "15/QĐ-SNV"
    training_class.decision_on = date(2026, 1, 2)
    people = [
        create_user(
            "dd-1",
            full_name="Nguyễn Thị Hồng Nhung",
            unit=unit("CM-SNV"),
            birth_date=date(1990, 3, 4),
            position="Chuyên viên",
        ),
        create_user(
            "dd-2",
            full_name="Trần Hồng Quân",
            unit=unit("X-THOI-BINH"),
            birth_date=date(1985, 11, 20),
            position="Công chức",
        ),
        create_user("dd-3", full_name="Lê Văn Ửng", unit=unit("CM-SNV")),
    ]
    certs = []
    for person in people[:2]:
        complete(training_class, person)
        certs.append(certificates.issue(Actor(None), training_class, person, utcnow()))
    complete(training_class, people[2], score=None)  # completed, not (yet) certified
    return training_class, people, certs


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def pdf_text(data: bytes) -> str:
    return _text("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def docx_text_by_libreoffice(data: bytes, tmp_path) -> str:
    soffice = shutil.which("soffice")
    require(soffice is not None, "LibreOffice (soffice, libreoffice-writer) is not installed")
    source = tmp_path / "doc.docx"
    source.write_bytes(data)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "txt:Text",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        check=True,
        timeout=180,
    )
    out = tmp_path / "doc.txt"
    require(out.exists(), "soffice cannot convert DOCX to text (libreoffice-writer missing)")
    return _text(out.read_text(encoding="utf-8-sig"))


def _download(client, training_class, kind: str, fmt: str) -> bytes:
    with client.get(f"/manage/classes/{training_class.id}/documents/{kind}.{fmt}") as response:
        assert response.status_code == 200, (kind, fmt)
        return response.data


@pytest.mark.parametrize("kind", KINDS)
def test_class_documents_generate_as_pdf_and_docx(client, login, trainer, demo_class, kind):
    training_class, _people, _certs = demo_class
    login(trainer)
    assert _download(client, training_class, kind, "pdf").startswith(b"%PDF-")
    with zipfile.ZipFile(io.BytesIO(_download(client, training_class, kind, "docx"))) as docx:
        assert "word/document.xml" in docx.namelist()


def test_libreoffice_reads_the_docx_with_the_pdfs_names_numbers_and_dates(
    client, login, trainer, demo_class, tmp_path
):
    training_class, people, certs = demo_class
    # The widest serial the alphabet allows: it must still print on one line in the annex.
    certs[0].serial = "WMWMW-MWMWM"
    db.session.flush()
    login(trainer)
    for kind in KINDS:
        pdf = pdf_text(_download(client, training_class, kind, "pdf"))
        folder = tmp_path / kind
        folder.mkdir()
        docx = docx_text_by_libreoffice(_download(client, training_class, kind, "docx"), folder)
        names = [p.full_name for p in people if p.full_name in pdf]
        assert names, kind
        for name in names:
            assert name in docx, (kind, name)
        assert training_class.code in pdf, kind
        assert training_class.code in docx, kind
        assert sorted(set(DATES.findall(pdf))) == sorted(set(DATES.findall(docx))), kind
        assert set(DATES.findall(pdf)), kind
        assert sorted(set(NUMBERS.findall(pdf))) == sorted(set(NUMBERS.findall(docx))), kind
    decision = pdf_text(_download(client, training_class, "quyet-dinh-cong-nhan", "pdf"))
    for cert in certs:
        assert cert.number_label in decision
        assert cert.serial in decision


def test_decisions_say_what_the_class_says(demo_class):
    training_class, _people, certs = demo_class
    opening = class_documents.build(training_class, "quyet-dinh-mo-lop")
    first = opening.pages[0]
    assert first.number == "Số: 15/QĐ-SNV"
    assert first.place_date == "Cà Mau, ngày 02 tháng 01 năm 2026"
    article1 = next(b for b in first.blocks if getattr(b, "lead", "") == "Điều 1.")
    assert "từ ngày 05/01/2026 đến ngày 09/01/2026" in article1.text
    assert "Hội trường Sở Nội vụ" in article1.text
    assert "Số học viên: 3 người" in article1.text
    assert [b.lead for b in first.blocks if getattr(b, "lead", "")] == [
        "Điều 1.",
        "Điều 2.",
        "Điều 3.",
    ]
    assert first.recipients[0] == "Như Điều 3;"
    recognition = class_documents.build(training_class, "quyet-dinh-cong-nhan")
    assert recognition.pages[0].number == "Số: …/QĐ-SNV"  # left to fill in when registered
    annex = recognition.pages[1].blocks[1]
    name, number = annex.headers.index("Họ và tên"), annex.headers.index("Số vào sổ")
    assert [row[name] for row in annex.rows] == [c.data["full_name"] for c in certs]
    assert [row[number] for row in annex.rows] == [c.number_label for c in certs]


def test_summons_per_unit_lists_only_that_units_learners(demo_class):
    training_class, people, _certs = demo_class
    doc = class_documents.build(training_class, "giay-trieu-tap-don-vi")
    listed = {page.recipient: [row[1] for row in page.blocks[2].rows] for page in doc.pages}
    assert listed[people[0].unit.name] == sorted(
        [people[0].full_name, people[2].full_name], key=lambda n: n.split()[-1]
    )
    assert listed[people[1].unit.name] == [people[1].full_name]
    one = class_documents.build(training_class, "giay-trieu-tap", people[1].id)
    assert len(one.pages) == 1
    assert any(people[1].full_name in b.text for b in one.pages[0].blocks)


def test_a_document_for_someone_outside_the_class_does_not_exist(
    client, login, trainer, demo_class, create_user
):
    training_class, _people, _certs = demo_class
    stranger = create_user("dd-x", full_name="Người Ngoài Lớp")
    login(trainer)
    base = f"/manage/classes/{training_class.id}/documents"
    for url in (
        f"{base}/giay-trieu-tap.pdf?hoc_vien={stranger.id}",
        f"{base}/danh-sach-ky-ten.docx?buoi=99",
        f"{base}/khong-co.pdf",
        f"{base}/quyet-dinh-mo-lop.odt",
    ):
        assert client.get(url).status_code == 404, url


def test_the_manage_page_links_every_document(client, login, trainer, demo_class):
    training_class, _people, _certs = demo_class
    login(trainer)
    html = client.get(f"/manage/classes/{training_class.id}").get_data(as_text=True)
    assert "Văn bản của lớp" in html
    for kind in KINDS:
        for fmt in ("pdf", "docx"):
            assert f"/documents/{kind}.{fmt}" in html


def test_a_configured_number_pattern_fills_the_number_line(app, demo_class, monkeypatch):
    training_class, _people, _certs = demo_class
    monkeypatch.setitem(app.config, "CLASS_DOCUMENT_NUMBER", "Số: …/{kind}-{issuer}-ĐT")
    doc = class_documents.build(training_class, "quyet-dinh-cong-nhan")
    assert doc.pages[0].number == "Số: …/QĐ-SNV-ĐT"
    monkeypatch.setitem(app.config, "CLASS_DOCUMENT_NUMBER", "Số: {nope}")  # mistyped
    assert class_documents.build(training_class, "giay-trieu-tap").pages[0].number == (
        "Số: …/GTT-SNV"
    )


def test_a_class_with_its_own_issuer_is_issued_by_it(client, login, trainer, demo_class):
    """A class whose certificates another unit issues: its documents carry that unit (the page
    gave a 500 when the class named its issuer)."""
    from learnhub import db
    from learnhub.certificates.models import Issuer

    training_class, _people, _certs = demo_class
    school = Issuer(
        code="TCT-DOC",
        name="TRƯỜNG CHÍNH TRỊ TỈNH",
        parent_name="UBND TỈNH CÀ MAU",
        place="Cà Mau",
        signer_title="HIỆU TRƯỞNG",
        signer_name="",
    )
    db.session.add(school)
    db.session.flush()
    training_class.issuer_id = school.id
    db.session.flush()
    login(trainer)
    text = pdf_text(_download(client, training_class, "quyet-dinh-mo-lop", "pdf"))
    assert "TRƯỜNG CHÍNH TRỊ TỈNH" in text


def test_class_documents_are_printed_in_the_one_document_frame(
    client, login, trainer, demo_class, create_user, unit
):
    """Issue 17, Build 1: the class documents share the frame of every PDF — page numbers only from
    page 2, 13–14 pt, centred; the agency rule 1/3–1/2 of the name; the margins; the place/date
    line centred under the motto; Kính gửi and Nơi nhận as the frame prints them."""
    from learnhub.classes import services as classes
    from tests.documents import pdfcheck

    training_class, _people, _certs = demo_class
    more = [
        create_user(f"dd-m{n}", full_name=f"Phạm Văn Học Viên {n}", unit=unit("CM-SNV"))
        for n in range(40)
    ]
    classes.enrol(Actor(None), training_class, more)
    login(trainer)
    place_date = "Cà Mau, ngày 02 tháng 01 năm 2026"
    data = _download(client, training_class, "danh-sach-hoc-vien", "pdf")
    pdfcheck.assert_frame(data, agency="SỞ NỘI VỤ", place_date=place_date)
    assert "Tổng số: 43 học viên." in pdfcheck.text(data)
    summons = _download(client, training_class, "giay-trieu-tap-don-vi", "pdf")
    pdfcheck.assert_frame(summons, agency="SỞ NỘI VỤ", place_date=place_date)
    text = " ".join(pdfcheck.text(summons).split())
    assert f"Kính gửi: {unit('CM-SNV').name}." in text
    assert "Nơi nhận: - Như trên; - Lưu: VT." in text
