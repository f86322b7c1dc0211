"""Issue 16, finding 1: every form message is Vietnamese (English when English is chosen).

WTForms' English messages are read from the catalogue template WTForms ships, so a message that a
new WTForms version adds is caught too.
"""

import importlib
import pkgutil
import re
from datetime import date, time
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
import wtforms
from babel.messages.pofile import read_po
from flask_wtf import FlaskForm

import learnhub
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.classes import services as classes
from learnhub.forms import LearnHubForm
from learnhub.quizzes import services as quizzes
from tests.support import csrf_token

VI_CATALOG = Path(learnhub.__file__).parent / "translations/vi/LC_MESSAGES/messages.po"


@cache
def wtforms_messages() -> list[str]:
    """Every English message of WTForms (singular and plural forms)."""
    with (Path(wtforms.__file__).parent / "locale/wtforms.pot").open("rb") as f:
        catalog = read_po(f)
    out = []
    for message in catalog:
        if message.id:
            out += list(message.id) if isinstance(message.id, tuple) else [message.id]
    return out


def english_fragments() -> list[str]:
    """The fixed words of each WTForms message (placeholders cut out), longest first."""
    fragments = []
    for message in wtforms_messages():
        parts = [p.strip(" '.:") for p in re.split(r"%(?:\(\w+\))?[sd]", message)]
        fragments.append(max(parts, key=len))
    return fragments


def english_in(page: str) -> list[str]:
    return [f for f in english_fragments() if len(f) > 8 and f in page]


def test_every_wtforms_message_has_a_vietnamese_translation():
    with VI_CATALOG.open("rb") as f:
        catalog = read_po(f)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    singulars = []
    with (Path(wtforms.__file__).parent / "locale/wtforms.pot").open("rb") as f:
        for m in read_po(f):
            if m.id:
                singulars.append(m.id[0] if isinstance(m.id, tuple) else m.id)
    assert [m for m in singulars if m not in translated] == []


def test_every_form_is_a_learnhub_form():
    """The base form carries the translations and NFC; a form outside it would be English."""
    for info in pkgutil.walk_packages(learnhub.__path__, "learnhub."):
        importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("learnhub.")]
    assert ours
    assert [c.__qualname__ for c in ours if not issubclass(c, LearnHubForm)] == []


def _post(client, path: str, data: dict) -> str:
    data = {**data, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data, follow_redirects=True).get_data(as_text=True)


def test_finding1_required_and_length_messages_in_vietnamese(app, client, login, admin, trainer):
    login(admin)
    pages = [
        _post(client, "/admin/users/new", {"full_name": "", "login": "", "password": ""}),
        _post(client, "/admin/units/new", {"code": "", "name": ""}),
    ]
    client = login(trainer, c=app.test_client())
    pages.append(
        _post(
            client,
            "/manage/modules/new",
            {"title": "", "summary": "x" * 3001, "periods": "x", "slug": "ab"},
        )
    )
    pages.append(_post(client, "/manage/modules/new", {"periods": "501", "title": "T"}))
    for page in pages:
        assert english_in(page) == []
    assert "Mục này bắt buộc phải nhập." in pages[0]
    assert "Không được dài quá 3000 ký tự." in pages[2]
    assert "Số phải nằm trong khoảng từ 1 đến 500." in pages[3]


def test_finding1_english_when_english_is_chosen(client, login, admin):
    login(admin)
    token = csrf_token(client, "/dashboard")
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    page = _post(client, "/admin/units/new", {"code": "", "name": ""})
    assert "This field is required." in page
    assert "Mục này bắt buộc phải nhập." not in page


def test_finding1_decimal_comma_is_accepted(client, login, trainer, db_session):
    quiz = quizzes.ensure_quiz(by_slug("doi-ngoai-nhan-dan"))
    db_session.flush()
    login(trainer)
    form = {
        "title": "Kiểm tra",
        "time_limit_minutes": "0",
        "attempts_allowed": "0",
        "grading": "highest",
        "pass_mark": "8,5",
        "per_category": "0",
        "review_after_submit": "score",
        "review_after_close": "full",
    }
    page = _post(client, f"/manage/quizzes/{quiz.id}/settings", form)
    assert english_in(page) == []
    assert quiz.pass_mark == Decimal("8.5"), page[:2000]
    page = _post(
        client,
        f"/manage/quizzes/{quiz.id}/settings",
        {**form, "pass_mark": "tám", "attempts_allowed": "1,5"},
    )
    assert "Hãy nhập một số, ví dụ 8,5." in page
    assert "Hãy nhập một số nguyên." in page
    assert english_in(page) == []


@pytest.mark.parametrize("typed", ["25:99", "7:60", "24:00", "sáng"])
def test_finding1_bad_session_time_has_a_vietnamese_message(client, login, trainer, typed):
    training_class = classes.open_class(
        Actor(trainer),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="GIO-2026-01", title="Lớp", starts_on=date(2026, 1, 5), ends_on=date(2026, 1, 9)
        ),
        [trainer],
    )
    login(trainer)
    path = f"/manage/classes/{training_class.id}"
    data = {"first": "05/01/2026", "count": "1", "every_days": "1", "periods": "4"}
    data |= {"starts_at": typed, "ends_at": "11:00"}
    page = _post(client, f"{path}/sessions", data | {"csrf_token": csrf_token(client, path)})
    assert "Giờ không hợp lệ: hãy nhập theo dạng hh:mm, ví dụ 07:30." in page
    assert "must be in" not in page
    assert english_in(page) == []
    assert training_class.sessions == []


def test_session_time_accepts_the_usual_ways_of_typing(client, login, trainer):
    training_class = classes.open_class(
        Actor(trainer),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="GIO-2026-02", title="Lớp", starts_on=date(2026, 1, 5), ends_on=date(2026, 1, 9)
        ),
        [trainer],
    )
    login(trainer)
    path = f"/manage/classes/{training_class.id}"
    data = {"first": "05/01/2026", "count": "1", "every_days": "1", "periods": "4"}
    data |= {"starts_at": "7h30", "ends_at": "11:00", "csrf_token": csrf_token(client, path)}
    _post(client, f"{path}/sessions", data)
    assert [(s.starts_at, s.ends_at) for s in training_class.sessions] == [(time(7, 30), time(11))]
