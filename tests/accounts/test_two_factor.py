"""Two-factor sign-in for staff (issue 13, Build 5; ASVS 6.3.3): TOTP, recovery codes, reset."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from learnhub import config as settings
from learnhub.accounts import services, throttle, totp, twofactor
from learnhub.accounts.models import RecoveryCode, TwoFactor
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM, Actor
from learnhub.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.support import csrf_token, rfc6238

RFC_SECRET = b"12345678901234567890"
#: RFC 6238 Appendix B, SHA-1 column (8 digits).
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_rfc6238_appendix_b_vectors(unix_time, expected):
    assert totp.code_at(RFC_SECRET, unix_time, digits=8) == expected
    assert totp.code_at(RFC_SECRET, unix_time) == expected[-6:]
    assert rfc6238(totp.b32(RFC_SECRET), unix_time, digits=8) == expected  # the tests' own


def test_one_step_of_drift_and_no_replay():
    t = 1111111111
    now = totp.step_at(t)
    assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, t - 30), t, None) == now - 1
    assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, t + 30), t, None) == now + 1
    assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, t - 60), t, None) is None
    code = totp.code_at(RFC_SECRET, t)
    assert totp.matching_step(RFC_SECRET, code, t, now) is None  # used once already
    assert totp.matching_step(RFC_SECRET, "12345", t, None) is None
    assert totp.matching_step(RFC_SECRET, "abcdef", t, None) is None


def test_provisioning_uri_names_the_standard_parameters():
    uri = totp.provisioning_uri(RFC_SECRET, "quản.trị@camau.gov.vn", "LearnHub")
    assert uri.startswith("otpauth://totp/LearnHub%3Aqu%E1%BA%A3n.tr%E1%BB%8B%40camau.gov.vn?")
    assert f"secret={totp.b32(RFC_SECRET)}" in uri
    assert "algorithm=SHA1&digits=6&period=30" in uri


def test_required_roles_setting():
    assert settings.two_factor_roles(None, "production") == ("admin",)
    assert settings.two_factor_roles(None, "development") == ()
    assert settings.two_factor_roles("admin, hr", "production") == ("admin", "hr")
    assert settings.two_factor_roles((), "production") == ()
    with pytest.raises(RuntimeError):
        settings.two_factor_roles("root", "production")


# --- HTTP: enrolment, the second step, replay ---------------------------------------------------


@pytest.fixture
def admin_required(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ("admin",))


def _post(client, path, data, page="/dashboard"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _password_step(client, user, password=PASSWORD):
    return _post(client, "/login", {"login": user.login, "password": password}, "/login")


def _enrol(client, now=None):
    """Start enrolment, read the secret off the page, confirm with a code; returns
    (base32 secret, recovery codes)."""
    assert _post(client, "/account/two-factor/start", {}, "/account/two-factor").status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = SECRET.search(page).group(1).replace(" ", "")
    code = rfc6238(secret, now or time.time())
    response = _post(client, "/account/two-factor/confirm", {"code": code}, "/account/two-factor")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>", response.text)
    return secret, codes


def test_admin_without_two_factor_is_sent_to_enrol(admin_required, client, login, admin):
    login(admin)
    for path in ("/dashboard", "/admin/users/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.endswith("/account/two-factor")
    assert client.get("/account/two-factor").status_code == 200
    _enrol(client)
    assert client.get("/admin/users/").status_code == 200


def test_enrol_sign_out_sign_in_with_code_wrong_and_replayed_refused(
    admin_required, app, client, login, admin, db_session
):
    login(admin)
    secret, codes = _enrol(client)
    assert len(codes) == 10 == len(set(codes))
    assert client.get("/dashboard").status_code == 200
    _post(client, "/logout", {})

    # The password alone no longer opens a session.
    response = _password_step(client, admin)
    assert response.location.endswith("/login/two-factor")
    assert client.get("/dashboard").status_code == 302
    wrong = _post(client, "/login/two-factor", {"code": "000000"}, "/login/two-factor")
    assert wrong.status_code == 401
    assert "Mã xác thực không đúng" in wrong.text
    # The enrolment code's step is used: the next one (within the drift) signs in.
    code = rfc6238(secret, time.time() + 30)
    ok = _post(client, "/login/two-factor", {"code": code}, "/login/two-factor")
    assert ok.status_code == 302
    assert ok.location.endswith("/dashboard")
    assert client.get("/admin/users/").status_code == 200

    other = app.test_client()
    assert _password_step(other, admin).location.endswith("/login/two-factor")
    replay = _post(other, "/login/two-factor", {"code": code}, "/login/two-factor")
    assert replay.status_code == 401
    assert other.get("/dashboard").status_code == 302

    actions = [
        e.action
        for e in db_session.query(AuditEvent)
        .filter(AuditEvent.object_id == str(admin.id))
        .order_by(AuditEvent.id)
    ]
    assert actions.count("auth.two_factor_failed") == 2
    for action in ("user.two_factor_start", "user.two_factor_enabled", "auth.two_factor"):
        assert action in actions


def test_second_step_expires_and_needs_the_password_first(client, learner):
    assert client.get("/login/two-factor").location.endswith("/login")
    response = _post(client, "/login/two-factor", {"code": "123456"}, "/login")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_recovery_codes_work_once(app, client, login, trainer, db_session):
    login(trainer)
    _secret, codes = _enrol(client)
    _post(client, "/logout", {})
    _password_step(client, trainer)
    spaced = codes[0].upper().replace("-", " ")  # typed from paper: case and spaces forgiven
    ok = _post(client, "/login/two-factor", {"code": spaced}, "/login/two-factor")
    assert ok.status_code == 302
    assert ok.location.endswith("/dashboard")
    again = app.test_client()
    _password_step(again, trainer)
    assert _post(
        again, "/login/two-factor", {"code": codes[0]}, "/login/two-factor"
    ).status_code == (401)
    assert twofactor.recovery_codes_left(trainer) == 9
    stored = db_session.query(RecoveryCode).filter_by(user_id=trainer.id).all()
    assert all(codes[0] not in r.code_hash and len(r.code_hash) == 64 for r in stored)
    assert (
        db_session.query(AuditEvent)
        .filter_by(action="auth.recovery_code", object_id=str(trainer.id))
        .count()
        == 1
    )


def test_trainer_and_hr_are_offered_not_forced_learner_not_offered(
    admin_required, client, login, trainer, learner, app, monkeypatch
):
    login(trainer)
    assert client.get("/dashboard").status_code == 200
    assert "Xác thực hai bước" in client.get("/dashboard").text
    assert client.get("/account/two-factor").status_code == 200
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ("admin", "trainer"))
    assert client.get("/dashboard").location.endswith("/account/two-factor")
    pupil = login(learner, c=app.test_client())
    assert pupil.get("/account/two-factor").status_code == 403
    assert pupil.get("/dashboard").status_code == 200


def test_turn_off_only_when_not_required(app, client, login, trainer, monkeypatch, db_session):
    login(trainer)
    _enrol(client)
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ("trainer",))
    _post(client, "/account/two-factor/off", {}, "/account/two-factor")
    assert twofactor.is_enabled(trainer)
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ())
    _post(client, "/account/two-factor/off", {}, "/account/two-factor")
    db_session.expire_all()
    assert not twofactor.is_enabled(trainer)
    assert db_session.query(RecoveryCode).filter_by(user_id=trainer.id).count() == 0


def test_admin_reset_removes_the_authenticator_audited(
    admin_required, app, client, login, admin, trainer, db_session
):
    phone = login(trainer, c=app.test_client())
    _enrol(phone)
    login(admin)
    _enrol(client)
    page = client.get(f"/admin/users/{trainer.id}").text
    assert "Đặt lại xác thực hai bước" in page
    unconfirmed = _post(client, f"/admin/users/{trainer.id}/two-factor/reset", {})
    assert unconfirmed.status_code == 302
    assert twofactor.is_enabled(trainer)  # the confirmation box was not ticked
    _post(client, f"/admin/users/{trainer.id}/two-factor/reset", {"confirm": "on"})
    db_session.expire_all()
    assert db_session.get(TwoFactor, trainer.id) is None
    assert db_session.query(RecoveryCode).filter_by(user_id=trainer.id).count() == 0
    assert phone.get("/dashboard").status_code == 302  # their sessions ended
    event = db_session.query(AuditEvent).filter_by(action="user.two_factor_reset").one()
    assert event.actor_id == admin.id
    assert event.object_id == str(trainer.id)
    # The password alone signs them in again (trainers are not required to use it).
    assert _password_step(app.test_client(), trainer).location.endswith("/dashboard")


def test_second_step_throttled_like_the_password(app, db_session, trainer):
    cfg = dict(app.config)
    twofactor.start(SYSTEM, trainer, cfg)
    secret, _uri = twofactor.enrolment(trainer, cfg)
    now = utcnow()
    unix = now.replace(tzinfo=UTC).timestamp()
    twofactor.confirm(Actor(trainer), trainer, rfc6238(secret, unix), cfg, now)
    for _ in range(25):
        wait = throttle.blocked_for([throttle.factor_key(trainer.id)], now)
        now += timedelta(seconds=wait)
        assert twofactor.verify(trainer, "000000", "10.4.4.4", cfg, now) is False
    right = rfc6238(secret, now.replace(tzinfo=UTC).timestamp())
    with pytest.raises(services.Throttled):
        twofactor.verify(trainer, right, "10.4.4.4", cfg, now)
    # A right password does not forgive the second step's failures.
    assert services.authenticate(trainer.login, PASSWORD, "10.5.5.5", cfg, now) == trainer
    with pytest.raises(services.Throttled):
        twofactor.verify(trainer, right, "10.5.5.5", cfg, now)
    later = now + timedelta(seconds=cfg["THROTTLE_MAX_DELAY"] + 1)
    code = rfc6238(secret, later.replace(tzinfo=UTC).timestamp())
    assert twofactor.verify(trainer, code, "10.5.5.5", cfg, later) is True


def test_secret_is_encrypted_at_rest_and_bound_to_its_user(app, db_session, trainer, hr):
    cfg = dict(app.config)
    row = twofactor.start(SYSTEM, trainer, cfg)
    secret, _uri = twofactor.enrolment(trainer, cfg)
    assert secret not in row.secret_encrypted
    assert row.secret_encrypted.startswith("v1.")
    # Copied onto another user's row, it does not decrypt; another SECRET_KEY cannot read it.
    twofactor.start(SYSTEM, hr, cfg)
    db_session.get(TwoFactor, hr.id).secret_encrypted = row.secret_encrypted
    assert twofactor.enrolment(hr, cfg) is None
    assert twofactor.enrolment(trainer, {**cfg, "SECRET_KEY": "another key"}) is None


def test_confirm_with_a_wrong_code_enables_nothing(client, login, trainer):
    login(trainer)
    _post(client, "/account/two-factor/start", {})
    response = _post(client, "/account/two-factor/confirm", {"code": "999999x"})
    assert response.status_code == 302
    assert "Mã xác thực không đúng" in client.get("/account/two-factor").text
    assert not twofactor.is_enabled(trainer)


def test_unix_time_of_naive_utc_is_zone_independent(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    try:
        naive_utc = datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC).replace(tzinfo=None)
        assert twofactor._unix(naive_utc) == 59
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_cli_reset_for_a_locked_out_admin(app, runner, admin, db_session):
    cfg = dict(app.config)
    twofactor.start(SYSTEM, admin, cfg)
    secret, _uri = twofactor.enrolment(admin, cfg)
    twofactor.confirm(Actor(admin), admin, rfc6238(secret, time.time()), cfg, utcnow())
    result = runner.invoke(args=["users", "reset-two-factor", admin.login])
    assert result.exit_code == 0, result.output
    assert not twofactor.is_enabled(admin)
    event = db_session.query(AuditEvent).filter_by(action="user.two_factor_reset").one()
    assert event.actor_id is None
    assert runner.invoke(args=["users", "reset-two-factor", "nobody"]).exit_code != 0
