"""Finding 4 of issue 13: /reauth is throttled and audited exactly like sign-in."""

from datetime import timedelta

import pytest

from learnhub.accounts import services, throttle
from learnhub.accounts.models import LoginThrottle
from learnhub.audit.models import AuditEvent
from learnhub.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.support import csrf_token


def _reauth(client, password):
    token = csrf_token(client, "/reauth")
    return client.post("/reauth", data={"password": password, "csrf_token": token})


def test_finding4_reauth_throttled_25_wrong_then_right_refused(client, login, learner, db_session):
    login(learner)
    statuses = [_reauth(client, f"wrong password {i}").status_code for i in range(25)]
    assert 429 in statuses
    # The right password waits out the lock, as at sign-in.
    right = _reauth(client, PASSWORD)
    assert right.status_code == 429
    assert "giây" in right.get_data(as_text=True)
    actions = [
        e.action
        for e in db_session.query(AuditEvent).filter(AuditEvent.object_id == str(learner.id))
    ]
    assert "auth.reauth_failed" in actions
    assert "auth.reauth" not in actions


def test_finding4_reauth_shares_the_sign_in_rule(app, db_session, learner):
    """25 real failures (time moving on between them): the account is locked for sign-in and
    re-authentication alike, and the right password is refused until the delay runs out."""
    cfg = dict(app.config)
    now = utcnow()
    for _ in range(25):
        wait = throttle.blocked_for([throttle.account_key(learner.login)], now)
        now += timedelta(seconds=wait)
        assert services.reauthenticate(learner, "wrong password", "10.2.2.2", cfg, now) is False
    with pytest.raises(services.Throttled) as locked:
        services.reauthenticate(learner, PASSWORD, "10.2.2.2", cfg, now)
    assert locked.value.seconds > 60
    with pytest.raises(services.Throttled):
        services.authenticate(learner.login, PASSWORD, "10.3.3.3", cfg, now)
    later = now + timedelta(seconds=cfg["THROTTLE_MAX_DELAY"] + 1)
    assert services.reauthenticate(learner, PASSWORD, "10.2.2.2", cfg, later) is True
    assert db_session.get(LoginThrottle, throttle.account_key(learner.login)) is None


def test_finding4_reauth_events_are_audited(client, login, learner, db_session):
    login(learner)
    assert _reauth(client, "not my password").status_code == 401
    response = _reauth(client, PASSWORD)
    assert response.status_code == 302
    events = (
        db_session.query(AuditEvent)
        .filter(AuditEvent.action.like("auth.reauth%"))
        .order_by(AuditEvent.id)
        .all()
    )
    assert [e.action for e in events] == ["auth.reauth_failed", "auth.reauth"]
    assert all(e.actor_id == learner.id and e.object_id == str(learner.id) for e in events)
