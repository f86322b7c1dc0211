"""Issue 17, finding 2 (and Build 2): one sign-in sheet. The attendance page's URLs serve the
class document "danh sách học viên ký tên" in the official frame: dated by the session, never by
the day it is printed; the total; the person who drew it up and the organiser's confirmation."""

import io

from docx import Document as Docx

from learnhub.reports import class_documents
from learnhub.timeutil import place_date
from tests.documents import pdfcheck
from tests.documents.test_documents import CODE, big_class  # noqa: F401 (fixture)


def _flat(data: bytes) -> str:
    return " ".join(pdfcheck.text(data).replace("\u00a0", " ").split())


def test_finding2_session_url_serves_the_class_document(client, login, trainer, big_class):  # noqa: F811
    training_class, people = big_class
    session = training_class.sessions[0]
    login(trainer)
    response = client.get(f"/manage/sessions/{session.id}/sheet.pdf")
    assert response.status_code == 200
    text = _flat(response.data)
    assert "DANH SÁCH HỌC VIÊN KÝ TÊN" in text
    assert place_date("Cà Mau", session.on) in text
    assert "In ngày" not in text
    assert "Buổi 1," in text
    assert "Buổi 2," not in text
    assert f"Tổng số: {len(people)} học viên." in text
    assert "NGƯỜI LẬP DANH SÁCH" in text
    assert "XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC" in text
    assert "Quyết định số 123/QĐ-SNV ngày 02/03/2026 về việc mở lớp" in text
    # The same words as the class document of that session (one builder).
    doc = class_documents.build(training_class, "danh-sach-ky-ten", session.number)
    assert _flat(class_documents.pdf_bytes(doc)) == text


def test_finding2_class_url_one_page_set_per_session(client, login, trainer, big_class):  # noqa: F811
    training_class, people = big_class
    login(trainer)
    response = client.get(f"/manage/classes/{training_class.id}/sheet.pdf")
    assert response.status_code == 200
    assert "danh-sach-ky-ten-" in response.headers["Content-Disposition"]
    text = _flat(response.data)
    for s in training_class.sessions:
        assert place_date("Cà Mau", s.on) in text
        assert f"Buổi {s.number}," in text
    assert text.count("DANH SÁCH HỌC VIÊN KÝ TÊN") == len(training_class.sessions)
    assert text.count(f"Tổng số: {len(people)} học viên.") == len(training_class.sessions)
    assert text.count("XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC") == len(training_class.sessions)
    assert "KÝ NHẬN" not in text
    assert "·" not in text


def test_finding2_the_docx_carries_the_same_blocks(big_class):  # noqa: F811
    training_class, people = big_class
    doc = class_documents.build(training_class, "danh-sach-ky-ten", 1)
    docx = Docx(io.BytesIO(class_documents.docx_bytes(doc)))
    words = [p.text for p in docx.paragraphs]
    for table in docx.tables:
        for row in table.rows:
            words += [cell.text for cell in row.cells]
    text = " ".join(" ".join(words).split())
    assert "NGƯỜI LẬP DANH SÁCH" in text
    assert "XÁC NHẬN CỦA ĐƠN VỊ TỔ CHỨC" in text
    assert f"Tổng số: {len(people)} học viên." in text
    assert CODE in text


def test_finding2_a_session_of_another_class_or_outside_is_404(client, login, trainer, big_class):  # noqa: F811
    login(trainer)
    assert client.get("/manage/sessions/999999/sheet.pdf").status_code == 404


def test_finding2_pages_never_call_the_sheet_a_receipt(client, login, trainer, big_class):  # noqa: F811
    """ "Danh sách ký nhận" (signing for receipt) is not what learners sign at a session."""
    training_class, _people = big_class
    login(trainer)
    for url in (
        f"/manage/classes/{training_class.id}",
        f"/manage/classes/{training_class.id}/paper",
    ):
        page = client.get(url).get_data(as_text=True)
        assert "ký nhận" not in page, url
    assert "Danh sách học viên ký tên" in client.get(
        f"/manage/classes/{training_class.id}"
    ).get_data(as_text=True)
