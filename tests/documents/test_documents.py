"""Every PDF LearnHub prints, read back (issue 17, findings 1–6): the frame (page numbers from
page 2, the agency rule, margins, place and date), the blocks each form has (Kính gửi, the
signature block, Nơi nhận), and the class code on one line."""

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
