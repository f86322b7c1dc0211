"""Issue 18, build 1: the answer save's own door (learnhub.quizzes.autosave).

The door answers a learner's JSON autosave before Flask's request handling when every check
passes, and hands everything else to the app. What these tests hold: it takes the common case
(the app is not called), it takes nothing else (each check, broken on purpose, sends the request
to the app), and a request answers the same with the door and without it: status, body, headers
and the session the response sets, and what is stored."""

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from flask_login.utils import _create_identifier
from sqlalchemy import select

from learnhub import create_app, db
from learnhub.accounts import auth
from learnhub.accounts.models import User
from learnhub.quizzes import services
from learnhub.quizzes.autosave import PATH, AutosaveDoor
from learnhub.quizzes.models import Attempt, AttemptItem
from tests.conftest import PASSWORD
from tests.support import (
    CSRF,
    answer_for,
    csrf_token,
    finish_attempt,
    freeze_clock,
    signed_in_learner,
)

COOKIE = "session"


class Recorder:
    """Stands between the door and the app, and counts the requests the app got."""

    def __init__(self, app):
        self.inner, self.calls = app.wsgi_app.wsgi_app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.inner(environ, start_response)


@pytest.fixture
def door(app, monkeypatch, exam):
    """The app behind the door, counting from the exam's start on."""
    assert isinstance(app.wsgi_app, AutosaveDoor)
    recorder = Recorder(app)
    monkeypatch.setattr(app.wsgi_app, "wsgi_app", recorder)
    return recorder


@pytest.fixture
def exam(client, login, learner, quiz, db_session, monkeypatch):
    """A learner signed in, with an attempt open; its true/false question's position."""
    freeze_clock(monkeypatch, services.utcnow().replace(microsecond=0))
    login(learner)
    token = csrf_token(client, f"/quizzes/{quiz.id}")
    started = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    attempt = db_session.get(Attempt, attempt_id)
    tf = next(i for i in attempt.items if i.snapshot["name"] == "TF")
    return {"attempt": attempt_id, "position": tf.position, "item": tf.id, "token": token}


def _save(client, exam, body=None, headers=None, path=None, **kwargs):
    headers = {"X-CSRFToken": exam["token"]} if headers is None else headers
    url = path or f"/attempts/{exam['attempt']}/items/{exam['position']}"
    if body is None:
        kwargs.setdefault("json", {"value": True})
    else:
        kwargs["data"] = body
    return client.post(url, headers=headers, **kwargs)


def test_the_door_answers_a_save_without_the_app(app, client, door, exam, db_session):
    response = _save(client, exam)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] is True
    assert door.calls == 0  # without the door, the app answered it
    db_session.expire_all()
    assert db_session.get(AttemptItem, exam["item"]).answer == {"value": True}
    # The same from the second header Flask-WTF reads.
    response = _save(client, exam, headers={"X-CSRF-Token": exam["token"]}, json={"value": False})
    assert response.status_code == 200
    assert door.calls == 0
    db_session.expire_all()
    assert db_session.get(AttemptItem, exam["item"]).answer == {"value": False}


#: A signed token (itsdangerous: payload, timestamp, signature), as a page embeds its CSRF token.
SIGNED = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")
#: An error page's correlation id (random: errors.py).
REF = re.compile(r"\b[0-9a-f]{12}\b")
#: A cookie's expiry date (the remember cookie's: a year from the second it was set).
EXPIRES = re.compile(r"Expires=([^;]+)")


def _expires_in(match: re.Match) -> str:
    """A cookie's expiry as how many days away it is: two runs of the same request a second
    apart set the same cookie, and its date may differ by that second."""
    left = parsedate_to_datetime(match.group(1)) - datetime.now(UTC)
    return f"Expires=<in {round(left / timedelta(days=1))} days>"


def _observed(app, response) -> tuple:
    """What a client sees of a response: status, body (parsed when JSON), headers (not the
    date), and the cookies it sets, the session opened. A new session's CSRF token is random,
    and the seen stamp can differ by a second between two runs: both are left out; a cookie's
    expiry date counts in days."""
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("Date", "Set-Cookie"))
    body = response.get_json() if response.is_json else response.get_data(as_text=True)
    if isinstance(body, str):
        body = REF.sub("<ref>", SIGNED.sub("<token>", body))
    elif isinstance(body, dict) and "ref" in body:
        body["ref"] = "<ref>"
    sets = {}
    for cookie in response.headers.getlist("Set-Cookie"):
        name, value = cookie.split(";", 1)[0].split("=", 1)
        if name == app.config["SESSION_COOKIE_NAME"] and value:
            value = app.session_interface.get_signing_serializer(app).loads(value)
            value.pop("seen_at", None)
            if "csrf_token" in value:
                value["csrf_token"] = "<token>"
        sets[name] = (
            value
            if isinstance(value, dict)
            else EXPIRES.sub(_expires_in, SIGNED.sub("<token>", cookie))
        )
    return response.status_code, body, headers, sets


def _both(app, client, door, send) -> tuple[tuple, tuple, bool]:
    """*send* once through the door and once straight to the app, from the same cookie:
    (through the door, without it, whether the door answered the first itself)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)

    def restore():
        if cookie:
            client.set_cookie(name, cookie.value, secure=cookie.secure)
        else:
            client.delete_cookie(name)

    before = door.calls
    first = _observed(app, send())
    taken = door.calls == before
    restore()
    door_itself = app.wsgi_app
    app.wsgi_app = door.inner
    try:
        second = _observed(app, send())
    finally:
        app.wsgi_app = door_itself
        restore()
    return first, second, taken


def _with_session(client, **changes):
    with client.session_transaction() as signed:
        for key, value in changes.items():
            if value is None:
                signed.pop(key, None)
            else:
                signed[key] = value(signed) if callable(value) else value


def _now() -> int:
    import time

    return int(time.time())


#: (name, how the request differs from a good save, whether the door takes it)
CASES = [
    ("a good save", {}, True),
    ("the second CSRF header", {"headers": "X-CSRF-Token"}, True),
    ("no CSRF header", {"headers": None}, False),
    ("a CSRF token signed with another key", {"token": "other-key"}, False),
    ("a CSRF token of another session", {"token": "other-session"}, False),
    ("a query string", {"path": "?x=1"}, False),
    ("a form body", {"body": "value=y"}, False),
    ("a JSON list", {"body": "[1]"}, False),
    ("JSON that does not parse", {"body": "{"}, False),
    ("an answer of the wrong shape", {"json": {"text": "x"}}, False),
    ("a question the attempt lacks", {"path": "/attempts/{attempt}/items/99"}, False),
    ("someone else's attempt", {"path": "/attempts/{other}/items/1"}, False),
    ("a lapsed session", {"session": {"auth_at": lambda s: _now() - 13 * 3600}}, False),
    ("an idle session", {"session": {"seen_at": lambda s: _now() - 4 * 3600}}, False),
    ("a seen stamp due", {"session": {"seen_at": lambda s: _now() - 120}}, False),
    ("another browser", {"agent": "Another/1.0"}, False),
    ("another browser, already marked", {"agent": "Another/1.0", "fresh": False}, True),
    ("roles not remembered", {"session": {"roles": None}}, False),
    ("roles of another session version", {"session": {"roles": {"for": "1:0"}}}, False),
    ("a remember-me operation pending", {"session": {"_remember": "set"}}, False),
    ("no user in the session", {"session": {"_user_id": None}}, False),
    ("an ended session version", {"bump": True}, False),
    ("a password change pending", {"must_change": True}, False),
    ("a tampered cookie", {"tamper": True}, False),
    ("no cookie", {"no_cookie": True}, False),
    ("HTTPS without a referrer", {"https": None}, False),
    ("HTTPS from another site", {"https": "https://evil.example/"}, False),
    ("HTTPS from this site", {"https": "https://localhost/attempts/1"}, True),
    ("HTTPS from a referrer whose port is no number", {"https": "https://localhost:x/"}, False),
    ("a disabled user", {"disable": True}, False),
    ("two-factor required of learners", {"config": {"TOTP_REQUIRED_ROLES": ("learner",)}}, False),
    (
        "another browser under strong protection",
        {"agent": "Another/1.0", "config": {"SESSION_PROTECTION": "strong"}},
        False,
    ),
    ("a permanent session", {"session": {"_permanent": True}}, False),
    ("trusted hosts configured", {"config": {"TRUSTED_HOSTS": ["localhost"]}}, False),
    ("another cookie not in UTF-8", {"raw_cookie": "a=\xff"}, True),
    ("JSON nested beyond the parser's depth", {"body": "[" * 50_000}, False),
    ("a Content-Length with a plus sign", {"length": "+"}, False),
    ("a long id", {"path": "/attempts/{attempt:011d}/items/1"}, False),
]


@pytest.mark.parametrize(("name", "change", "taken"), CASES, ids=[c[0] for c in CASES])
def test_a_request_answers_the_same_with_the_door_and_without(
    app, client, door, exam, db_session, create_user, quiz, monkeypatch, name, change, taken
):
    headers = {"X-CSRFToken": exam["token"]}
    kwargs: dict = {}
    if "headers" in change:
        headers = {change["headers"]: exam["token"]} if change["headers"] else {}
    if change.get("token") == "other-key":
        headers = {"X-CSRFToken": exam["token"][:-4] + "AAAA"}
    if change.get("token") == "other-session":
        headers = {"X-CSRFToken": csrf_token(app.test_client(), "/login")}
    path = None
    if "path" in change:
        other = create_user("nguoikhac", full_name="Trần Thị Khác")
        others = services.start_attempt(quiz, other, services.utcnow())
        db_session.commit()
        if change["path"].startswith("?"):
            path = f"/attempts/{exam['attempt']}/items/{exam['position']}" + change["path"]
        else:
            path = change["path"].format(attempt=exam["attempt"], other=others.id)
    if "json" in change:
        kwargs["json"] = change["json"]
    if "body" in change:
        kwargs["body"] = change["body"]
        kwargs["content_type"] = (
            "application/x-www-form-urlencoded" if "=" in change["body"] else "application/json"
        )
    if "session" in change:
        _with_session(client, **change["session"])
    if "agent" in change:
        headers["User-Agent"] = change["agent"]
        if change.get("fresh") is False:
            _with_session(client, _fresh=False)
    if change.get("bump") or change.get("must_change"):
        user = db_session.scalar(select(User).where(User.username == "hocvien"))
        if change.get("bump"):
            user.session_version += 1
        else:
            user.must_change_password = True
        db_session.commit()
    if change.get("disable"):
        user = db_session.scalar(select(User).where(User.username == "hocvien"))
        user.is_enabled = False
        db_session.commit()
    for key, value in change.get("config", {}).items():
        monkeypatch.setitem(app.config, key, value)
    sender = client
    if "raw_cookie" in change:
        # A client that sends the Cookie header as given (werkzeug's writes its own jar's).
        sender = app.test_client(use_cookies=False)
        headers["Cookie"] = f"{change['raw_cookie']}; {COOKIE}={client.get_cookie(COOKIE).value}"
    if "length" in change:
        size = len(json.dumps({"value": True}).encode())
        kwargs["environ_overrides"] = {"CONTENT_LENGTH": f"{change['length']}{size}"}
    if change.get("tamper"):
        value = client.get_cookie(COOKIE).value
        client.set_cookie(COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    if change.get("no_cookie"):
        client.delete_cookie(COOKIE)
    if "https" in change:
        kwargs["base_url"] = "https://localhost"
        if change["https"]:
            headers["Referer"] = change["https"]

    def send():
        return _save(sender, exam, headers=headers, path=path, **kwargs)

    with_door, without, took = _both(app, client, door, send)
    assert with_door == without, name
    assert took is taken, name
    db_session.expire_all()
    stored = db_session.get(AttemptItem, exam["item"]).answer
    assert stored == ({"value": True} if with_door[0] == 200 else None), (name, with_door[:2])


def test_the_browser_fingerprint_is_flask_logins(app):
    for forwarded, agent in [
        (None, None),
        ("203.0.113.9", "Mozilla/5.0 (Linux; Android 10)"),
        ("203.0.113.9, 10.0.0.1", "Tiếng Việt"),
    ]:
        headers = {"User-Agent": agent} if agent else {}
        if forwarded:
            headers["X-Forwarded-For"] = forwarded
        environ = {"REMOTE_ADDR": "192.0.2.4"}
        with app.test_request_context("/", headers=headers, environ_base=environ):
            assert auth.session_identifier(forwarded, "192.0.2.4", agent) == _create_identifier()


def test_the_door_and_the_router_agree_on_the_save_path(app):
    adapter = app.url_map.bind("localhost")
    for path in ("/attempts/12/items/3", "/attempts/007/items/1"):
        assert PATH.match(path)
        assert adapter.match(path, method="POST")[0] == "quizzes.save"
    for path in ("/attempts/12/items/3/", "/attempts/x/items/3", "/attempts/12/items"):
        assert not PATH.match(path)


def test_a_body_the_door_read_reaches_the_app_whole(app, client, door, exam, db_session):
    """A refused save goes to the app with its body as it came: an essay's text the door read
    and gave back, and one too long for it to read."""
    body = json.dumps({"value": "not a boolean"})
    response = _save(client, exam, body=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"saved": False, "error": "invalid"}
    assert door.calls == 1
    long = json.dumps({"value": True}) + " " * 70_000
    response = _save(client, exam, body=long, content_type="application/json")
    assert response.status_code == 200
    assert door.calls == 2
    db_session.expire_all()
    assert db_session.get(AttemptItem, exam["item"]).answer == {"value": True}


def test_a_finished_attempt_is_refused_by_the_app(app, client, door, exam, db_session):
    attempt = db_session.get(Attempt, exam["attempt"])
    services.submit_attempt(attempt, services.utcnow() + timedelta(seconds=1))
    db_session.commit()
    response = _save(client, exam)
    assert response.status_code == 409
    assert response.get_json()["error"] == "finished"
    assert door.calls == 1


def _locked(*_args, **_kwargs):
    raise sa.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))


def test_a_database_out_of_reach_gets_the_apps_503_without_a_second_wait(
    app, client, door, exam, monkeypatch
):
    """SQLite's lock still taken after every wait (or PostgreSQL gone): the door answers with
    the app's own 503 (its handler, its headers), and does not send the save on to wait again."""
    monkeypatch.setattr(services, "store_answer", _locked)
    with_door, without, took = _both(app, client, door, lambda: _save(client, exam))
    assert with_door == without
    assert with_door[0] == 503
    assert ("Retry-After", "5") in with_door[2]
    assert took is True


@pytest.mark.no_rollback
def test_the_door_leaves_no_connection_out_without_an_app_context(app):
    """As served (no app context around the request, the session bound to the engine; SQLite's
    lean writer): after a save the door answered, one it sent on and one that met a database out
    of reach, every connection is back in the pool and the answer is stored."""
    client, token, quiz_id = signed_in_learner(app, "Lê Văn Cửa")
    started = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
    attempt_id = int(started.location.rsplit("/", 1)[1])
    pool = app.extensions["learnhub.engine"].pool
    url = f"/attempts/{attempt_id}/items/1"
    headers = {"X-CSRFToken": token}
    with app.app_context():
        snapshot = db.session.scalar(
            select(AttemptItem.snapshot).where(
                AttemptItem.attempt_id == attempt_id, AttemptItem.position == 1
            )
        )
        db.session.remove()
    answer = answer_for(snapshot)
    saved = client.post(url, json=answer, headers=headers)
    assert saved.status_code == 200
    assert pool.checkedout() == 0
    refused = client.post(url, json=answer, headers={"X-CSRFToken": "forged"})
    assert refused.status_code == 400
    assert pool.checkedout() == 0
    original = services.store_answer
    services.store_answer = _locked
    try:
        assert client.post(url, json=answer, headers=headers).status_code == 503
    finally:
        services.store_answer = original
    assert pool.checkedout() == 0
    with app.app_context():
        item = db.session.scalar(
            select(AttemptItem).where(
                AttemptItem.attempt_id == attempt_id, AttemptItem.position == 1
            )
        )
        assert item.answer is not None
        db.session.remove()
    finish_attempt(app, attempt_id)


def test_the_door_and_the_app_agree_under_the_production_settings(
    app, learner, quiz, db_session, monkeypatch
):
    """As deployed: HTTPS, the `__Host-` session cookie, secure cookies, the referrer checked on
    every POST (WTF_CSRF_SSL_STRICT), HSTS on every response."""
    freeze_clock(monkeypatch, services.utcnow().replace(microsecond=0))
    login, quiz_id = learner.login, quiz.id
    db_session.commit()  # releases the test's savepoint: the learner stays in the transaction
    bind = db_session.get_bind()
    db.session.remove()
    production = create_app({**app.config, "ENV": "production"})
    db.session.configure(bind=bind, join_transaction_mode="create_savepoint")
    try:
        assert production.config["SESSION_COOKIE_NAME"] == "__Host-learnhub"
        door = Recorder(production)
        monkeypatch.setattr(production.wsgi_app, "wsgi_app", door)
        client = production.test_client()
        https = {"base_url": "https://localhost"}
        token = csrf_token_over_https(client, "/login")
        referrer = {"Referer": "https://localhost/login"}
        client.post(
            "/login",
            data={"login": login, "password": PASSWORD, "csrf_token": token},
            headers=referrer,
            **https,
        )
        token = csrf_token_over_https(client, f"/quizzes/{quiz_id}")
        started = client.post(
            f"/quizzes/{quiz_id}/start", data={"csrf_token": token}, headers=referrer, **https
        )
        attempt = db_session.get(Attempt, int(started.location.rsplit("/", 1)[1]))
        tf = next(i for i in attempt.items if i.snapshot["name"] == "TF")
        url = f"/attempts/{attempt.id}/items/{tf.position}"
        page = {"Referer": f"https://localhost/attempts/{attempt.id}", "X-CSRFToken": token}
        for name, headers, taken in [
            ("a good save", page, True),
            ("no referrer", {"X-CSRFToken": token}, False),
            ("another browser", {**page, "User-Agent": "Another/1.0"}, False),
        ]:

            def send(headers=headers):
                return client.post(url, json={"value": True}, headers=headers, **https)

            with_door, without, took = _both(production, client, door, send)
            assert with_door == without, name
            assert took is taken, name
            assert (
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains",
            ) in with_door[2]
    finally:
        production.extensions["learnhub.engine"].dispose()


HSTS = "max-age=31536000; includeSubDomains"


def csrf_token_over_https(client, path: str) -> str:
    html = client.get(path, base_url="https://localhost").get_data(as_text=True)
    return CSRF.search(html).group(1)
