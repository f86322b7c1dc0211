"""Issue 16, finding 2: one formatter for numbers, scores and percentages (Babel, the reader's
language): decimal comma, no scientific notation, no space before %; exports keep typed numbers."""

import re
from decimal import Decimal

from flask_babel import force_locale

from learnhub.catalog.services import by_slug
from learnhub.i18n import format_number, format_percent, format_score
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.views import band
from learnhub.reports import exports, periodic

POINT_NUMBER = re.compile(r"\b\d+\.\d+\b|\d[eE][+-]?\d")


def test_finding2_formatter_in_vietnamese(app):
    with app.app_context():
        assert format_number(Decimal("2E+1")) == "20"
        assert format_number(Decimal("8.57")) == "8,57"
        assert format_number(Decimal("1234.5")) == "1.234,5"
        assert format_number(Decimal("8.5"), 2) == "8,50"
        assert format_score(Decimal("5.0"), 10) == "5/10"
        assert format_score(Decimal("1.32"), 10) == "1,32/10"
        assert format_score(Decimal("0.0"), Decimal("100.0")) == "0/100"
        assert format_percent(Decimal("0.5")) == "50,0%"
        assert format_percent(0.855) == "85,5%"
        assert format_number(0.1 + 0.2) == "0,3"


def test_finding2_formatter_in_english(app):
    with app.app_context(), force_locale("en"):
        assert format_score(Decimal("2.93")) == "2.93"
        assert format_percent(Decimal("0.5")) == "50.0%"
        # The band is configured in Vietnamese and shown in the reader's language.
        assert band(Decimal("2.93")) == "Not passed"
    with app.app_context():
        assert band(Decimal("2.93")) == "Không đạt"


def test_finding2_reports_use_the_formatter(app):
    with app.app_context():
        assert periodic.percent_text(Decimal("0.5")) == "50,0%"
        assert periodic.score_text(Decimal("8.5")) == "8,50"


def test_finding2_csv_numbers_are_typed_never_scientific():
    data = b"".join(exports.csv_chunks([exports.Column("n")], [[Decimal("2E+1")], [8.57]]))
    assert data.decode("utf-8-sig").splitlines() == ["n", "20", "8.57"]


def test_finding2_quiz_page_numbers_with_decimal_comma(client, login, learner, db_session):
    quiz = quizzes.ensure_quiz(by_slug("doi-ngoai-nhan-dan"))
    quiz.pass_mark = Decimal("5.0")
    db_session.flush()
    login(learner)
    page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "5/10" in page
    text = re.sub(r"<[^>]+>|\d{2}/\d{2}/\d{4}", " ", page.split("<main", 1)[-1])
    assert POINT_NUMBER.findall(text) == []
