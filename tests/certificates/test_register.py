"""The register (sổ cấp giấy chứng nhận): number order, filters, who sees which rows (page, XLSX
and PDF alike), the exports read back."""

import io
import unicodedata
from datetime import datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from learnhub import policy
from learnhub.accounts.models import Role
from learnhub.audit.services import Actor
from learnhub.certificates import register
from learnhub.certificates import services as certificates
from learnhub.certificates.models import RevokeReason
from learnhub.timeutil import format_date, utcnow
from tests.certificates.conftest import complete, open_class

XLSX_FIRST_ROW = 6  # title, issuer, year, blank, header


def issue(klass, user):
    complete(klass, user)
    return certificates.issue(Actor(None), klass, user, utcnow())


def get(client, url: str):
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def page_html(client, url: str) -> str:
    status, _headers, body = get(client, url)
    assert status == 200
    return body.decode()


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def xlsx_rows(data: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(data))
    try:
        sheet = book.worksheets[0]
        return [
            tuple(c for c in row)
            for row in sheet.iter_rows(min_row=XLSX_FIRST_ROW)
            if any(c.value is not None for c in row)
        ]
    finally:
        book.close()


@pytest.fixture
def people(create_user, unit):
    snv = unit("CM-SNV")
    return [
        create_user(full_name=name, unit=snv)
        for name in ("Nguyễn Thị Hồng Nhung", "Trần Hồng Quân", "Lê Văn Ửng")
    ]


def test_number_order_and_filters(client, login, admin, klass, trainer, people, create_user, unit):
    certs = [issue(klass, p) for p in people]
    other = open_class(trainer, "GCN-2026-02")
    duc = create_user(full_name="Phạm Minh Đức", unit=unit("CM-SNV"))
    certs.append(issue(other, duc))
    year = certs[0].year
    login(admin)

    html = page_html(client, f"/register/?year={year}")
    positions = [html.index(c.number_label) for c in certs]
    assert positions == sorted(positions)
    first = certs[0].register_no  # other tests may have committed earlier numbers this year
    assert [c.register_no for c in certs] == [first, first + 1, first + 2, first + 3]
    assert f'href="/certificates/{certs[0].id}"' in html
    assert "Sổ cấp giấy chứng nhận" in html

    def names(query: str) -> set[str]:
        html = page_html(client, f"/register/?year={year}&{query}")
        return {p.full_name for p in [*people, duc] if p.full_name in html}

    assert names("q=Quân") == {"Trần Hồng Quân"}
    assert names("q=quan") == {"Trần Hồng Quân"}  # without diacritics
    assert names("q=DUC") == {"Phạm Minh Đức"}  # đ folds to d
    assert names("q=hong") == {"Nguyễn Thị Hồng Nhung", "Trần Hồng Quân"}
    assert names("q=nhung+nguyen") == {"Nguyễn Thị Hồng Nhung"}
    assert names(f"q={certs[2].number_label}") == {"Lê Văn Ửng"}
    assert names("q=%25") == set()  # a wildcard is a plain character
    assert names("q=_") == set()
    assert names("klass=GCN-2026-02") == {"Phạm Minh Đức"}
    assert names("klass=gcn-2026-01") == {p.full_name for p in people}
    assert names("kind=confirmation") == set()

    certificates.revoke(Actor(admin), certs[0], RevokeReason.error, "", utcnow())
    new = certificates.reissue(Actor(admin), certs[1], utcnow(), "Sai tên")
    assert names("status=revoked") == {"Nguyễn Thị Hồng Nhung"}
    assert names("status=superseded") == {"Trần Hồng Quân"}
    assert names("status=valid") == {"Trần Hồng Quân", "Lê Văn Ửng", "Phạm Minh Đức"}
    assert names("status=expired") == set()

    html = page_html(client, f"/register/?year={year}&status=revoked")
    assert f"Đã thu hồi ngày {format_date(certs[0].revoked_at)}" in html
    html = page_html(client, f"/register/?year={year}&status=valid&q=quan")
    assert new.number_label in html
    assert f"Cấp lại, thay thế {certs[1].number_label}" in html
    html = page_html(client, f"/register/?year={year}&status=superseded")
    assert f"Đã cấp lại bằng số {new.number_label}" in html

    html = page_html(client, f"/register/?year={year}&q=nobody")
    assert "Không có giấy nào khớp bộ lọc." in html


def test_defaults_and_pagination(client, login, hr, people, klass):
    certs = [issue(klass, p) for p in people]
    login(hr)
    html = page_html(client, "/register/")  # default issuer and the current year
    assert all(c.number_label in html for c in certs)
    html = page_html(client, "/register/?per_page=1&page=99")  # clamped to the last page
    assert certs[2].number_label in html
    assert certs[0].number_label not in html
    assert "Trang 3 / 3" in html
    html = page_html(client, "/register/?year=2001")
    assert "chưa có giấy nào" in html
    status, _headers, _body = get(client, "/register/?issuer=999999")
    assert status == 404


def test_hr_sees_only_their_unit(app, login, create_user, unit, klass):
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    hr_snv = create_user("hr-snv", roles=(Role.hr,), unit=snv, scope=snv)
    hr_stc = create_user("hr-stc", roles=(Role.hr,), unit=stc, scope=stc)
    mine = create_user(full_name="Nguyễn Thị Hồng Nhung", unit=snv)
    theirs = create_user(full_name="Trần Hồng Quân", unit=stc)
    ours, other = issue(klass, mine), issue(klass, theirs)
    year = ours.year

    for officer, seen, unseen in ((hr_snv, ours, other), (hr_stc, other, ours)):
        client = login(officer, c=app.test_client())
        seen_name, unseen_name = seen.data["full_name"], unseen.data["full_name"]

        html = page_html(client, f"/register/?year={year}")
        assert seen.number_label in html
        assert seen_name in html
        assert unseen.number_label not in html
        assert unseen_name not in html

        status, _headers, data = get(client, f"/register/export.xlsx?year={year}")
        assert status == 200
        names = [row[4].value for row in xlsx_rows(data)]
        assert names == [seen_name]

        status, _headers, data = get(client, f"/register/export.pdf?year={year}")
        assert status == 200
        text = pdf_text(data)
        assert seen_name in text
        assert seen.number_label in text
        assert unseen_name not in text
        assert unseen.number_label not in text


def test_trainer_sees_only_managed_classes(app, login, create_user, unit, klass):
    # Scoped to a unit that does not hold the module: manages only the classes they teach.
    stc = unit("CM-STC")
    teacher = create_user("gv-stc", roles=(Role.trainer,), unit=stc, scope=stc)
    own_class = open_class(teacher, "GCN-2026-09")
    assert not policy.may_manage_class(teacher, klass)
    a = issue(own_class, create_user(full_name="Nguyễn Văn Bình", unit=unit("CM-SNV")))
    b = issue(klass, create_user(full_name="Lý Thị Cúc", unit=unit("CM-SNV")))
    client = login(teacher, c=app.test_client())
    html = page_html(client, f"/register/?year={a.year}")
    assert a.number_label in html
    assert b.number_label not in html
    status, _headers, data = get(client, f"/register/export.xlsx?year={a.year}")
    assert status == 200
    assert [row[1].value for row in xlsx_rows(data)] == [a.number_label]


@pytest.mark.parametrize("path", ["/register/", "/register/export.xlsx", "/register/export.pdf"])
def test_learner_is_refused(app, login, learner, path):
    status, _headers, _body = get(app.test_client(), path)
    assert status == 302  # anonymous: to the sign-in page
    client = login(learner, c=app.test_client())
    status, _headers, _body = get(client, path)
    assert status == 403


def test_xlsx_typed_cells_and_formula_injection(client, login, admin, klass, people, create_user):
    certs = [issue(klass, p) for p in people]
    evil = create_user(full_name='=HYPERLINK("x")')
    certs.append(issue(klass, evil))
    login(admin)
    status, headers, data = get(client, f"/register/export.xlsx?year={certs[0].year}")
    assert status == 200
    assert headers["Content-Disposition"] == (
        f'attachment; filename="so-cap-gcn-{certs[0].issuer.code}-{certs[0].year}.xlsx"'
    )
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats")

    book = load_workbook(io.BytesIO(data))
    try:
        sheet = book.worksheets[0]
        assert sheet["A1"].value == "SỔ CẤP GIẤY CHỨNG NHẬN"
        assert sheet["A2"].value == certs[0].issuer.name
        assert sheet["A3"].value == f"Năm {certs[0].year}"
        assert sheet.cell(XLSX_FIRST_ROW - 1, 5).value == "Họ và tên"
    finally:
        book.close()

    rows = xlsx_rows(data)
    assert len(rows) == len(certs)
    by_label = {row[1].value: row for row in rows}
    first = by_label[certs[0].number_label]
    assert first[0].value == 1  # the register number, as a number
    assert first[4].value == "Nguyễn Thị Hồng Nhung"
    assert first[6].value is None  # Giới tính: not recorded for these people
    issued = first[9]
    assert issued.is_date
    assert isinstance(issued.value, datetime)
    assert issued.value.date() == certs[0].issued_on
    assert issued.number_format == "DD/MM/YYYY"
    assert first[10].value == 8.5  # the score, as a number
    assert first[10].data_type == "n"

    injected = by_label[certs[3].number_label][4]
    assert injected.data_type == "s"
    assert injected.value == '\'=HYPERLINK("x")'


def test_pdf_and_its_row_limit(client, login, admin, klass, people, monkeypatch):
    certs = [issue(klass, p) for p in people]
    year = certs[0].year
    login(admin)
    status, headers, data = get(client, f"/register/export.pdf?year={year}")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].endswith(f'-{year}.pdf"')
    text = pdf_text(data)
    assert "SỔ CẤP GIẤY CHỨNG NHẬN" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert f"Năm {year}" in text
    for cert in certs:
        assert cert.data["full_name"] in text
        assert cert.number_label in text

    monkeypatch.setattr(register, "PDF_MAX_ROWS", 2)
    status, headers, _data = get(client, f"/register/export.pdf?year={year}&kind=certificate")
    assert status == 302
    assert headers["Location"].startswith("/register/?")
    assert "kind=certificate" in headers["Location"]
    html = page_html(client, headers["Location"])
    assert "quá 2 dòng để in PDF" in html
    # Narrowed to fewer rows, the PDF is made.
    status, _headers, _data = get(client, f"/register/export.pdf?year={year}&q=quan")
    assert status == 200
