"""security.csrf_token(): a session's signed CSRF token is signed once per process (tokens
never expire as configured), it is the one Flask-WTF checks and a form writes, and each session
has its own; with a time limit every page signs it afresh."""

import re

import itsdangerous.timed
import pytest
from flask import g
from flask_wtf.csrf import generate_csrf, validate_csrf

from learnhub import security
from learnhub.accounts.forms import ConfirmForm
from tests.support import CSRF

#: The header's sign-out form (security.csrf_field), on every page of a signed-in user.
FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _page_token(client) -> str:
    """The token a page of *client*'s session writes. Each request has a g of its own, but the
    test client's requests share the suite's app context (conftest's db_session pushes one), and
    so its g: the token Flask-WTF kept there for the previous request is dropped first."""
    g.pop("csrf_token", None)
    found = FIELD.search(client.get("/dashboard").get_data(as_text=True))
    assert found, "no CSRF field on the dashboard"
    return found.group(1)


@pytest.fixture
def clock(monkeypatch):
    """itsdangerous's clock (the signature's timestamp), moved on by the test."""
    now = [1_796_000_000.0]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now[0])
    return now


def test_a_sessions_token_is_signed_once(app, client, login, learner, clock):
    login(learner)
    first = _page_token(client)
    clock[0] += 10  # a signature made now would carry another timestamp
    assert _page_token(client) == first
    other = app.test_client()
    assert (
        CSRF.search(other.get("/login").get_data(as_text=True))[1] != first
    )  # another session, its own token
    with client.session_transaction() as signed:
        raw = signed["csrf_token"]
    g.pop("csrf_token", None)
    with app.test_request_context("/"):
        from flask import session

        session["csrf_token"] = raw
        validate_csrf(first)  # Flask-WTF's own check: raises if it does not hold
        # A form first (its hidden_tag()), then a page's field: the same token.
        assert ConfirmForm().csrf_token.current_token == first
        assert g.csrf_token == first
        assert security.csrf_token() == first
        assert generate_csrf() == first


def test_with_a_time_limit_each_page_signs_it_afresh(
    app, client, login, learner, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    login(learner)
    first = _page_token(client)
    clock[0] += 10
    assert _page_token(client) != first
