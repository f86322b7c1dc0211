"""The question editor (issue 15, build 3): every type in a plain form, Vietnamese validation,
a preview as the learner sees it, revisions that leave finished attempts as they were."""

import copy
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.formats import gift
from learnhub.quizzes import editor, kinds, services
from learnhub.quizzes.models import Question
from tests.support import csrf_token

A = editor.AnswerRow
P = editor.PairRow


def _draft(kind: str, **kw) -> editor.Draft:
    return editor.Draft(kind=kind, **{"text": "Câu hỏi?", **kw})


#: One valid draft of every type the editor offers, and what a learner must answer to get it right.
VALID = {
    "single": _draft(
        "single",
        answers=[A("Bộ Ngoại giao", "100", "Đúng"), A("Bộ Nội vụ", "", "Sai"), A("UBND tỉnh")],
    ),
    "multi": _draft(
        "multi",
        answers=[A("Hà Nội", "50"), A("Huế", "50"), A("Paris", "-100", "Không phải")],
    ),
    "truefalse": _draft("truefalse", truth="true", feedback_right="Đúng", feedback_wrong="Sai"),
    "short": _draft("short", answers=[A("VUFO"), A("Liên hiệp*", "50")]),
    "numerical": _draft(
        "numerical",
        answers=[A("2,5", "", "", "0,1"), A("", "50", "Gần đúng", "", "2", "3")],
        feedback_other="Sai",
    ),
    "matching": _draft(
        "matching",
        pairs=[P("Hà Nội", "Thủ đô"), P("Cà Mau", "Mũi đất"), P("", "Gây nhiễu")],
    ),
    "missing": _draft(
        "missing",
        text="Thủ đô của Việt Nam là _____ .",
        answers=[A("Hà Nội", "100"), A("Huế")],
    ),
    "essay": _draft("essay", general_feedback="Nêu đủ ba ý."),
}


@pytest.mark.parametrize("kind", kinds.EDITOR_KINDS)
def test_every_type_builds_and_survives_gift_round_trip(kind):
    q = editor.build(VALID[kind])
    assert kinds.editor_kind(q.as_data()) == kind
    again, errors = gift.parse(gift.write([q]))
    assert errors == []
    assert [x.identity() for x in again] == [q.identity()]
    # The editor shows the stored question as it was typed (numbers normalised).
    assert editor.build(editor.draft_of(q.as_data())).identity() == q.identity()


def test_numerical_tolerance_and_range_are_read_as_typed():
    q = editor.build(VALID["numerical"])
    assert [(a.text, a.tolerance, a.weight) for a in q.answers] == [
        ("2.5", Decimal("0.1"), Decimal(100)),
        ("2.5", Decimal("0.5"), Decimal(50)),
        ("*", None, Decimal(0)),
    ]


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (_draft("single", text=""), "Hãy nhập nội dung câu hỏi."),
        (_draft("single", answers=[A("Một", "100")]), "cần ít nhất hai phương án"),
        (
            _draft("single", answers=[A("Một", "50"), A("Hai")]),
            "Cần một đáp án đúng với điểm 100 %",
        ),
        (
            _draft("multi", answers=[A("Một", "50"), A("Hai", "30"), A("Ba")]),
            "Tổng điểm các đáp án đúng phải bằng 100 % (hiện là 80 %)",
        ),
        (_draft("multi", answers=[A("Một"), A("Hai", "-50")]), "Cần ít nhất một đáp án đúng"),
        (_draft("single", answers=[A("Một", "abc"), A("Hai")]), "Đáp án 1: điểm phải là một số"),
        (_draft("single", answers=[A("Một", "150"), A("Hai")]), "từ -100 đến 100"),
        (
            _draft("single", answers=[A("", "100", "chỉ phản hồi"), A("Hai")]),
            "Đáp án 1 chưa có nội dung",
        ),
        (_draft("short", answers=[A("x", "50")]), "được chấp nhận với điểm 100 %"),
        (_draft("numerical", answers=[A("5", "", "", "-1")]), "sai số phải lớn hơn hoặc bằng 0"),
        (_draft("numerical", answers=[A("năm")]), "giá trị phải là một số"),
        (_draft("numerical", answers=[A("", "", "", "", "3", "2")]), "đầu khoảng phải nhỏ hơn"),
        (_draft("numerical", answers=[A("5", "", "", "", "3", "6")]), "không nhập cả hai"),
        (_draft("matching", pairs=[P("Một", "1"), P("", "2")]), "cần ít nhất hai cặp"),
        (_draft("matching", pairs=[P("Một", "1"), P("Hai", "")]), "Cặp 2: thiếu vế phải"),
        (_draft("missing", answers=[A("a", "100"), A("b")]), "chỗ trống"),
        (_draft("truefalse"), "Hãy chọn đáp án: Đúng hoặc Sai."),
        (editor.Draft(kind="cloze", text="x"), "Loại câu hỏi không hợp lệ."),
    ],
)
def test_validation_says_what_is_wrong_in_vietnamese(draft, message):
    with pytest.raises(editor.QuestionInvalid) as caught:
        editor.build(draft)
    assert any(message in e for e in caught.value.errors), caught.value.errors


def test_a_third_each_counts_as_one_hundred_percent():
    draft = _draft("multi", answers=[A("a", "33,33333"), A("b", "33.33333"), A("c", "33.33333")])
    assert editor.build(draft).kind == "multi"


# -- the editor over HTTP -------------------------------------------------------------------


def _form(draft: editor.Draft, token: str, action: str = "save", **extra) -> dict:
    data = {
        "csrf_token": token,
        "action": action,
        "kind": draft.kind,
        "text": draft.text,
        "name": draft.name,
        "category": draft.category,
        "general_feedback": draft.general_feedback,
        "refs": draft.refs,
        "truth": draft.truth,
        "feedback_right": draft.feedback_right,
        "feedback_wrong": draft.feedback_wrong,
        "feedback_other": draft.feedback_other,
        **extra,
    }
    for i, row in enumerate(draft.answers):
        for key, value in vars(row).items():
            data[f"answers-{i}-{key}"] = value
    for i, pair in enumerate(draft.pairs):
        data[f"pairs-{i}-left"], data[f"pairs-{i}-right"] = pair.left, pair.right
    return data


@pytest.fixture
def editor_page(client, login, admin, quiz_module):
    login(admin)
    url = f"/manage/modules/{quiz_module.id}/questions/new"
    return url, csrf_token(client, url)


@pytest.mark.parametrize("kind", kinds.EDITOR_KINDS)
def test_trainer_adds_each_type_in_the_browser(client, editor_page, quiz_module, db_session, kind):
    url, token = editor_page
    page = client.get(f"{url}?kind={kind}").get_data(as_text=True)
    assert str(kinds.TYPE_NAMES[kind]) in page
    draft = copy.deepcopy(VALID[kind])
    draft.category, draft.refs = "Pháp luật", "Nghị định 12/2012/NĐ-CP\n"
    response = client.post(url, data=_form(draft, token))
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db_session.scalars(
        select(Question).where(Question.module_id == quiz_module.id).order_by(Question.id.desc())
    ).first()
    assert kinds.editor_kind(row.data) == kind
    assert (row.category, row.data["refs"], row.data["revision"]) == (
        "Pháp luật",
        ["Nghị định 12/2012/NĐ-CP"],
        1,
    )
    assert row.source_hash == services.question_hash(editor.build(draft))
    bank = client.get(response.location).get_data(as_text=True)
    assert str(kinds.TYPE_NAMES[kind]) in bank
    event = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "question.create")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.object_id == str(row.id)


def test_invalid_question_shows_vietnamese_errors_and_stores_nothing(
    client, editor_page, quiz_module, db_session
):
    url, token = editor_page
    before = len(services.active_questions(quiz_module))
    draft = _draft("multi", answers=[A("Một", "50"), A("Hai", "30")])
    response = client.post(url, data=_form(draft, token))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tổng điểm các đáp án đúng phải bằng 100 % (hiện là 80 %)." in html
    # What was typed is still there to correct.
    assert 'value="Một"' in html
    assert len(services.active_questions(quiz_module)) == before


def test_add_row_button_grows_the_form_without_javascript(client, editor_page):
    url, token = editor_page
    draft = _draft("single", answers=[A("Một", "100"), A("Hai")])
    html = client.post(url, data=_form(draft, token, action="add")).get_data(as_text=True)
    assert 'name="answers-2-text"' in html
    assert 'value="Một"' in html


def test_preview_renders_the_learner_markup(client, editor_page, quiz_module):
    url, token = editor_page
    html = client.post(url, data=_form(VALID["matching"], token, action="preview")).get_data(
        as_text=True
    )
    preview = html[html.index('class="card preview"') :]
    assert "Câu 1. Câu hỏi?" in preview
    # The same select as on the attempt page: one per left item, every right side offered.
    assert len(re.findall(r'<select id="m1-\d" name="pair-\d">', preview)) == 2
    assert preview.count("Gây nhiễu") >= 1
    assert len(services.active_questions(quiz_module)) == 6  # nothing stored


def test_same_question_twice_is_refused(client, editor_page, quiz_module):
    url, token = editor_page
    assert client.post(url, data=_form(VALID["essay"], token)).status_code == 302
    html = client.post(url, data=_form(VALID["essay"], token)).get_data(as_text=True)
    assert "Ngân hàng đã có một câu hỏi giống hệt câu này." in html


# -- revisions: finished attempts keep what the learner answered ----------------------------


def test_editing_a_question_keeps_finished_attempts_on_their_version(
    app, client, login, admin, learner, quiz, now, rng, db_session
):
    attempt = services.start_attempt(quiz, learner, now, rng)
    mc = next(i for i in attempt.items if i.snapshot["name"] == "MC")
    services.save_answer(attempt, mc.position, {"choice": 0}, now)
    services.submit_attempt(attempt, now)
    services.grade_essay(Actor(admin), attempt.items[-1], Decimal(10), "")
    score, frozen = attempt.score, dict(mc.snapshot)

    login(admin)
    url = f"/manage/questions/{mc.question_id}"
    page = client.get(url).get_data(as_text=True)
    assert "đã có trong 1 lượt làm bài" in page
    draft = editor.draft_of(mc.question.data)
    draft.text = "Cơ quan nào cấp phép? (đã sửa)"
    draft.answers[0].weight, draft.answers[1].weight = "0", "100"
    response = client.post(url, data=_form(draft, csrf_token(client, url)))
    assert response.status_code == 302
    db_session.expire_all()

    question = db_session.get(Question, mc.question_id)
    assert (question.data["revision"], question.text) == (2, "Cơ quan nào cấp phép? (đã sửa)")
    assert mc.snapshot == frozen
    assert attempt.score == score
    # The learner's review shows what they answered, not the new text.
    other = app.test_client()
    login(learner, c=other)
    quiz.review_after_submit = "full"
    review = other.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Cơ quan nào cấp Giấy đăng ký?" in review
    assert "đã sửa" not in review
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "question.update", AuditEvent.object_id == str(question.id)
        )
    ).one()
    assert (event.before["revision"], event.after["revision"]) == (1, 2)


def test_saving_unchanged_question_makes_no_new_revision(client, login, admin, quiz_module):
    question = services.active_questions(quiz_module)[0]
    login(admin)
    url = f"/manage/questions/{question.id}"
    draft = editor.draft_of(question.data)
    assert client.post(url, data=_form(draft, csrf_token(client, url))).status_code == 302
    assert question.revision == 1


def test_bank_of_a_browser_module_keeps_its_quiz(client, login, admin, db_session):
    """Stop-gap for finding 1: the quiz made when the bank is shown is kept (settings opens)."""
    login(admin)
    token = csrf_token(client, "/manage/modules/new")
    response = client.post(
        "/manage/modules/new",
        data={
            "csrf_token": token,
            "slug": "soan-tren-trinh-duyet",
            "title": "Soạn trên trình duyệt",
            "category": "ky-nang",
            "summary": "Tóm tắt.",
            "periods": "2",
        },
    )
    module_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    bank = client.get(f"/manage/modules/{module_id}/questions").get_data(as_text=True)
    settings = re.search(r'href="(/manage/quizzes/\d+/settings)"', bank).group(1)
    db_session.rollback()
    assert client.get(settings).status_code == 200
