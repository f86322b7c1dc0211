"""Every PDF LearnHub prints, read back (issue 17, findings 1–6): the frame (page numbers from
page 2, the agency rule, margins, place and date), the blocks each form has (Kính gửi, the
signature block, Nơi nhận), and the class code on one line."""

import re
from datetime import date, time

import pytest

from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from tests.documents import pdfcheck

CODE = "KNDN-2026-01"


@pytest.fixture
def big_class(trainer, create_user, unit):
    """A class with enough learners for every list to run over two pages."""
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code=CODE,
            title="Lớp bồi dưỡng kiến thức đối ngoại nhân dân",
            starts_on=date(2026, 3, 9),
            ends_on=date(2026, 3, 10),
            place="Hội trường A",
            decision_no="123/QĐ-SNV",
            decision_on=date(2026, 3, 2),
        ),
        [trainer],
    )
    classes.add_sessions(
        Actor(trainer), training_class, date(2026, 3, 9), 2, time(7, 30), time(11), 4
    )
    people = [
        create_user(full_name=f"Nguyễn Văn Học {i:02d}", unit=unit("CM-SNV")) for i in range(40)
    ]
    classes.enrol(Actor(trainer), training_class, people)
    return training_class, people


def _one_line(data: bytes, code: str) -> None:
    found = pdfcheck.lines(data)
    assert any(code in line.text for line in found), f"{code} is broken across lines"


def test_finding2_sign_in_sheet(client, login, trainer, big_class):
    training_class, people = big_class
    login(trainer)
    session = training_class.sessions[1]
    response = client.get(f"/manage/sessions/{session.id}/sheet.pdf")
    assert response.status_code == 200
    data = response.data
    place_date = f"Cà Mau, ngày {session.on:%d} tháng {session.on.month} năm {session.on.year}"
    pdfcheck.assert_frame(data, agency="SỞ NỘI VỤ", place_date=place_date)
    text = pdfcheck.text(data)
    assert "DANH SÁCH HỌC VIÊN KÝ TÊN" in text
    assert "KÝ NHẬN" not in text
    assert "Thời gian: từ ngày 09/03/2026 đến ngày 10/03/2026" in text
    assert "·" not in text
    assert f"Tổng số: {len(people)} học viên." in text
    assert "XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC" in text
    assert "NGƯỜI LẬP DANH SÁCH" in text
    assert "GIÁM ĐỐC" in text
    _one_line(data, CODE)


def test_finding3_unit_report_blocks(client, login, admin, big_class):
    login(admin)
    response = client.get("/reports/units.pdf?period=year&year=2026")
    assert response.status_code == 200
    text = pdfcheck.text(response.data)
    assert "Kính gửi: Ủy ban nhân dân tỉnh Cà Mau." in text
    assert "Nơi nhận:" in text
    assert "GIÁM ĐỐC" in text
    assert "(trực tiếp)" not in text
    assert " %" not in text  # "50,0%", never "50,0 %"


def test_finding5_history_certification_block(client, login, admin, big_class):
    _class, people = big_class
    login(admin)
    response = client.get(f"/reports/people/{people[0].id}.pdf")
    assert response.status_code == 200
    text = pdfcheck.text(response.data)
    assert "Số: /XN-SNV" in " ".join(text.replace("\u00a0", " ").split())
    assert "xác nhận quá trình tham gia bồi dưỡng" in text
    assert "Nơi nhận:" in text
    assert "GIÁM ĐỐC" in text
    _one_line(response.data, CODE)


def test_finding6_certificate_wording():
    from learnhub.certificates.services import class_line

    assert class_line("Lớp bồi dưỡng kiến thức đối ngoại") == "Lớp bồi dưỡng kiến thức đối ngoại"
    assert class_line("Đối ngoại nhân dân khóa 1") == "Lớp: Đối ngoại nhân dân khóa 1"


def test_finding6_certificate_pdf(big_class):
    from learnhub.certificates import services as certificates
    from learnhub.timeutil import utcnow
    from tests.certificates.conftest import complete

    training_class, people = big_class
    complete(training_class, people[0])
    cert = certificates.issue(Actor(None), training_class, people[0], utcnow())
    data = certificates.read_pdf(cert)
    assert pdfcheck.page_count(data) == 1
    text = " ".join(pdfcheck.text(data).split())
    assert f"Chứng nhận: Ông/Bà {people[0].full_name}" in text
    assert "Lớp: Lớp" not in text
    assert CODE not in text
    assert "ông/bà:" not in text


def test_finding5_history_status_in_lower_case_and_one_dash(client, login, admin, big_class):
    """Finding 5: "(Có hiệu lực)" was capitalised mid-sentence; an en dash here, a hyphen there."""
    from learnhub.certificates import services as certificates
    from learnhub.timeutil import utcnow
    from tests.certificates.conftest import complete

    training_class, people = big_class
    complete(training_class, people[0])
    certificates.issue(Actor(None), training_class, people[0], utcnow())
    login(admin)
    response = client.get(f"/reports/people/{people[0].id}.pdf")
    assert response.status_code == 200
    text = " ".join(pdfcheck.text(response.data).split())
    assert "(có hiệu lực)" in text
    assert "(Có hiệu lực)" not in text
    # Date ranges use the en dash with spaces, never a hyphen between two dates.
    assert re.search(r"\d{2}/\d{2}/\d{4} – \d{2}/\d{2}/\d{4}", text)
    assert not re.search(r"\d{2}/\d{2}/\d{4} ?- ?\d{2}/\d{2}/\d{4}", text)
