"""The signed session cookie, checked once per process (security.CookieSessions): a kept cookie
opens as Flask would open it, and only that exact cookie, within its lifetime, under its keys;
each request gets a session of its own."""

import time

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from learnhub import security


def _app(key: str = "the-first-secret", fallbacks=()) -> Flask:
    app = Flask("cookie-sessions")
    app.config.update(SECRET_KEY=key, SECRET_KEY_FALLBACKS=list(fallbacks))
    return app


def _cookie(app: Flask, data: dict, signed_at: float | None = None) -> str:
    serializer = security.CookieSessions().get_signing_serializer(app)
    if signed_at is None:
        return serializer.dumps(data)
    real = serializer.signer(
        serializer.secret_keys, salt=serializer.salt, **serializer.signer_kwargs
    )
    real.get_timestamp = lambda: int(signed_at)
    payload = serializer.dump_payload(data)
    return real.sign(payload).decode()


def _open(sessions, app: Flask, cookie: str | None):
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    return sessions.open_session(app, Request(EnvironBuilder(headers=headers).get_environ()))


def test_a_kept_cookie_opens_as_flask_opens_it_once_checked(monkeypatch):
    app, sessions = _app(), security.CookieSessions()
    data = {"_user_id": "7:1", "roles": {"for": "7:1", "names": ["learner"]}, "_flashes": []}
    cookie = _cookie(app, data)
    checks = []
    real = URLSafeTimedSerializer.loads
    monkeypatch.setattr(
        URLSafeTimedSerializer, "loads", lambda *a, **k: checks.append(1) or real(*a, **k)
    )
    first, second = _open(sessions, app, cookie), _open(sessions, app, cookie)
    assert dict(first) == dict(second) == data
    assert len(checks) == 1  # the signature was checked once
    # Each request's session is its own: changing one (a flash appended) leaves the next alone.
    first["_flashes"].append(("info", "chỉ một lần"))
    first["roles"]["names"].append("admin")
    third = _open(sessions, app, cookie)
    assert dict(third) == data
    assert third is not first


def test_only_that_exact_cookie_finds_what_was_kept():
    app, sessions = _app(), security.CookieSessions()
    cookie = _cookie(app, {"_user_id": "7:1"})
    assert _open(sessions, app, cookie)["_user_id"] == "7:1"
    payload, stamp, signature = cookie.rsplit(".", 2)
    # The first character (its last one may carry only base64 padding bits).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for forged in (f"{payload}.{stamp}.{flipped}", f"{payload}x.{stamp}.{signature}", cookie + "x"):
        assert dict(_open(sessions, app, forged)) == {}
    assert dict(_open(sessions, app, None)) == {}


def test_a_kept_cookie_lapses_with_the_sessions_lifetime(monkeypatch):
    app, sessions = _app(), security.CookieSessions()
    lifetime = app.permanent_session_lifetime.total_seconds()
    cookie = _cookie(app, {"_user_id": "7:1"})
    assert _open(sessions, app, cookie)["_user_id"] == "7:1"  # kept
    later = time.time() + lifetime + 5
    monkeypatch.setattr(security.time, "time", lambda: later)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert dict(_open(sessions, app, cookie)) == {}
    # A cookie signed in the future (a clock set back) is not served from what was kept either.
    ahead = _cookie(app, {"_user_id": "8:1"}, signed_at=later + 60)
    assert dict(_open(sessions, app, ahead)) == {}


def test_a_new_secret_key_refuses_the_cookies_of_the_old_one_unless_kept_as_fallback():
    old, sessions = _app("the-first-secret"), security.CookieSessions()
    cookie = _cookie(old, {"_user_id": "7:1"})
    assert _open(sessions, old, cookie)["_user_id"] == "7:1"
    rotated = _app("the-second-secret")
    assert dict(_open(sessions, rotated, cookie)) == {}
    assert _open(sessions, _app("the-second-secret", ["the-first-secret"]), cookie)["_user_id"]


def test_the_app_and_the_answer_save_door_open_cookies_with_it(app):
    assert isinstance(app.session_interface.inner, security.CookieSessions)


def test_the_doors_csrf_check_keeps_a_checked_token_and_still_refuses_what_flask_wtf_refuses(
    monkeypatch,
):
    config = {"SECRET_KEY": "the-first-secret", "WTF_CSRF_TIME_LIMIT": 3600}
    raw = "a" * 40
    token = URLSafeTimedSerializer("the-first-secret", salt="wtf-csrf-token").dumps(raw)
    checks = []
    real = URLSafeTimedSerializer.loads
    monkeypatch.setattr(
        URLSafeTimedSerializer, "loads", lambda *a, **k: checks.append(1) or real(*a, **k)
    )
    assert security.csrf_token_valid(token, {"csrf_token": raw}, config)
    assert security.csrf_token_valid(token, {"csrf_token": raw}, config)
    assert len(checks) == 1
    # Another session's token, a forged one and one for another key stay refused.
    assert not security.csrf_token_valid(token, {"csrf_token": "b" * 40}, config)
    payload, stamp, signature = token.rsplit(".", 2)
    forged = f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert not security.csrf_token_valid(forged, {"csrf_token": raw}, config)
    assert not security.csrf_token_valid(
        token, {"csrf_token": raw}, {**config, "SECRET_KEY": "the-second-secret"}
    )
    # Past its time limit, a kept token is refused as Flask-WTF refuses it.
    later = time.time() + 3601
    monkeypatch.setattr(security.time, "time", lambda: later)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert not security.csrf_token_valid(token, {"csrf_token": raw}, config)
