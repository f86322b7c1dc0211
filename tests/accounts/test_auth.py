"""Sign-in, sign-out, sessions and throttling (security cases 14 and 15)."""

from datetime import timedelta

import pytest

from learnhub.accounts import services, throttle
from learnhub.accounts.models import LoginThrottle
from learnhub.audit.models import AuditEvent
from learnhub.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.support import csrf_token


def _post_login(client, login, password, next_=None):
    token = csrf_token(client, "/login")
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"login": login, "password": password, "csrf_token": token})


def test_sign_in_and_out(client, learner):
    response = _post_login(client, "hocvien", PASSWORD)
    assert response.status_code == 302
    assert response.location.endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Nguyễn Thị Hồng Nhung" in page
    token = csrf_token(client, "/dashboard")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_login_is_case_insensitive_but_password_exact(client, learner):
    assert _post_login(client, "  HocVien ", PASSWORD).status_code == 302
    other = client.application.test_client()
    assert _post_login(other, "hocvien", PASSWORD.upper()).status_code == 401


def test_unknown_user_and_wrong_password_get_the_same_answer(client, learner):
    wrong = _post_login(client, "hocvien", "wrong password here")
    unknown = _post_login(client, "nobody-here", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    text_wrong = wrong.get_data(as_text=True).replace("hocvien", "X")
    text_unknown = unknown.get_data(as_text=True).replace("nobody-here", "X")
    assert _without_tokens(text_wrong) == _without_tokens(text_unknown)


def _without_tokens(html: str) -> str:
    return "\n".join(line for line in html.splitlines() if "csrf_token" not in line)


def test_old_cookie_rejected_after_logout(client, app, learner):
    """Security case 15: a copied session cookie stops working at sign-out."""
    _post_login(client, "hocvien", PASSWORD)
    stolen = client.get_cookie("session").value
    token = csrf_token(client, "/dashboard")
    client.post("/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/dashboard")
    assert response.status_code == 302
    assert "/login" in response.location


def test_session_fixation_cookie_is_replaced_on_login(client, learner):
    csrf_token(client, "/login")
    before = client.get_cookie("session").value
    _post_login(client, "hocvien", PASSWORD)
    after = client.get_cookie("session").value
    assert before != after
    fixed = client.application.test_client()
    fixed.set_cookie("session", before)
    assert fixed.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions(app, client, login, learner):
    login(learner)
    other = login(learner, c=app.test_client())
    assert other.get("/dashboard").status_code == 200
    token = csrf_token(client, "/account/password")
    new = "a much better passphrase 2026"
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": new, "confirm": new, "csrf_token": token},
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session carries on
    assert other.get("/dashboard").status_code == 302  # the other one ended


def test_disabled_account_refused_on_next_request(app, client, login, learner, admin):
    login(learner)
    assert client.get("/dashboard").status_code == 200
    services.set_enabled(services.Actor(admin), learner, False)
    assert client.get("/dashboard").status_code == 302
    assert _post_login(app.test_client(), "hocvien", PASSWORD).status_code == 401


def test_must_change_password_after_reset(client, login, learner, admin):
    services.reset_password(services.Actor(admin), learner, "temporary pass 123")
    login(learner, password="temporary pass 123")
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.location.endswith("/account/password")


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "http:evil.example",
        "\\\\evil.example",
    ],
)
def test_open_redirect_refused(client, learner, target):
    """Security case 3: only same-site relative paths are followed after sign-in."""
    response = _post_login(client, "hocvien", PASSWORD, next_=target)
    assert response.status_code == 302
    assert response.location.endswith("/dashboard")


def test_relative_next_followed(client, learner):
    response = _post_login(client, "hocvien", PASSWORD, next_="/account/password")
    assert response.location.endswith("/account/password")


def test_progressive_delay_per_account(app, client, learner):
    """Security case 14: 20 wrong passwords on one account."""
    statuses = [_post_login(client, "hocvien", f"wrong-{i}").status_code for i in range(20)]
    free = app.config["THROTTLE_ACCOUNT_FREE"]
    assert statuses[: free - 1] == [401] * (free - 1)
    assert 429 in statuses
    # Even the right password waits out the delay, with the same answer an unknown user gets.
    assert _post_login(client, "hocvien", PASSWORD).status_code == 429
    assert _post_login(client, "HOCVIEN", "x").status_code == 429
    fresh = app.test_client()
    for i in range(20):
        _post_login(fresh, "no-such-user", f"wrong-{i}")
    assert _post_login(fresh, "no-such-user", "x").status_code == 429


def test_delay_doubles_and_is_capped():
    assert [throttle.delay_after(n, 5, 900) for n in (1, 4, 5, 6, 7, 20)] == [0, 0, 1, 2, 4, 900]


def test_per_ip_throttle_against_credential_stuffing(app, db_session):
    """One password tried across many accounts from one address."""
    now = utcnow()
    cfg = dict(app.config)
    for i in range(cfg["THROTTLE_IP_FREE"]):
        assert services.authenticate(f"user{i}", "123456", "10.0.0.9", cfg, now) is None
    with pytest.raises(services.Throttled):
        services.authenticate("another", "123456", "10.0.0.9", cfg, now)
    # Another address is not affected, and the delay runs out.
    assert services.authenticate("another", "123456", "10.0.0.10", cfg, now) is None
    later = now + timedelta(seconds=cfg["THROTTLE_MAX_DELAY"] + 1)
    assert services.authenticate("another2", "123456", "10.0.0.9", cfg, later) is None


def test_success_clears_account_throttle(app, db_session, learner):
    now = utcnow()
    cfg = dict(app.config)
    for _ in range(3):
        services.authenticate("hocvien", "bad", "10.1.1.1", cfg, now)
    assert services.authenticate("hocvien", PASSWORD, "10.1.1.1", cfg, now) == learner
    assert db_session.get(LoginThrottle, throttle.account_key("hocvien")) is None


def test_login_events_are_audited(client, db_session, learner):
    _post_login(client, "hocvien", "bad password!")
    _post_login(client, "hocvien", PASSWORD)
    actions = [e.action for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["auth.login_failed", "auth.login"]
