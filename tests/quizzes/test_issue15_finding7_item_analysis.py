"""Issue 15, finding 7: item analysis listed only question codes and reported Cronbach's alpha
0.800 from two learners without a word of caution. It shows the question text, says in words which
questions are too easy, too hard or discriminate badly, and says when too few learners took the
quiz for the figures to mean anything (fewer than analysis.MIN_LEARNERS)."""

import random
import re

from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.i18n import format_number
from learnhub.quizzes import analysis, services
from learnhub.timeutil import utcnow

BANK = """
::EASY:: Hà Nội là thủ đô của Việt Nam.{T}

::HARD:: Câu hỏi mẹo rất khó về <b>Nghị định</b> 80/2020/NĐ-CP.{T}

::GOOD1:: Liên hiệp các tổ chức hữu nghị là tổ chức chính trị - xã hội.{T}

::GOOD2:: Viện trợ phi chính phủ nước ngoài cần được phê duyệt.{T}

::NEG:: Câu hỏi có đáp án bị đặt sai.{T}
"""


def _right(name: str, n: int) -> bool:
    """Learners 0-9 know the subject, 10-19 do not; the NEG question rewards the wrong ones."""
    strong = n < 10
    return {
        "EASY": True,
        "HARD": n == 0,
        "GOOD1": strong,
        "GOOD2": strong,
        "NEG": not strong,
    }[name]


def _quiz(trainer, create_user, learners: int):
    actor = Actor(trainer)
    module = catalog.create_module(
        actor,
        "phan-tich-cau-hoi",
        {"title": "Phân tích", "category": "ky-nang", "summary": "x", "periods": 1},
        trainer,
    )
    services.import_gift(actor, module, BANK)
    quiz = services.quiz_of(module)
    now = utcnow()
    for n in range(learners):
        user = create_user()
        attempt = services.start_attempt(quiz, user, now, random.Random(n))
        for item in attempt.items:
            value = _right(item.snapshot["name"], n)
            services.save_answer(attempt, item.position, {"value": value}, now)
        services.submit_attempt(attempt, now)
    return quiz


def test_finding_7_two_learners_get_a_caution_and_no_verdicts(
    client, login, trainer, create_user, db_session
):
    quiz = _quiz(trainer, create_user, 2)
    login(trainer)
    html = client.get(f"/manage/quizzes/{quiz.id}/analysis").get_data(as_text=True)
    # The question text, shortened and without markup; not only its code.
    assert "Hà Nội là thủ đô của Việt Nam." in html
    assert "Câu hỏi mẹo rất khó về Nghị định 80/2020/NĐ-CP." in html
    assert "Chưa đủ số người làm bài để các chỉ số có ý nghĩa." in html
    assert f"cần ít nhất {analysis.MIN_LEARNERS} học viên" in html
    assert "(chưa đủ tin cậy)" in html
    assert "Chưa đủ dữ liệu" in html
    assert "Quá dễ" not in html.split("Cách đọc")[0]


def test_finding_7_enough_learners_get_verdicts_in_words(
    client, login, trainer, create_user, db_session
):
    quiz = _quiz(trainer, create_user, analysis.MIN_LEARNERS)
    stats, _alpha, count = analysis.analyse(quiz)
    assert count == analysis.MIN_LEARNERS
    flags = {s.name: s.flags for s in stats}
    assert flags["EASY"] == (analysis.Flag.too_easy,)
    assert analysis.Flag.too_hard in flags["HARD"]
    assert flags["GOOD1"] == flags["GOOD2"] == ()
    assert flags["NEG"] == (analysis.Flag.negative_discrimination,)

    login(trainer)
    html = client.get(f"/manage/quizzes/{quiz.id}/analysis").get_data(as_text=True)
    assert "Chưa đủ số người làm bài" not in html
    assert "Quá dễ: gần như ai cũng làm đúng" in html
    assert "Quá khó: rất ít người làm đúng" in html
    assert "Phân biệt ngược" in html
    assert "Đạt" in html
    # Facility and discrimination as Vietnamese numbers: a decimal comma, never a point.
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert not re.search(r"\d\.\d", table), table
    good = next(s for s in stats if s.name == "GOOD1")
    assert format_number(good.facility, 2, locale="vi") in table
    csv_text = client.get(f"/manage/quizzes/{quiz.id}/analysis?format=csv").get_data(as_text=True)
    assert "negative_discrimination" in csv_text
    assert f"learners,{analysis.MIN_LEARNERS}" in csv_text


def test_finding_7_short_text():
    assert analysis.short_text("<p>Một **hai**\n ba</p>") == "Một hai ba"
    long = analysis.short_text("chữ " * 100)
    assert len(long) == analysis.SHORT_TEXT
    assert long.endswith("…")
