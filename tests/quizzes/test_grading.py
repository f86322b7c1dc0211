"""Grading each question type (pure functions)."""

from decimal import Decimal

import pytest

from learnhub.formats import gift
from learnhub.quizzes import grading


def _snap(source: str) -> dict:
    (q,), errors = gift.parse(source)
    assert errors == []
    return q.as_data()


def test_single_choice_with_partial_credit():
    snap = _snap("::Q:: Jesus was from {~Jerusalem ~%50%Galilee =Nazareth}")
    order = [2, 0, 1]  # displayed: Nazareth, Jerusalem, Galilee
    assert grading.grade(snap, order, {"choice": 0}) == 1
    assert grading.grade(snap, order, {"choice": 1}) == 0
    assert grading.grade(snap, order, {"choice": 2}) == Decimal("0.5")
    assert grading.grade(snap, order, None) == 0


def test_multiple_response_with_negative_weights():
    snap = _snap("::Q:: Who? {~%-50%No one ~%50%Grant ~%50%Grant's wife ~%-50%Grant's father}")
    order = [0, 1, 2, 3]
    assert grading.grade(snap, order, {"choices": [1, 2]}) == 1
    assert grading.grade(snap, order, {"choices": [1]}) == Decimal("0.5")
    assert grading.grade(snap, order, {"choices": [1, 3]}) == 0
    assert grading.grade(snap, order, {"choices": [0, 1, 2, 3]}) == 0


def test_true_false():
    snap = _snap("::Q:: The sun rises in the east.{T#Sai rồi#Đúng}")
    assert grading.grade(snap, [], {"value": True}) == 1
    assert grading.grade(snap, [], {"value": False}) == 0
    assert grading.feedback_for(snap, [], {"value": False}) == ["Sai rồi"]


def test_short_answer_nfc_case_and_accents():
    snap = _snap("::Q:: Cơ quan cấp phép? {=Bộ Ngoại giao =%50%Ngoại giao}")
    assert grading.grade(snap, [], {"text": "  bộ   NGOẠI giao "}) == 1
    assert grading.grade(snap, [], {"text": "Ngoại giao"}) == Decimal("0.5")
    assert grading.grade(snap, [], {"text": "Bo Ngoai giao"}) == 0
    assert grading.grade({**snap}, [], {"text": "Bo Ngoai giao"}, ignore_accents=True) == 1
    decomposed = "Bộ Ngoại giao".encode().decode()
    import unicodedata

    assert grading.grade(snap, [], {"text": unicodedata.normalize("NFD", decomposed)}) == 1


def test_short_answer_wildcard():
    snap = _snap("::Q:: Animal? {=Frog =%50%*cat*}")
    assert grading.grade(snap, [], {"text": "wildcats"}) == Decimal("0.5")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1822", 1), ("1820", Decimal("0.5")), ("1822 năm", 0), ("abc", 0), ("1822.0", 1)],
)
def test_numerical_tolerance(given, expected):
    snap = _snap("::Q:: Born? {#=1822:0 =%50%1822:2}")
    assert grading.grade(snap, [], {"text": given}) == expected


def test_numerical_range_and_decimal_comma():
    snap = _snap("::Q:: Pi? {#3.141..3.142}")
    assert grading.grade(snap, [], {"text": "3,1415"}) == 1
    assert grading.grade(snap, [], {"text": "3.15"}) == 0


def test_matching_with_distractor():
    snap = _snap("::Q:: Match {=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo = -> Paris}")
    order = [3, 2, 1, 0]  # rights shown: Paris, Tokyo, Rome, Ottawa
    full = {"pairs": {"0": 3, "1": 2, "2": 1}}
    assert grading.grade(snap, order, full) == 1
    assert grading.grade(snap, order, {"pairs": {"0": 3, "1": 0, "2": 0}}) == Decimal(1) / 3


def test_missing_word_is_single_choice():
    snap = _snap("::Q:: Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert snap["kind"] == "single"
    assert "_____" in snap["text"]


def test_essay_waits_for_a_trainer():
    assert grading.grade(_snap("::Q:: Viết bài thu hoạch. {}"), [], {"text": "…"}) is None


@pytest.mark.parametrize(
    ("kind_source", "raw"),
    [
        ("::Q:: x {=a ~b}", {"choice": 99}),
        ("::Q:: x {=a ~b}", {"choice": -1}),
        ("::Q:: x {=a ~b}", {"choice": "1 OR 1=1"}),
        ("::Q:: x {=a ~b}", {"choice": [0, 1]}),
        ("::Q:: x {=a ~b}", {"choice": True}),
        ("::Q:: x {~%50%a ~%50%b}", {"choices": "0"}),
        ("::Q:: x {~%50%a ~%50%b}", {"choices": [0, 1, 1, 1]}),
        ("::Q:: x {T}", {"value": "maybe"}),
        ("::Q:: x {=a}", {"text": ["a"]}),
        ("::Q:: x {=a}", {"text": "x" * 6000}),
        ("::Q:: x {=a -> b =c -> d}", {"pairs": {"5": 0}}),
        ("::Q:: x {=a -> b =c -> d}", {"pairs": ["0"]}),
        ("::Q:: x {=a ~b}", ["not", "a", "dict"]),
    ],
)
def test_tampered_answers_are_refused(kind_source, raw):
    snap = _snap(kind_source)
    order = list(range(max(len(snap["answers"]), len(snap["pairs"]))))
    with pytest.raises(grading.InvalidAnswer):
        grading.check_answer(snap, order, raw)


def test_ten_point_scale_and_bands():
    assert grading.ten_point(Decimal(17), Decimal(20)) == Decimal("8.50")
    assert grading.ten_point(Decimal(2), Decimal(3)) == Decimal("6.67")
    assert [grading.band(Decimal(x)) for x in ("9", "8.99", "8", "7", "6.99", "5", "4.99")] == [
        "Xuất sắc",
        "Giỏi",
        "Giỏi",
        "Khá",
        "Trung bình",
        "Trung bình",
        "Không đạt",
    ]
