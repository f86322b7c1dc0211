"""Moodle XML: Moodle's own fixtures import with the counts Moodle's tests give, the broken ones are
refused; every question type, exported and read back, is the same question (GIFT and XML)."""

from decimal import Decimal
from pathlib import Path

import pytest

from learnhub.formats import gift, moodlexml
from learnhub.formats.question import Answer, Question

XML_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "moodle-xml"


def _read(name: str) -> moodlexml.Result:
    path = XML_DIR / name
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return moodlexml.parse(path.read_bytes())


# file -> (imported question names, skipped as unsupported, categories) as the README says
FIXTURES = {
    "truefalse.xml": (["Moodle acronym (False)", "Moodle acronym (True)"], 0, 1),
    "multichoice.xml": (["Greeting"], 0, 1),
    "multianswer.xml": ([], 1, 1),
    "sample_questions_with_old_image_tag.xml": (["mcq with image"], 1, 1),
    "category_with_description.xml": (["Alpha Question"], 0, 1),
    "export_category.xml": (["Alpha Question"], 0, 1),
    "nested_categories.xml": (["Zeta Question"], 0, 3),
    "old_format_file.xml": (["Pi Question", "Rho Question"], 0, 2),
    "categories_reverse_order.xml": (["Tau Question", "Sigma Question"], 0, 2),
    "nested_categories_with_questions.xml": (
        [
            "Iota Question",
            "Kappa Essay Question",
            "Kappa Question",
            "Lambda Question",
            "Mu Question",
        ],
        0,
        4,
    ),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_moodle_fixture_imports_with_moodles_counts(name):
    names, skipped, categories = FIXTURES[name]
    result = _read(name)
    assert result.errors == []
    assert [q.name for q in result.questions] == names
    assert len(result.skipped) == skipped
    assert all(s.line > 0 and s.name for s in result.skipped)
    assert len(result.categories) == categories


def test_nested_categories_land_where_moodle_puts_them():
    result = _read("nested_categories_with_questions.xml")
    placed = {q.name: q.category for q in result.questions}
    assert placed["Lambda Question"] == "Iota/Kappa/Lambda"
    assert placed["Mu Question"] == "Iota/Mu"
    reverse = {q.name: q.category for q in _read("categories_reverse_order.xml").questions}
    assert reverse == {"Tau Question": "Sigma/Tau", "Sigma Question": "Sigma"}


def test_truefalse_fixture_reads_text_and_feedback():
    by_name = {q.name: q for q in _read("truefalse.xml").questions}
    assert by_name["Moodle acronym (True)"].truth is True
    assert by_name["Moodle acronym (False)"].truth is False
    assert "Learning Environment" in by_name["Moodle acronym (True)"].text


def test_error_invalid_grades_is_refused_with_its_line():
    result = _read("error_invalid_grades.xml")
    assert result.questions == []
    assert len(result.errors) == 1
    assert result.errors[0].line == 38
    assert "(33)" in str(result.errors[0].message)
    assert "Question with <strong>invalid grades</strong>" in str(result.errors[0].message)


def test_broken_cloze_questions_are_refused_each_by_line():
    result = _read("broken_cloze_questions.xml")
    assert result.questions == []
    assert [e.line for e in result.errors] == [4, 20, 36, 52, 68]
    messages = [str(e.message) for e in result.errors]
    assert "ít nhất một chỗ trống" in messages[0]
    assert "ít nhất 2 lựa chọn" in messages[1]
    assert "100%" in messages[3]
    assert "phải là một số" in messages[4]


def test_a_dtd_is_refused_and_no_entity_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]><quiz>&b;</quiz>'
    )
    result = moodlexml.parse(bomb)
    assert result.questions == []
    assert result.errors
    assert "DOCTYPE" in str(result.errors[0].message)


def test_not_xml_is_refused_with_its_line():
    result = moodlexml.parse("<quiz>\n<question type='essay'>\n</quiz>")
    assert result.errors[0].line == 3


EVERY_TYPE = [
    Question(
        1,
        "single",
        "Một đáp án",
        "Thủ đô là _____.",
        "Địa lý",
        answers=(Answer("Hà Nội", Decimal(100), "Đúng"), Answer("Huế", Decimal(0), "Sai")),
        general_feedback="Hà Nội là thủ đô.",
        refs=("Hiến pháp 2013, Điều 53",),
    ),
    Question(
        1,
        "multi",
        "Nhiều đáp án",
        "Chọn số nguyên tố {2, 3}: a & b < c",
        "Toán/Số",
        "html",
        answers=(
            Answer("2", Decimal(50), "một"),
            Answer("3", Decimal(50)),
            Answer("4", Decimal(-100), "không"),
        ),
    ),
    Question(
        1,
        "truefalse",
        "Đúng sai",
        "Trời xanh.",
        truth=True,
        feedback_wrong="Sai",
        feedback_right="Có",
    ),
    Question(1, "truefalse", "Sai đúng", "Trời đỏ.", truth=False, feedback_right="Đúng là sai"),
    Question(
        1,
        "short",
        "Ngắn",
        "Viết tắt?",
        answers=(Answer("VUFO", Decimal(100), "Đúng"), Answer("vufo", Decimal(50))),
    ),
    Question(
        1,
        "numerical",
        "Số",
        "Năm?",
        answers=(
            Answer("2011", Decimal(100), "Đúng", Decimal(0)),
            Answer("2010.5", Decimal(50), "Gần", Decimal("1.5")),
            Answer("*", Decimal(0), "Không phải"),
        ),
    ),
    Question(
        1,
        "matching",
        "Ghép",
        "Ghép tỉnh với thủ phủ:",
        "plain",
        pairs=(("Cà Mau", "Cà Mau"), ("Bạc Liêu", "Bạc Liêu"), ("", "Sóc Trăng")),
        general_feedback="Ghép đúng.",
    ),
    Question(1, "essay", "Tự luận", "Viết bài thu hoạch.", general_feedback="Chấm tay."),
    Question(1, "description", "Mô tả", "Phần này chỉ là lời dẫn."),
]


@pytest.mark.parametrize("fmt", ["gift", "xml"])
@pytest.mark.parametrize("question", EVERY_TYPE, ids=lambda q: q.kind + "-" + q.name)
def test_every_type_round_trips(fmt, question):
    if fmt == "gift":
        again, errors = gift.parse(gift.write([question]))
    else:
        result = moodlexml.parse(moodlexml.write([question]))
        again, errors = result.questions, result.errors
    assert errors == []
    assert [q.identity() for q in again] == [question.identity()]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_moodle_fixture_questions_round_trip_through_both_formats(name):
    questions = _read(name).questions
    again = moodlexml.parse(moodlexml.write(questions))
    assert [q.identity() for q in again.questions] == [q.identity() for q in questions]
    back, errors = gift.parse(gift.write(questions))
    assert errors == []
    assert [q.identity() for q in back] == [q.identity() for q in questions]
