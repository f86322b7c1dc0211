"""Security baseline: headers and cookies (16), CSRF and GET (13), mass assignment (12),
robustness (20), size limit, error pages, production start-up."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from learnhub import create_app
from learnhub.accounts.models import Role, User
from learnhub.audit.models import AuditEvent
from learnhub.catalog.services import by_slug
from tests.conftest import make_config
from tests.support import csrf_token


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            yield rule.rule


def _assert_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")


@pytest.mark.parametrize("as_admin", [False, True])
def test_every_response_has_security_headers(app, client, login, admin, as_admin):
    """Security case 16, over every GET route, signed in and not, errors included."""
    if as_admin:
        login(admin)
    for path in [*_get_routes(app), "/no-such-page", "/admin/users/999999"]:
        response = client.get(path)
        response.close()
        _assert_headers(response)


@pytest.fixture
def production_app(app):
    config = make_config(
        __import__("pathlib").Path(app.config["STORAGE_DIR"]).parent, app.config["DATABASE_URL"]
    )
    config["ENV"] = "production"
    production = create_app(config)
    yield production
    production.extensions["learnhub.engine"].dispose()


def test_production_cookies_and_hsts(production_app):
    client = production_app.test_client()
    response = client.get("/login", base_url="https://learnhub.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-learnhub=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(RuntimeError, match="LEARNHUB_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": "", "DATABASE_URL": "sqlite://"})


def test_development_gets_a_persistent_key(tmp_path):
    config = {"ENV": "development", "SECRET_KEY": "", "DATABASE_URL": "sqlite://"}
    first = create_app(config)
    assert len(first.config["SECRET_KEY"]) == 64


def test_post_without_csrf_token_changes_nothing(client, login, admin, learner, db_session):
    """Security case 13: no token, or another session's token: 400 and nothing stored."""
    login(admin)
    before = {r.value for r in learner.roles}
    response = client.post(f"/admin/users/{learner.id}/roles", data={"admin": "y", "learner": "y"})
    assert response.status_code == 400
    assert "tải lại trang" in response.get_data(as_text=True)
    other = client.application.test_client()
    foreign = csrf_token(other, "/login")
    response = client.post(
        f"/admin/users/{learner.id}/roles", data={"admin": "y", "csrf_token": foreign}
    )
    assert response.status_code == 400
    db_session.refresh(learner)
    assert {r.value for r in learner.roles} == before


def test_logout_without_token_keeps_session(client, login, learner):
    login(learner)
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200


def test_no_state_change_on_get(app, client, login, admin, learner, unit, db_session):
    login(admin)

    def fingerprint():
        return (
            # A refused try (a forged check-in code scanned) is audited like a log line; any
            # other event written by a GET is a state change.
            db_session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.not_like("%\\_failed", escape="\\"))
            ),
            db_session.scalar(select(func.sum(User.session_version))),
            db_session.scalar(select(func.count()).select_from(User)),
        )

    before = fingerprint()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        module = by_slug("doi-ngoai-nhan-dan")
        values = {
            "user_id": learner.id,
            "unit_id": unit("CM-SNV").id,
            "token": "A" * 24,
            "slug": module.slug,
            "lesson_slug": module.published_version.lessons[0].slug,
            "name": "x.png",
            "module_id": module.id,
            "old": 1,
            "new": 1,
            "quiz_id": 1,
            "attempt_id": 1,
            "position": 1,
            "question_id": 1,
            "class_id": 1,
            "session_id": 1,
            "cert_id": 1,
            "job_id": 1,
            "issuer_id": 1,
            "code": "A" * 26,
            "kind": "quyet-dinh-mo-lop",
            "fmt": "pdf",
        }
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        client.get(url).close()
    assert fingerprint() == before


def test_mass_assignment_ignored(client, login, admin, learner, unit, db_session):
    """Security case 12: fields a form does not list are never written."""
    login(admin)
    token = csrf_token(client, f"/admin/users/{learner.id}")
    response = client.post(
        f"/admin/users/{learner.id}",
        data={
            "csrf_token": token,
            "full_name": learner.full_name,
            "login": learner.login,
            "unit": "CM-SNV",
            "roles": "admin",
            "role": "admin",
            "is_enabled": "0",
            "session_version": "99",
            "password_hash": "x",
        },
    )
    assert response.status_code == 302
    db_session.refresh(learner)
    assert learner.roles == {Role.learner}
    assert learner.is_enabled
    assert learner.session_version == 1
    assert learner.password_hash.startswith("$argon2id$")


def test_learner_cannot_grant_itself_roles(client, login, learner, db_session):
    login(learner)
    token = csrf_token(client, "/account/password")
    response = client.post(
        f"/admin/users/{learner.id}/roles", data={"admin": "y", "csrf_token": token}
    )
    assert response.status_code == 403
    db_session.refresh(learner)
    assert learner.roles == {Role.learner}


def test_sensitive_admin_action_needs_fresh_sign_in(client, login, admin, learner, db_session):
    login(admin)
    with client.session_transaction() as sess:
        sess["auth_at"] -= 3600
    token = csrf_token(client, "/dashboard")
    response = client.post(
        f"/admin/users/{learner.id}/sessions",
        data={"csrf_token": token},
        headers={"Referer": f"http://localhost/admin/users/{learner.id}"},
    )
    assert response.status_code == 302
    assert "/reauth" in response.location
    db_session.refresh(learner)
    assert learner.session_version == 1
    reauth = client.post(
        response.location, data={"csrf_token": token, "password": "correct horse battery staple"}
    )
    assert reauth.status_code == 302
    assert (
        client.post(f"/admin/users/{learner.id}/sessions", data={"csrf_token": token}).status_code
        == 302
    )
    db_session.refresh(learner)
    assert learner.session_version == 2


def test_request_size_limit(client, login, admin):
    login(admin)
    token = csrf_token(client, "/dashboard")
    big = b"x" * (21 * 1024 * 1024)
    response = client.post(
        f"/admin/users/import/?csrf_token={token}",
        data=big,
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)


def test_unexpected_error_shows_generic_page(app):
    broken = create_app({**app.config, "TESTING": False})

    @broken.get("/boom")
    def boom():
        raise ValueError("secret detail")

    response = broken.test_client().get("/boom")
    broken.extensions["learnhub.engine"].dispose()
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body
    assert "secret detail" not in body
    assert "Mã tham chiếu" in body


def test_unknown_method(client):
    assert client.open("/dashboard", method="PATCH").status_code == 405
    assert client.open("/login", method="OPTIONS").status_code == 200


nasty = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["-1", "10" * 20, "1e9", "%", "_", "' OR 1=1 --", "\x00", "../../etc/passwd"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=nasty, page=nasty, per_page=nasty, role=nasty)
def test_fuzz_admin_query_parameters(client, login, admin, q, page, per_page, role):
    """Security case 20: any query string gives a page, never a 500 or a traceback."""
    if not client.get_cookie("session"):
        login(admin)
    for path in ("/admin/users/", "/admin/audit/", "/admin/units/"):
        response = client.get(
            path,
            query_string={
                "q": q,
                "page": page,
                "per_page": per_page,
                "role": role,
                "action": q,
                "from": q,
                "to": page,
                "actor": role,
            },
        )
        assert response.status_code < 500
        assert "Traceback" not in response.get_data(as_text=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(login_name=nasty, password=nasty)
def test_fuzz_login_form(app, login_name, password):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"login": login_name, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code in (400, 401, 429)


def test_invalid_utf8_in_query_and_form(client, login, admin):
    login(admin)
    assert client.get("/admin/users/?q=%ff%fe").status_code == 200
    nul = client.get("/admin/users/?q=a%00b")
    assert nul.status_code == 400
    assert "không hợp lệ" in nul.get_data(as_text=True)
    token = csrf_token(client, "/dashboard")
    response = client.post(
        "/lang",
        data=b"lang=%ff%fe&csrf_token=" + token.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code < 500


@pytest.mark.parametrize(("proxies", "expected"), [(1, "203.0.113.7"), (0, "10.0.0.1")])
def test_client_address_behind_a_proxy(app, proxies, expected):
    """With LEARNHUB_PROXIES=1 the address nginx forwards is the client's (throttling, rate
    limits, audit); without it, a forged X-Forwarded-For is ignored."""
    from learnhub import create_app
    from learnhub.accounts.auth import client_ip

    instance = create_app({**app.config, "PROXIES": proxies})
    seen = []

    @instance.get("/__ip_probe")
    def probe():
        seen.append(client_ip())
        return "ok"

    try:
        instance.test_client().get(
            "/__ip_probe",
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        ).close()
    finally:
        instance.extensions["learnhub.engine"].dispose()
    assert seen == [expected]


def test_the_headers_are_given_once_and_a_views_own_are_kept(app):
    """security.secure(): each header once whatever a view set; a view's own policy and cache
    rule kept; the three fixed headers always their value; HTML not stored, other types as
    their view says."""
    from flask import Response

    from learnhub.security import CSP, secure

    own = Response("<p>x</p>", mimetype="text/html")
    own.headers["Content-Security-Policy"] = "default-src 'none'"
    own.headers["X-Frame-Options"] = "SAMEORIGIN"
    own.headers["Cache-Control"] = "private, max-age=60"
    secure(own, app.config)
    plain = secure(Response("x", content_type="text/html; charset=utf-8"), app.config)
    data = secure(Response("{}", mimetype="application/json"), app.config)
    for response in (own, plain, data):
        names = [name.lower() for name, _value in response.headers.items()]
        assert len(names) == len(set(names)), names
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Permissions-Policy"].startswith("camera=(self)")
    assert own.headers["Content-Security-Policy"] == "default-src 'none'"
    assert own.headers["Cache-Control"] == "private, max-age=60"
    assert plain.headers["Content-Security-Policy"] == CSP
    assert plain.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in data.headers
    assert "Strict-Transport-Security" not in plain.headers  # development
    production = secure(Response("x"), {**app.config, "ENV": "production"})
    assert production.headers["Strict-Transport-Security"].startswith("max-age=31536000")
