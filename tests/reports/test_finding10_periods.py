"""Finding 10: a well-formed day out of the supported years gets a message saying so (with the
range), and the year drop-down runs from the first year with data to next year."""

import re
from datetime import date

from learnhub.reports import periodic
from learnhub.timeutil import today
from tests.reports.test_periodic import get, make_class


def test_finding10_out_of_range_day_says_the_range_not_the_form(app):
    with app.test_request_context():
        _period, errors = periodic.parse_period(
            {"period": "range", "start": "01/01/1999", "end": "31/12/1999"}
        )
    last = today().year + 1
    assert errors == [
        f"Ngày bắt đầu phải trong khoảng từ 01/01/{periodic.FIRST_YEAR} đến 31/12/{last}.",
        f"Ngày kết thúc phải trong khoảng từ 01/01/{periodic.FIRST_YEAR} đến 31/12/{last}.",
    ]
    assert not any("dd/mm/yyyy" in e for e in errors)
    with app.test_request_context():
        _period, errors = periodic.parse_period(
            {"period": "range", "start": "1/1/99", "end": "31/12/2025"}
        )
    assert errors == ["Ngày bắt đầu phải có dạng dd/mm/yyyy."]


def test_finding10_page_shows_the_range_message(client, login, admin):
    login(admin)
    status, _h, body = get(client, "/reports/units?period=range&start=01/01/1999&end=31/12/2025")
    assert status == 200
    text = body.decode()
    assert "phải có dạng dd/mm/yyyy" not in text
    assert f"trong khoảng từ 01/01/{periodic.FIRST_YEAR}" in text


def _offered(body: bytes) -> list[int]:
    select = re.search(r'<select[^>]*name="year".*?</select>', body.decode(), re.S).group(0)
    return [int(y) for y in re.findall(r'<option[^>]*value="([0-9]{4})"', select)]


def test_finding10_years_run_from_the_first_year_with_data(client, login, admin, trainer):
    login(admin)
    last = today().year + 1
    _s, _h, body = get(client, "/reports/units")
    years = _offered(body)
    assert years == periodic.offered_years()
    assert years[0] == last
    assert years == list(range(last, years[-1] - 1, -1))
    assert 2000 not in years  # no class ended in 2000 (it ran 2000-2027 on main)
    make_class(trainer, "F10-2003", date(2003, 6, 30), starts=date(2003, 6, 1))
    _s, _h, body = get(client, "/reports/units")
    assert _offered(body) == list(range(last, 2002, -1))
