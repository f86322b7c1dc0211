"""The sign-in sheet: official header, every name exactly (NFC), in Vietnamese order."""

import subprocess
import unicodedata
from datetime import date, time

import pytest

from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.timeutil import place_date
from tests.support import require

NAMES = [
    "Trần Hồng Quân",
    "Nguyễn Thị Hồng Nhung",
    "Lê Văn Ửng",
    "Phạm Thị Ánh",
    "Đỗ Minh Ân",
    "Võ Văn Út",
]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 5), "Cà Mau, ngày 05 tháng 01 năm 2026"),
        (date(2026, 2, 28), "Cà Mau, ngày 28 tháng 02 năm 2026"),
        (date(2026, 12, 3), "Cà Mau, ngày 03 tháng 12 năm 2026"),
        (date(2026, 3, 15), "Cà Mau, ngày 15 tháng 3 năm 2026"),
    ],
)
def test_place_date_line(day, expected):
    assert place_date("Cà Mau", day) == expected


def test_sheet_pdf_names_exact_and_in_vietnamese_order(
    client, login, trainer, create_user, tmp_path
):
    require(
        subprocess.run(["which", "pdftotext"], capture_output=True, check=False).returncode == 0,
        "pdftotext is not installed (apt-get install poppler-utils)",
    )
    people = [create_user(full_name=unicodedata.normalize("NFD", n)) for n in NAMES]
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="KN-SHEET",
            title="Lớp bồi dưỡng kiến thức đối ngoại nhân dân",
            starts_on=date(2026, 12, 1),
            ends_on=date(2026, 12, 2),
            place="Hội trường A",
            decision_no="123/QĐ-SNV",
            decision_on=date(2026, 11, 20),
        ),
        [trainer],
    )
    classes.add_sessions(
        Actor(trainer), training_class, date(2026, 12, 1), 1, time(7, 30), time(11), 4
    )
    classes.enrol(Actor(trainer), training_class, people)
    login(trainer)
    response = client.get(f"/manage/sessions/{training_class.sessions[0].id}/sheet.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert (
        "filename*=UTF-8''danh-sach-ky-ten-KN-SHEET-buoi-1.pdf"
        in response.headers["Content-Disposition"]
    )
    path = tmp_path / "sheet.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = unicodedata.normalize("NFC", text)
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "SỞ NỘI VỤ",
        "DANH SÁCH HỌC VIÊN KÝ TÊN",
        "UBND TỈNH CÀ MAU",
    ):
        assert line in text
    positions = [text.index(unicodedata.normalize("NFC", n)) for n in NAMES]
    expected = [
        "Phạm Thị Ánh",
        "Đỗ Minh Ân",
        "Nguyễn Thị Hồng Nhung",
        "Trần Hồng Quân",
        "Võ Văn Út",
        "Lê Văn Ửng",
    ]
    assert [n for _, n in sorted(zip(positions, NAMES, strict=True))] == expected
