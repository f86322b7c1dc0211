"""Finding 3: GIFT read as Moodle's question/format/gift/format.php reads it."""

import unicodedata

from learnhub.formats import gift


def _one(source: str) -> gift.Question:
    questions, errors = gift.parse(source)
    assert errors == []
    assert len(questions) == 1
    return questions[0]


def test_finding3_format_marker_removed_from_every_answer_and_feedback():
    q = _one("::Colour:: Sky? {=yellow#[html]Right ~[plain]blue#[markdown]No ####[html]General}")
    assert [a.text for a in q.answers] == ["yellow", "blue"]
    assert [a.feedback for a in q.answers] == ["Right", "No"]
    assert q.general_feedback == "General"
    tf = _one("::TF::[html]Moodle is free.{TRUE#[html]Wrong#[html]Right}")
    assert (tf.text, tf.feedback_wrong, tf.feedback_right) == ("Moodle is free.", "Wrong", "Right")
    short = _one("::SA:: Name? {=%100%[html]VUFO#[html]Đúng}")
    assert (short.answers[0].text, short.answers[0].feedback) == ("VUFO", "Đúng")


def test_finding3_category_line_directly_followed_by_a_question_keeps_it():
    source = "$CATEGORY: $course$/top/Một\n::Q:: Câu? {T}\n\n::R:: Câu 2? {F}"
    questions, errors = gift.parse(source)
    assert errors == []
    assert [(q.name, q.category) for q in questions] == [("Q", "Một"), ("R", "Một")]


def test_finding3_blank_without_a_stray_space():
    q = _one("The capital is {=Paris ~Lyon}.")
    assert q.text == "The capital is _____."
    assert _one("Grant is {~buried =entombed} in the tomb.").text == "Grant is _____ in the tomb."


def test_finding3_nfd_text_is_read_as_nfc():
    nfd = unicodedata.normalize("NFD", "::Câu:: Thủ đô của Việt Nam? {=Hà Nội ~Huế}")
    q = _one(nfd)
    for text in (q.name, q.text, *(a.text for a in q.answers)):
        assert unicodedata.is_normalized("NFC", text)
    assert q.answers[0].text == "Hà Nội"


def test_written_as_moodle_writes_it():
    q = _one("::MC:: Chọn? {=A#đúng ~%-50%B ####chung}")
    assert gift.write_question(q) == "::MC::Chọn?{\n\t=A#đúng\n\t~%-50%B\n\t####chung\n}"


def test_a_text_that_starts_like_a_marker_survives_the_round_trip():
    q = _one("::M:: Which? {=[moodle][plain] literally ~other}")
    assert q.answers[0].text == "[plain] literally"
    assert gift.parse(gift.write([q]))[0][0].identity() == q.identity()
