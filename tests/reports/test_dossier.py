"""The class dossier (/reports/classes/<id>/dossier.zip): the files it holds, each XLSX opens
and says what it should, the register PDF read back, and who may download it."""

import io
import random
import zipfile
from datetime import date

from openpyxl import load_workbook

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.attendance.models import Status
from learnhub.catalog.services import by_slug
from learnhub.quizzes import services as quizzes
from learnhub.reports import dossier
from learnhub.timeutil import utcnow
from tests.reports.test_periodic import (
    attend,
    certify,
    complete,
    enrol,
    get,
    make_class,
    pdf_text,
    sheet_rows,
)

FILES = {
    "ho-so-lop-HS-2025-01/01-danh-sach-hoc-vien.xlsx",
    "ho-so-lop-HS-2025-01/02-diem-danh.xlsx",
    "ho-so-lop-HS-2025-01/03-ket-qua-kiem-tra.xlsx",
    "ho-so-lop-HS-2025-01/04-danh-sach-hoan-thanh.xlsx",
    "ho-so-lop-HS-2025-01/05-so-cap-gcn.xlsx",
    "ho-so-lop-HS-2025-01/05-so-cap-gcn.pdf",
    "ho-so-lop-HS-2025-01/06-tong-hop-phieu-danh-gia.xlsx",
}


def _class_with_results(trainer, create_user, unit):
    nhung = create_user("nhung", full_name="Nguyễn Thị Hồng Nhung", unit=unit("CM-SNV"))
    ung = create_user("ung", full_name="Lê Văn Ửng", unit=unit("X-THOI-BINH"), position="=SUM(A1)")
    klass = make_class(trainer, "HS-2025-01", date(2025, 10, 7), starts=date(2025, 10, 6))
    enrol(klass, nhung, ung)
    attend(klass, nhung, Status.present, Status.late)
    attend(klass, ung, Status.excused, Status.absent)
    complete(klass, nhung, "9")
    cert = certify(klass, nhung, score="9,00")
    quiz = quizzes.ensure_quiz(by_slug("doi-ngoai-nhan-dan"))
    attempt = quizzes.start_attempt(quiz, ung, utcnow(), random.Random(3))
    quizzes.submit_attempt(attempt, utcnow())
    db.session.flush()
    return klass, nhung, ung, cert, attempt


def _open(zip_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _values(data: bytes, index: int = 0) -> list[list]:
    return [[c.value for c in row] for row in sheet_rows(data, index)]


def test_dossier_contents(client, login, trainer, create_user, unit):
    klass, _nhung, _ung, cert, attempt = _class_with_results(trainer, create_user, unit)
    login(trainer)
    status, headers, data = get(client, f"/reports/classes/{klass.id}/dossier.zip")
    assert status == 200
    assert headers["Content-Type"] == "application/zip"
    assert 'filename="ho-so-lop-HS-2025-01.zip"' in headers["Content-Disposition"]
    files = _open(data)
    assert set(files) == FILES
    for name, content in files.items():
        if name.endswith(".xlsx"):
            load_workbook(io.BytesIO(content)).close()  # every spreadsheet opens

    prefix = "ho-so-lop-HS-2025-01/"
    roster = _values(files[prefix + "01-danh-sach-hoc-vien.xlsx"])
    assert roster[0][:3] == ["STT", "Họ và tên", "Ngày sinh"]
    # Vietnamese name order: Nhung before Ửng; a formula-like value stays text.
    assert [r[1] for r in roster[1:]] == ["Nguyễn Thị Hồng Nhung", "Lê Văn Ửng"]
    assert roster[2][3] == "'=SUM(A1)"
    assert roster[2][5] == "Xã Thới Bình"

    book = load_workbook(io.BytesIO(files[prefix + "02-diem-danh.xlsx"]))
    try:
        assert book.sheetnames == ["Điểm danh"]
    finally:
        book.close()
    grid = _values(files[prefix + "02-diem-danh.xlsx"])
    assert grid[0][3:5] == ["Buổi 1 (06/10/2025, 4 tiết)", "Buổi 2 (07/10/2025, 4 tiết)"]
    assert grid[1][1:5] == ["Nguyễn Thị Hồng Nhung", "Sở Nội vụ", "Có mặt", "Đi muộn"]
    assert grid[1][5:7] == [8, 8]
    assert grid[2][3:7] == ["Vắng có phép", "Vắng không phép", 4, 8]

    scores = _values(files[prefix + "03-ket-qua-kiem-tra.xlsx"])
    assert scores[0][4] == "Số lần làm bài"
    by_name = {r[1]: r for r in scores[1:] if isinstance(r[0], int)}
    assert by_name["Nguyễn Thị Hồng Nhung"][4] == 0
    assert by_name["Lê Văn Ửng"][4] == 1
    assert attempt.score is not None  # no essay in this bank: graded on submit
    assert by_name["Lê Văn Ửng"][5] == f"{attempt.score:.2f}".replace(".", ",")
    assert by_name["Lê Văn Ửng"][6] == float(attempt.score)
    assert by_name["Lê Văn Ửng"][9] == "Không đạt"  # nothing answered

    done = _values(files[prefix + "04-danh-sach-hoan-thanh.xlsx"])
    assert done[1][1] == "Nguyễn Thị Hồng Nhung"
    assert done[1][5] == 9.0
    assert done[1][6] == "Xuất sắc"
    assert done[1][8] == cert.number_label
    assert all(r[1] != "Lê Văn Ửng" for r in done)

    register = _values(files[prefix + "05-so-cap-gcn.xlsx"])
    assert register[1][1] == cert.number_label
    assert register[1][4] == "Nguyễn Thị Hồng Nhung"

    text = pdf_text(files[prefix + "05-so-cap-gcn.pdf"])
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "SỔ CẤP GIẤY CHỨNG NHẬN",
        cert.number_label,
        "Lớp: HS-2025-01",
    ):
        assert expected in text, expected


def test_who_may_download(app, login, trainer, hr, admin, learner, create_user, unit):
    klass = make_class(trainer, "HS-2025-02", date(2025, 11, 4))
    enrol(klass, learner)
    url = f"/reports/classes/{klass.id}/dossier.zip"
    all_hr = create_user("tochuc-tinh", roles=(Role.hr,), unit=unit("CM-SNV"))
    scoped_trainer = create_user(
        "gv-xa", roles=(Role.trainer,), unit=unit("X-THOI-BINH"), scope=unit("X-THOI-BINH")
    )

    def status(user):
        c = app.test_client()
        if user is not None:
            login(user, c=c)
        return get(c, url)[0]

    assert status(None) == 302
    assert status(learner) == 404
    assert status(hr) == 404  # HR limited to a unit: a roster spans units
    assert status(scoped_trainer) == 404  # neither its trainer nor its module's editor
    assert status(trainer) == 200
    assert status(all_hr) == 200
    assert status(admin) == 200
    c = login(admin, c=app.test_client())
    assert get(c, "/reports/classes/999999/dossier.zip")[0] == 404
    assert dossier.can_download(trainer, klass)
    assert not dossier.can_download(hr, klass)


def test_empty_class_dossier(client, login, admin, trainer):
    klass = make_class(trainer, "HS/2025 03", date(2025, 11, 5), sessions=0)
    login(admin)
    status, _h, data = get(client, f"/reports/classes/{klass.id}/dossier.zip")
    assert status == 200
    files = _open(data)
    assert {n.split("/")[0] for n in files} == {"ho-so-lop-HS-2025-03"}
    assert len(files) == 7  # the five spreadsheets, the register PDF, the evaluations
    text = pdf_text(files["ho-so-lop-HS-2025-03/05-so-cap-gcn.pdf"])
    assert "SỔ CẤP GIẤY CHỨNG NHẬN" in text
