"""GIFT: Moodle's own files parse here, and what LearnHub writes reads back the same."""

from decimal import Decimal
from pathlib import Path

import pytest

from learnhub.formats import gift
from tests.support import shared_testdata

CURRICULUM = sorted(
    (Path(__file__).resolve().parents[2] / "content" / "modules").glob("*/questions/*.gift")
)


def _read(name: str) -> list[gift.Question]:
    source = shared_testdata("moodle-gift", name).read_text(encoding="utf-8")
    questions, errors = gift.parse(source)
    assert errors == []
    return questions


def _by_name(questions, name):
    return next(q for q in questions if q.name == name)


def test_moodle_examples_all_parse():
    questions = _read("examples.txt")
    kinds = {k: sum(q.kind == k for q in questions) for k in gift.KINDS}
    assert len(questions) == 43
    assert kinds["single"] == 16
    assert kinds["numerical"] == 8
    assert kinds["matching"] == 3
    assert kinds["multi"] == 2


def test_moodle_fixture_all_parse():
    questions = _read("questions.gift.txt")
    assert [q.kind for q in questions] == [
        "essay",
        "matching",
        "single",
        "multi",
        "numerical",
        "short",
        "truefalse",
        "truefalse",
        "truefalse",
    ]
    matching = _by_name(questions, "Moodle activities")
    assert matching.text_format == "html"
    assert ("", "Chat") in matching.pairs  # a distractor
    colours = _by_name(questions, "colours")
    assert [a.weight for a in colours.answers] == [50, -100, 50, -100]
    tf = _by_name(questions, "Q1")
    assert tf.truth is False
    assert tf.feedback_wrong == "42 is the Ultimate Answer."
    assert tf.general_feedback.startswith("This is, of course")


def test_escaped_control_characters():
    q = _by_name(_read("examples.txt"), "GIFT Control Characters")
    assert [a.text for a in q.answers] == ["~", "=", "#", "{", "}", "\\"]
    assert q.answers[-1].weight == 100


def test_numerical_tolerance_and_range():
    questions = _read("examples.txt")
    pi = [q for q in questions if q.text.startswith("What is the value of pi")]
    assert pi[0].answers[0].text == "3.1415"
    assert pi[0].answers[0].tolerance == Decimal("0.0005")
    assert Decimal(pi[1].answers[0].text) == Decimal("3.1415")
    assert pi[1].answers[0].tolerance == Decimal("0.0005")


def test_missing_word_keeps_the_blank():
    q = _by_name(_read("examples.txt"), "Grant's Tomb")
    assert q.text == "Grant is _____ in Grant's tomb."


@pytest.mark.parametrize("name", ["examples.txt", "questions.gift.txt"])
def test_round_trip_gives_the_same_questions(name):
    questions = _read(name)
    again, errors = gift.parse(gift.write(questions))
    assert errors == []
    assert [q.identity() for q in again] == [q.identity() for q in questions]


@pytest.mark.parametrize("path", CURRICULUM, ids=lambda p: p.parent.parent.name)
def test_curriculum_banks_parse_and_round_trip(path):
    questions, errors = gift.parse(path.read_text(encoding="utf-8"))
    assert errors == []
    assert len(questions) >= 25
    assert len({q.category for q in questions}) >= 3
    for q in questions:
        assert q.general_feedback, q.name
    again, _ = gift.parse(gift.write(questions))
    assert [q.identity() for q in again] == [q.identity() for q in questions]


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("\n\n::A:: Broken {=yes ~no", 3, "Dấu ngoặc { } không cân đối"),
        ("::B:: Two blocks {=a ~b} and {=c ~d}", 1, "chỉ có một phần đáp án"),
        ("::C:: Weight {~%150%a =b}", 1, "nằm ngoài khoảng -100..100"),
        ("::D:: No credit {~a ~b}", 1, "Không lựa chọn nào được điểm"),
        ("::E:: Number {#abc}", 1, "không phải là một số"),
        ("::F:: Match {=a -> b}", 1, "ít nhất hai cặp"),
        ("::G:: Pair {=a b =c -> d}", 1, "thiếu dấu ->"),
        ("::H Broken name {T}", 1, "chưa được đóng"),
    ],
)
def test_malformed_questions_named_by_line(source, line, message):
    questions, errors = gift.parse(source)
    assert questions == []
    assert len(errors) == 1
    assert errors[0].line == line
    assert message in str(errors[0].message)


def test_refs_and_categories():
    source = (
        "$CATEGORY: $course$/top/Pháp luật\n\n"
        "// @ref Nghị định 58/2022/NĐ-CP, Điều 5\n"
        "::Q1:: Câu hỏi? {T}\n"
    )
    (q,), errors = gift.parse(source)
    assert errors == []
    assert q.category == "Pháp luật"
    assert q.refs == ("Nghị định 58/2022/NĐ-CP, Điều 5",)
