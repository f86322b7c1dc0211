"""A review of an attempt shows what was answered beside the key, for every kind of question
(grading.shown_answer): the learner's own review, and the page where those who grade a quiz see
a learner's attempt, in progress or submitted (/manage/attempts/<id>), reached from the quiz's
results, which list the learners by name as Vietnamese sorts them."""

import html as html_lib
import re

from learnhub.quizzes import services
from learnhub.quizzes.grading import ShownAnswer, ShownChoice, ShownPair, shown_answer
from learnhub.quizzes.models import Attempt
from learnhub.timeutil import utcnow


def _answers(*pairs) -> list[dict]:
    return [{"text": text, "weight": weight, "feedback": ""} for text, weight in pairs]


def test_every_kind_reads_as_answered_beside_the_key():
    single = {"kind": "single", "answers": _answers(("A", "100"), ("B", "0"), ("C", "0"))}
    assert shown_answer(single, [2, 0, 1], {"choice": 1}) == ShownAnswer(
        "single",
        True,
        choices=(
            ShownChoice("C", chosen=False, correct=False),
            ShownChoice("A", chosen=True, correct=True),
            ShownChoice("B", chosen=False, correct=False),
        ),
    )
    multi = {"kind": "multi", "answers": _answers(("A", "50"), ("B", "50"), ("C", "-100"))}
    assert shown_answer(multi, [1, 2, 0], {"choices": [0, 1]}).choices == (
        ShownChoice("B", chosen=True, correct=True),
        ShownChoice("C", chosen=True, correct=False),
        ShownChoice("A", chosen=False, correct=True),
    )
    assert shown_answer(multi, [1, 2, 0], None).answered is False
    truefalse = {"kind": "truefalse", "truth": True, "answers": []}
    assert shown_answer(truefalse, [], {"value": False}) == ShownAnswer(
        "truefalse", True, value=False, truth=True
    )
    assert shown_answer(truefalse, [], None) == ShownAnswer("truefalse", False, truth=True)
    short = {"kind": "short", "answers": _answers(("VUFO", "100"), ("Vufo", "50"))}
    assert shown_answer(short, [], {"text": "vufo"}) == ShownAnswer(
        "short", True, text="vufo", accepted=("VUFO",)
    )
    numerical = {"kind": "numerical", "answers": _answers(("2011", "100"), ("*", "0"))}
    assert shown_answer(numerical, [], {"text": "2010"}).accepted == ("2011",)
    essay = {"kind": "essay", "answers": []}
    assert shown_answer(essay, [], {"text": "Bài thu hoạch."}).answered is True
    assert shown_answer(essay, [], {"text": "   "}).answered is False
    matching = {
        "kind": "matching",
        "answers": [],
        "pairs": [["Bộ Ngoại giao", "cấp giấy"], ["Sở Nội vụ", "bồi dưỡng"], ["", "làm đường"]],
    }
    # Shown in the order [2, 0, 1]: "làm đường", "cấp giấy", "bồi dưỡng".
    assert shown_answer(matching, [2, 0, 1], {"pairs": {"0": 1, "1": 0}}).pairs == (
        ShownPair("Bộ Ngoại giao", chosen="cấp giấy", correct="cấp giấy"),
        ShownPair("Sở Nội vụ", chosen="làm đường", correct="bồi dưỡng"),
    )
    assert shown_answer(matching, [2, 0, 1], {"pairs": {"1": 2}}).pairs[0].chosen is None


def _item(attempt: Attempt, name: str):
    return next(i for i in attempt.items if i.snapshot["name"] == name)


def _save(client, attempt_id: int, position: int, token: str, answer: dict) -> None:
    response = client.post(
        f"/attempts/{attempt_id}/items/{position}", json=answer, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _text(response) -> str:
    """The page's text, tags dropped and spaces collapsed (as a reader reads it)."""
    assert response.status_code == 200, response.status_code
    body = response.get_data(as_text=True).split("<main", 1)[-1]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_learner_sees_what_they_answered_of_every_kind(client, started, db_session, quiz):
    attempt_id, token = started
    quiz.review_after_submit = "full"
    attempt = db_session.get(Attempt, attempt_id)
    _save(client, attempt_id, _item(attempt, "TF").position, token, {"value": False})
    _save(client, attempt_id, _item(attempt, "SA").position, token, {"text": "Vufo"})
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    text = _text(client.get(f"/attempts/{attempt_id}/review"))
    # A true/false question showed only its key: what the learner answered was not there.
    assert "Bạn trả lời: Sai · Đáp án: Đúng" in text
    assert "Bạn trả lời: Vufo · Đáp án: VUFO" in text
    assert "chưa trả lời" in text  # the questions left blank say so
    assert "học viên" not in text.lower()


def test_the_trainer_sees_a_learners_attempt_in_progress_and_submitted(
    app, client, started, login, trainer, db_session, quiz
):
    attempt_id, token = started
    quiz.review_after_submit = "nothing"  # the learner sees nothing; the trainer sees all
    attempt = db_session.get(Attempt, attempt_id)
    _save(client, attempt_id, _item(attempt, "MC").position, token, {"choice": 1})
    staff = app.test_client()
    login(trainer, c=staff)
    url = f"/manage/attempts/{attempt_id}"
    text = _text(staff.get(url))
    assert "Nguyễn Thị Hồng Nhung · lần 1" in text
    assert "Đang làm bài. Đã trả lời 1/6 câu." in text
    assert "Bộ Nội vụ ← học viên chọn" in text  # the second choice as shown (no shuffling)
    assert "Chấm bài thu hoạch" not in text  # nothing to grade before it is submitted
    essay = _item(attempt, "ESSAY")
    _save(client, attempt_id, essay.position, token, {"text": "Bài thu hoạch của tôi."})
    _save(client, attempt_id, _item(attempt, "TF").position, token, {"value": True})
    client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    text = _text(staff.get(url))
    assert "Nộp lúc" in text
    assert "Bài thu hoạch chờ chấm" in text
    assert "Học viên trả lời: Đúng · Đáp án: Đúng" in text
    assert "Bài thu hoạch của tôi." in text
    page = staff.get(url).get_data(as_text=True)
    assert f"/manage/attempts/{attempt_id}/items/{essay.position}/grade" in page
    # The learner cannot open it, nor see more of their own than the quiz allows.
    assert client.get(url).status_code == 403
    assert "Bộ Nội vụ" not in _text(client.get(f"/attempts/{attempt_id}/review"))


def test_the_results_list_learners_by_name_each_to_their_attempt(
    app, client, login, trainer, create_user, unit, db_session, quiz
):
    # Created in the other order, so that the ids do not give the order away.
    binh = create_user("hv-binh", full_name="Nguyễn Thị Bình", unit=unit("CM-SNV"))
    an = create_user("hv-an", full_name="Trần Văn An", unit=unit("CM-SNV"))
    attempts = {
        person.full_name: services.start_attempt(quiz, person, utcnow()) for person in (binh, an)
    }
    db_session.flush()
    login(trainer)
    page = client.get(f"/manage/quizzes/{quiz.id}/results").get_data(as_text=True)
    assert page.index("Trần Văn An") < page.index("Nguyễn Thị Bình")  # An before Bình
    for name, attempt in attempts.items():
        assert f'<a href="/manage/attempts/{attempt.id}">{name}</a>' in page
