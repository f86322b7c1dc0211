"""Personal API tokens: the page, shown once, only a hash stored, revocation, expiry, the owner's
state, and how the API answers every kind of missing or bad credential."""

import hashlib
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.api import tokens
from learnhub.api.models import ApiToken
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM, Actor
from learnhub.timeutil import today, utcnow
from tests.api import api_get, bearer, new_token
from tests.support import csrf_token, freeze_clock

SECRET = re.compile(r"lhp_[A-Za-z0-9_-]{43}")


def _create(client, name="Phần mềm quản lý cán bộ", expires_on=""):
    token = csrf_token(client, "/account/tokens")
    with client.post(
        "/account/tokens", data={"name": name, "expires_on": expires_on, "csrf_token": token}
    ) as response:
        return response.status_code, response.get_data(as_text=True), response.headers


def _revoke(client, token_id):
    token = csrf_token(client, "/account/tokens")
    return client.post(
        "/account/tokens/revoke", data={"token_id": str(token_id), "csrf_token": token}
    )


# -- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("learner", 403), ("trainer", 403), ("hr", 200), ("admin", 200)],
)
def test_token_page_is_for_hr_and_admins(client, login, request, who, status):
    if who != "anonymous":
        login(request.getfixturevalue(who))
    with client.get("/account/tokens") as response:
        assert response.status_code == status


def test_created_token_is_shown_once_and_only_its_hash_is_stored(app, client, login, hr):
    login(hr)
    status, html, headers = _create(client, name="Phần mềm <b>quản lý</b>")
    assert status == 200
    secrets_shown = set(SECRET.findall(html))
    assert len(secrets_shown) == 1
    secret = secrets_shown.pop()
    assert "&lt;b&gt;" in html
    assert "<b>quản lý" not in html
    assert headers["Cache-Control"] == "no-store"
    # Not carried in the session cookie either (a flash message would be readable there).
    cookie = client.get_cookie("session")
    serializer = app.session_interface.get_signing_serializer(app)
    assert secret not in repr(serializer.loads(cookie.value))

    row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == hr.id)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(row.prefix)
    assert len(row.prefix) == tokens.PREFIX_LENGTH
    stored = [getattr(row, c.key) for c in ApiToken.__table__.columns]
    assert all(secret not in str(value) for value in stored)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.create")
    ).one()
    assert event.actor_id == hr.id
    assert secret not in repr(event.after)

    # Never again: the list shows the name and prefix only.
    with client.get("/account/tokens") as response:
        page = response.get_data(as_text=True)
    assert secret not in page
    assert row.prefix in page
    assert api_get(client, "/api/v1/units", secret)[0] == 200


def test_tokens_are_long_random_values():
    made = {tokens.generate() for _ in range(50)}
    assert len(made) == 50
    assert all(SECRET.fullmatch(t) for t in made)


def test_create_needs_a_name_and_a_future_expiry(client, login, hr):
    login(hr)
    assert _create(client, name="   ")[0] == 400
    yesterday = (today() - timedelta(days=1)).strftime("%d/%m/%Y")
    status, html, _h = _create(client, expires_on=yesterday)
    assert status == 400
    assert "quá khứ" in html
    assert _create(client, expires_on="31/02/2026")[0] == 400
    assert db.session.scalars(select(ApiToken)).all() == []


def test_create_needs_a_recent_sign_in(client, login, hr):
    login(hr)
    with client.session_transaction() as session:
        session["auth_at"] = int(time.time()) - 3600
    token = csrf_token(client, "/account/tokens")
    response = client.post("/account/tokens", data={"name": "x", "csrf_token": token})
    assert response.status_code == 302
    assert "/reauth" in response.headers["Location"]
    assert db.session.scalars(select(ApiToken)).all() == []


def test_create_without_csrf_token_is_refused(client, login, hr):
    login(hr)
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []


def test_active_tokens_per_person_are_limited(hr):
    for n in range(tokens.MAX_ACTIVE):
        new_token(hr, name=f"khóa {n}")
    with pytest.raises(tokens.TokenError):
        new_token(hr, name="one too many")


def test_revoke_is_audited_and_stops_the_token(client, login, hr):
    secret = new_token(hr)
    row = db.session.scalars(select(ApiToken)).one()
    login(hr)
    assert api_get(client, "/api/v1/units", secret)[0] == 200
    response = _revoke(client, row.id)
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.revoke")
    ).one()
    assert event.object_id == str(row.id)
    assert event.actor_id == hr.id
    status, body, headers = api_get(client, "/api/v1/units", secret)
    assert status == 401
    assert set(body) == {"error"}
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    with client.get("/account/tokens") as page:
        assert "Đã thu hồi" in page.get_data(as_text=True)


def test_nobody_revokes_another_persons_token(client, login, hr, admin):
    new_token(hr)
    row = db.session.scalars(select(ApiToken)).one()
    login(admin)
    assert _revoke(client, row.id).status_code == 404
    assert _revoke(client, "abc").status_code == 400
    assert _revoke(client, "99999999999999").status_code == 400
    db.session.refresh(row)
    assert row.revoked_at is None


def test_revoke_is_for_hr_and_admins_only(client, login, learner):
    login(learner)
    assert _revoke(client, 1).status_code == 403


# -- the token's and owner's state -------------------------------------------------------------


def test_expired_token_is_refused(client, hr):
    secret = new_token(hr, expires_on=today())
    assert api_get(client, "/api/v1/units", secret)[0] == 200  # the last day still counts
    row = db.session.scalars(select(ApiToken)).one()
    row.expires_on = today() - timedelta(days=1)
    db.session.flush()
    assert api_get(client, "/api/v1/units", secret)[0] == 401


def test_disabled_owner_gets_401(client, hr):
    secret = new_token(hr)
    accounts.set_enabled(SYSTEM, hr, False)
    db.session.flush()
    status, body, _h = api_get(client, "/api/v1/completions", secret)
    assert status == 401
    assert body["error"]


def test_owner_without_hr_role_gets_403(client, hr):
    secret = new_token(hr)
    accounts.set_roles(SYSTEM, hr, [accounts.Grant(Role.learner)])
    db.session.flush()
    status, body, _h = api_get(client, "/api/v1/completions", secret)
    assert status == 403
    assert set(body) == {"error"}


def test_admin_tokens_work(client, admin):
    assert api_get(client, "/api/v1/units", new_token(admin))[0] == 200


def test_use_is_recorded(client, hr):
    secret = new_token(hr)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.last_used_at is None
    api_get(client, "/api/v1/units", secret)
    db.session.refresh(row)
    assert row.last_used_at is not None
    assert utcnow() - row.last_used_at < timedelta(minutes=1)


# -- credentials the API refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dG9jaHVjOnBhc3N3b3Jk",
        "Token lhp_" + "A" * 43,
        "Bearer lhp_short",
        "Bearer " + "A" * 47,
        "Bearer lhp_" + "A" * 43,  # well-formed, unknown
        "Bearer lhp_" + "A" * 42 + "\u00e1",
        "Bearer lhp_" + "A" * 43 + " extra",
    ],
)
def test_missing_wrong_or_malformed_authorization_gets_401(client, hr, header):
    new_token(hr)
    headers = {} if header is None else {"Authorization": header}
    for path in ("/api/v1/units", "/api/v1/completions", "/api/v1/certificates"):
        with client.get(path, headers=headers) as response:
            assert response.status_code == 401, (header, path)
            assert response.is_json
            assert set(response.get_json()) == {"error"}
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_scheme_is_case_insensitive(client, hr):
    secret = new_token(hr)
    headers = {"Authorization": f"bearer {secret}"}
    with client.get("/api/v1/units", headers=headers) as response:
        assert response.status_code == 200


def test_token_in_the_query_string_is_not_accepted(client, hr):
    secret = new_token(hr)
    assert api_get(client, f"/api/v1/units?access_token={secret}")[0] == 401


def test_session_cookie_alone_gets_401(client, login, hr, admin):
    for user in (hr, admin):
        login(user)
        status, body, headers = api_get(client, "/api/v1/completions")
        assert status == 401
        assert set(body) == {"error"}
        assert "Set-Cookie" not in headers  # the session is neither read nor refreshed
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def test_session_that_must_change_password_still_gets_json(client, login, hr):
    """The sign-in checks that redirect browsers never see API requests."""
    login(hr)
    hr.must_change_password = True
    db.session.flush()
    status, body, _h = api_get(client, "/api/v1/units")
    assert status == 401
    assert "error" in body
    secret = new_token(hr)
    assert api_get(client, "/api/v1/units", secret)[0] == 200


def test_token_with_session_sets_no_cookie(client, login, hr):
    secret = new_token(hr)
    login(hr)
    status, _body, headers = api_get(client, "/api/v1/units", secret)
    assert status == 200
    assert "Set-Cookie" not in headers


# -- rate limits and headers -------------------------------------------------------------------


def test_rate_limit_per_owner(app, client, hr, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 2)
    freeze_clock(monkeypatch, utcnow())  # on a running clock a minute can turn in between
    secret = new_token(hr)
    second = new_token(hr, name="second")
    assert api_get(client, "/api/v1/units", secret)[0] == 200
    assert api_get(client, "/api/v1/units", second)[0] == 200
    status, body, headers = api_get(client, "/api/v1/units", secret)
    assert status == 429
    assert set(body) == {"error"}
    assert int(headers["Retry-After"]) >= 1


def test_refused_tokens_are_rate_limited_per_address(app, client, hr, monkeypatch):
    monkeypatch.setitem(app.config, "API_FAILURE_LIMIT", 2)
    freeze_clock(monkeypatch, utcnow())  # on a running clock a minute can turn in between
    secret = new_token(hr)
    unknown = {"Authorization": "Bearer lhp_" + "B" * 43}
    for _ in range(2):
        assert client.get("/api/v1/units", headers=unknown).status_code == 401
    response = client.get("/api/v1/units", headers=unknown)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    # Another address is not affected; a valid token is not counted.
    other = client.get("/api/v1/units", headers=unknown, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401
    assert client.get("/api/v1/units", headers=bearer(secret)).status_code == 200


def test_api_answers_keep_security_headers(client, hr):
    secret = new_token(hr)
    for headers in ({}, bearer(secret)):
        with client.get("/api/v1/units", headers=headers) as response:
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-store"
            assert "Authorization" in response.headers["Vary"]


def test_openapi_document_is_public(client):
    with client.get("/api/v1/openapi.json") as response:
        assert response.status_code == 200
        body = response.get_json()
    assert body["openapi"].startswith("3.")
    assert body["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"/api/v1/units", "/api/v1/completions", "/api/v1/certificates"} <= set(body["paths"])


def test_unknown_paths_and_methods_answer_json(client, hr):
    secret = new_token(hr)
    status, body, _h = api_get(client, "/api/v1/no-such-thing", secret)
    assert status == 404
    assert "error" in body
    with client.post("/api/v1/units", headers=bearer(secret)) as response:
        assert response.status_code == 405  # not a CSRF failure: the API has no forms
        assert "error" in response.get_json()


def test_service_revoke_ignores_foreign_ids(hr, admin):
    new_token(hr)
    row = db.session.scalars(select(ApiToken)).one()
    assert tokens.revoke(Actor(admin), admin, row.id, utcnow()) is None
    assert tokens.revoke(Actor(hr), hr, row.id, utcnow()) is row
    assert row.revoked_at is not None
