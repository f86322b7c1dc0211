"""The bank import of GIFT and Moodle XML files through the bank page: NFC, exact reports,
refusals by line in the trainer's language (findings 3 and 4), and the XML export."""

import unicodedata

from sqlalchemy import func, select

from learnhub.formats import gift, moodlexml
from learnhub.quizzes import services
from learnhub.quizzes.models import Question
from tests.quizzes.conftest import BANK
from tests.support import csrf_token, multipart, shared_testdata


def _upload(client, module, data: bytes, filename: str):
    token = csrf_token(client, f"/manage/modules/{module.id}/questions")
    body, ctype = multipart({"csrf_token": token}, {"file": (data, filename)})
    return client.post(
        f"/manage/modules/{module.id}/questions/import",
        data=body,
        content_type=ctype,
        follow_redirects=True,
    )


def _rows(db_session, module) -> int:
    stmt = select(func.count()).select_from(Question).where(Question.module_id == module.id)
    return db_session.scalar(stmt)


def test_finding3_examples_import_reports_exactly_what_it_stored(
    client, login, trainer, quiz_module, db_session
):
    login(trainer)
    before = _rows(db_session, quiz_module)
    data = shared_testdata("moodle-gift", "examples.txt").read_bytes()
    page = _upload(client, quiz_module, data, "examples.txt").get_data(as_text=True)
    stored = _rows(db_session, quiz_module) - before
    assert stored == 34
    # Moodle reads 43 questions; 9 of them repeat an earlier one word for word.
    assert "34 câu hỏi mới, 0 cập nhật, 9 bỏ qua (9 câu lặp lại trong tệp)" in page


def test_finding3_nfd_bank_uploaded_is_stored_in_nfc_without_duplicates(
    client, login, trainer, quiz_module, db_session
):
    login(trainer)
    before = _rows(db_session, quiz_module)
    nfd = unicodedata.normalize("NFD", BANK).encode()
    page = _upload(client, quiz_module, nfd, "bank.gift").get_data(as_text=True)
    assert "0 câu hỏi mới, 0 cập nhật, 6 bỏ qua (6 câu đã có trong ngân hàng)" in page
    assert _rows(db_session, quiz_module) == before
    for q in db_session.scalars(select(Question).where(Question.module_id == quiz_module.id)):
        assert unicodedata.is_normalized("NFC", q.name + q.category + str(q.data))


def test_moodle_xml_upload_imports_and_names_what_it_skips(
    client, login, trainer, quiz_module, db_session
):
    login(trainer)
    data = shared_testdata("moodle-xml", "nested_categories_with_questions.xml").read_bytes()
    page = _upload(client, quiz_module, data, "iota.xml").get_data(as_text=True)
    assert "5 câu hỏi mới, 0 cập nhật, 0 bỏ qua" in page
    cats = {q.name: q.category for q in services.active_questions(quiz_module)}
    assert cats["Lambda Question"] == "Iota/Kappa/Lambda"
    data = shared_testdata("moodle-xml", "sample_questions_with_old_image_tag.xml").read_bytes()
    page = _upload(client, quiz_module, data, "images.xml").get_data(as_text=True)
    assert "1 câu hỏi mới, 0 cập nhật, 1 bỏ qua (dòng 16" in page
    assert "Cloze chưa được hỗ trợ" in page


def test_moodle_xml_with_invalid_grades_is_refused_by_line(
    client, login, trainer, quiz_module, db_session
):
    login(trainer)
    before = _rows(db_session, quiz_module)
    data = shared_testdata("moodle-xml", "error_invalid_grades.xml").read_bytes()
    response = _upload(client, quiz_module, data, "grades.xml")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Dòng 38" in page
    assert "không khớp với các mức điểm" in page
    assert _rows(db_session, quiz_module) == before


def test_finding4_parser_messages_follow_the_trainers_language(client, login, trainer, quiz_module):
    login(trainer)
    broken = "::A:: Hỏi {=a {b} ~c}".encode()
    vi = _upload(client, quiz_module, broken, "x.gift").get_data(as_text=True)
    assert "Phần đáp án không được chứa dấu { chưa thoát" in vi
    with client.session_transaction() as session:
        session["lang"] = "en"
    en = _upload(client, quiz_module, broken, "x.gift").get_data(as_text=True)
    assert "an answer block cannot contain an unescaped {" in en


def test_bank_exported_as_xml_and_gift_reads_back_the_same(client, login, trainer, quiz_module):
    login(trainer)
    bank = [q.identity() for q in services.bank_questions(quiz_module)]
    response = client.get(f"/manage/modules/{quiz_module.id}/questions.xml")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert [q.identity() for q in moodlexml.parse(response.data).questions] == bank
    text = client.get(f"/manage/modules/{quiz_module.id}/questions.gift").get_data(as_text=True)
    assert [q.identity() for q in gift.parse(text)[0]] == bank
