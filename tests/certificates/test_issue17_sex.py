"""Issue 17, finding 4: the person's sex on the documents. The certificate says "Ông" for a man,
"Bà" for a woman and "Ông/Bà" when the sex is unknown; the register (page, XLSX, PDF) has a
"Giới tính" column, empty when unknown, and no longer says that sex is not recorded; the
summons and the class list follow. Every PDF is read back."""

import io

import pytest
from openpyxl import load_workbook

from learnhub.accounts.models import Sex
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.reports import class_documents
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete, open_class
from tests.certificates.test_register import pdf_text

PEOPLE = [
    ("Trần Văn Nam Giới", Sex.male, "Ông", "Nam"),
    ("Lê Thị Nữ Giới", Sex.female, "Bà", "Nữ"),
    ("Phạm Chưa Rõ", None, "Ông/Bà", ""),
]


@pytest.fixture
def issued(trainer, create_user, unit):
    training_class = open_class(trainer, "GT-2026-01")
    people = [create_user(full_name=name, sex=sex, unit=unit("CM-SNV")) for name, sex, *_ in PEOPLE]
    certs = []
    for person in people:
        complete(training_class, person)
        certs.append(certificates.issue(Actor(trainer), training_class, person, utcnow()))
    return training_class, people, certs


def test_finding4_certificate_salutation_by_sex(issued):
    _class, _people, certs = issued
    for (name, _sex, salutation, _label), cert in zip(PEOPLE, certs, strict=True):
        text = pdf_text(certificates.read_pdf(cert))
        assert f"Chứng nhận: {salutation} {name}" in text
        if salutation != "Ông/Bà":
            assert "Ông/Bà" not in text


def test_finding4_register_has_a_sex_column(issued, client, login, admin):
    _class, _people, certs = issued
    login(admin)
    year = certs[0].year
    page = client.get(f"/register/?year={year}").get_data(as_text=True)
    assert "Giới tính" in page
    data = client.get(f"/register/export.pdf?year={year}").data
    text = pdf_text(data)
    assert "Giới tính" in text
    assert "chưa có cột giới tính" not in text
    assert "chưa lưu giới tính" not in text
    for name, _sex, _salutation, label in PEOPLE:
        if label:
            assert f"{name} {label}" in text or f"{label}" in text.split(name, 1)[1][:60]
    book = load_workbook(io.BytesIO(client.get(f"/register/export.xlsx?year={year}").data))
    rows = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    header = next(r for r in rows if "Giới tính" in r)
    col, name_col = header.index("Giới tính"), header.index("Họ và tên")
    found = {r[name_col]: r[col] for r in rows if r[name_col] in {p[0] for p in PEOPLE}}
    assert found == {name: (label or None) for name, _s, _sal, label in PEOPLE}


def test_finding4_a_certificate_issued_before_sex_was_recorded(issued, client, login, admin):
    """Its snapshot has no "sex": the certificate keeps "Ông/Bà"; the register falls back to the
    account."""
    _class, _people, certs = issued
    data = dict(certs[0].data)
    del data["sex"]
    certs[0].data = data
    text = pdf_text(certificates.render_pdf(certs[0], certificates.default_issuer()))
    assert f"Chứng nhận: Ông/Bà {PEOPLE[0][0]}" in text
    login(admin)
    book = load_workbook(io.BytesIO(client.get(f"/register/export.xlsx?year={certs[0].year}").data))
    rows = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert any(PEOPLE[0][0] in r and "Nam" in r for r in rows)


def test_finding4_summons_and_lists_by_sex(issued):
    training_class, people, _certs = issued
    for (name, _sex, salutation, _label), person in zip(PEOPLE, people, strict=True):
        doc = class_documents.build(training_class, "giay-trieu-tap", person.id)
        text = pdf_text(class_documents.pdf_bytes(doc))
        assert f"Triệu tập: {salutation}: {name}" in text
        assert f"tạo điều kiện để {salutation.lower()} {name}" in text
    for kind in ("danh-sach-hoc-vien", "giay-trieu-tap-don-vi", "quyet-dinh-cong-nhan"):
        text = pdf_text(class_documents.pdf_bytes(class_documents.build(training_class, kind)))
        assert "Giới tính" in text, kind
        assert " Nữ " in f" {text} "
        assert " Nam " in f" {text} ", kind
