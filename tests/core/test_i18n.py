"""Vietnamese first, English available: every UI string has its English translation."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.support import csrf_token

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
CATALOG = Path(__file__).resolve().parents[2] / "learnhub/translations/en/LC_MESSAGES/messages.po"


def test_english_catalog_is_complete():
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    for message in catalog:
        if message.id and "%(" in str(message.id):
            assert sorted((message.python_format and [1]) or []) == [1]


def test_vietnamese_by_default_english_on_request(client, login, learner):
    login(learner)
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Xin chào, Nguyễn Thị Hồng Nhung" in page
    token = csrf_token(client, "/dashboard")
    response = client.post("/lang", data={"lang": "en", "next": "/dashboard", "csrf_token": token})
    assert response.status_code == 302
    assert response.location.endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Hello, Nguyễn Thị Hồng Nhung" in page
    assert "Tiếng Việt" in page


def test_dates_shown_dd_mm_yyyy(app):
    from datetime import date, datetime

    from learnhub.timeutil import format_date, format_datetime

    assert format_date(date(2026, 1, 5)) == "05/01/2026"
    # Stored in UTC, shown in the province's time (UTC+07:00).
    assert format_datetime(datetime(2026, 1, 4, 18, 30)) == "05/01/2026 01:30"  # noqa: DTZ001


def test_form_labels_follow_the_language(client):
    token = csrf_token(client, "/login")
    client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert "Tên đăng nhập hoặc email" not in page
    assert "Mật khẩu" not in page
