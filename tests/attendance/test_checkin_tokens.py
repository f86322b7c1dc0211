"""Rotating check-in tokens with an injectable clock: rotation, drift, tampering, other sessions
(security case 11)."""

import pytest

from learnhub.attendance import checkin

SECRET = b"test-secret"
STEP = 20
T0 = 1_800_000_000.0  # a fixed moment; windows of 20 s


def test_token_rotates_every_window():
    a = checkin.make_token(SECRET, 7, T0, STEP)
    assert T0 % STEP == 0
    assert checkin.make_token(SECRET, 7, T0 + 19, STEP) == a
    assert checkin.make_token(SECRET, 7, T0 + STEP, STEP) != a


def test_current_and_previous_window_accepted():
    token = checkin.make_token(SECRET, 7, T0, STEP)
    assert checkin.verify_token(SECRET, token, T0, STEP).session_id == 7
    assert checkin.verify_token(SECRET, token, T0 + STEP, STEP).session_id == 7  # drift / slow scan


def test_older_token_expired():
    token = checkin.make_token(SECRET, 7, T0, STEP)
    with pytest.raises(checkin.CheckinRefused, match="expired"):
        checkin.verify_token(SECRET, token, T0 + 2 * STEP, STEP)


def test_token_from_the_future_refused():
    token = checkin.make_token(SECRET, 7, T0 + 3 * STEP, STEP)
    with pytest.raises(checkin.CheckinRefused, match="not-yet"):
        checkin.verify_token(SECRET, token, T0, STEP)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: "8" + t[1:],  # another session id
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace(".", ".1", 1),  # window changed
        lambda t: "x" + t,
        lambda t: "",
        lambda t: "７.1.abc",  # non-ASCII digits
    ],
)
def test_tampered_tokens_refused(tamper):
    token = checkin.make_token(SECRET, 7, T0, STEP)
    with pytest.raises(checkin.CheckinRefused):
        checkin.verify_token(SECRET, tamper(token), T0, STEP)


def test_other_key_refused():
    token = checkin.make_token(b"another-key", 7, T0, STEP)
    with pytest.raises(checkin.CheckinRefused, match="invalid"):
        checkin.verify_token(SECRET, token, T0, STEP)


def test_numeric_code_binds_session_and_window():
    code = checkin.make_code(SECRET, 7, T0, STEP)
    assert len(code) == 6
    assert checkin.verify_code(SECRET, 7, code, T0 + STEP, STEP).window == checkin.window_of(
        T0, STEP
    )
    with pytest.raises(checkin.CheckinRefused):
        checkin.verify_code(SECRET, 8, code, T0, STEP)
    with pytest.raises(checkin.CheckinRefused):
        checkin.verify_code(SECRET, 7, code, T0 + 2 * STEP, STEP)
