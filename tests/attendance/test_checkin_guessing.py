"""Issue 13, finding 2 (High), check-in by guessing: codes were tried against every session of the
class, with no rate limit and no look at the clock, and failures left no trace. Now a code or QR
token checks in only to a session happening now; tries are throttled per learner and class (a
growing delay, then a lock); nothing is recorded for a session that has not started, whichever
way (check-in, roll call, paper grid); every failed try is audited. The clock is the `frozen`
fixture: 09:00 in Cà Mau on 10/03/2026."""

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from learnhub.attendance import checkin
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from tests.support import csrf_token, multipart

TODAY = date(2026, 3, 10)


@pytest.fixture
def lop(trainer, learner, frozen):
    """Session 1 today 07:30-11:00 (under way at 09:00), session 2 tomorrow at the same hours."""
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="DOAN-1",
            title="Lớp điểm danh chống đoán mã",
            starts_on=TODAY,
            ends_on=TODAY + timedelta(days=2),
        ),
        [trainer],
    )
    classes.add_sessions(Actor(trainer), training_class, TODAY, 2, time(7, 30), time(11, 0), 4)
    classes.enrol(Actor(trainer), training_class, [learner])
    return training_class


def _code(app, session_id, clock) -> str:
    secret = app.config["SECRET_KEY"].encode()
    return checkin.make_code(
        secret, session_id, clock.timestamp, app.config["CHECKIN_STEP_SECONDS"]
    )


def _token(app, session_id, clock) -> str:
    secret = app.config["SECRET_KEY"].encode()
    return checkin.make_token(
        secret, session_id, clock.timestamp, app.config["CHECKIN_STEP_SECONDS"]
    )


def _wrong(right: str, n: int) -> str:
    guess = f"{(int(right) + 1 + n) % 1_000_000:06d}"
    return guess if guess != right else f"{(int(right) + 500_000) % 1_000_000:06d}"


def _failures(db_session, user) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.action == "attendance.checkin_failed", AuditEvent.actor_id == user.id)
        .order_by(AuditEvent.id)
    )
    return list(db_session.scalars(stmt))


def test_checkin_by_guessing_30_wrong_codes_get_429_and_a_lock(
    app, client, login, learner, lop, frozen, db_session
):
    login(learner)
    url = f"/classes/{lop.id}/code"
    csrf = csrf_token(client, url)
    right = _code(app, lop.sessions[0].id, frozen)
    statuses = []
    for n in range(30):  # a script: one guess a second, never waiting for the delay
        response = client.post(url, data={"code": _wrong(right, n), "csrf_token": csrf})
        statuses.append(response.status_code)
        html = response.get_data(as_text=True)
        if response.status_code == 429:
            assert "Bạn đã nhập sai mã quá nhiều lần" in html
            assert re.search(r"đến \d{2}/\d{2}/2026 \d{2}:\d{2}", html)
            assert int(response.headers["Retry-After"]) >= 1
        else:
            assert "Mã số không đúng" in html
        frozen.tick(1)
    free = app.config["CHECKIN_THROTTLE_FREE"]
    assert statuses[:free] == [200] * free  # the first few are answered
    assert 429 in statuses[free : free + 2]
    assert statuses.count(429) >= 20  # then only when a (growing) delay has run out
    # The delay doubles with each failure, up to the lock; the right code is refused meanwhile.
    waits = []
    for n in range(10):
        now_code = _code(app, lop.sessions[0].id, frozen)
        refused = client.post(url, data={"code": now_code, "csrf_token": csrf})
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        frozen.tick(waits[-1])
        guess = _wrong(_code(app, lop.sessions[0].id, frozen), n)
        assert client.post(url, data={"code": guess, "csrf_token": csrf}).status_code == 200
    lock = app.config["CHECKIN_THROTTLE_MAX_DELAY"]
    assert waits == sorted(waits)
    assert waits[0] < 60
    assert lock <= waits[-1] <= lock + 1
    assert waits.count(waits[-1]) >= 2  # locked: the delay grows no further
    assert attendance.record_of(lop.sessions[0], learner) is None
    assert len(_failures(db_session, learner)) >= 30  # wrong codes and throttled tries alike


def test_checkin_by_guessing_lock_is_per_learner_and_class(
    app, client, login, learner, create_user, trainer, lop, frozen
):
    login(learner)
    url = f"/classes/{lop.id}/code"
    csrf = csrf_token(client, url)
    right = _code(app, lop.sessions[0].id, frozen)
    for n in range(app.config["CHECKIN_THROTTLE_FREE"] + 1):
        client.post(url, data={"code": _wrong(right, n), "csrf_token": csrf})
    assert client.post(url, data={"code": right, "csrf_token": csrf}).status_code == 429
    other = create_user("hoc-vien-khac")
    classes.enrol(Actor(trainer), lop, [other])
    second = app.test_client()
    login(other, c=second)
    done = second.post(url, data={"code": right, "csrf_token": csrf_token(second, url)})
    assert done.status_code == 200
    assert "Đã điểm danh" in done.get_data(as_text=True)


def test_checkin_by_guessing_right_code_for_tomorrow_says_when_it_opens(
    app, client, login, learner, lop, frozen, db_session
):
    login(learner)
    frozen.tick(3 * 3600)  # 12:00: session 1 closed at 11:00 (+30 minutes), session 2 tomorrow
    url = f"/classes/{lop.id}/code"
    tomorrow = lop.sessions[1]
    response = client.post(
        url, data={"code": _code(app, tomorrow.id, frozen), "csrf_token": csrf_token(client, url)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Buổi 2 chưa bắt đầu: điểm danh mở lúc 11/03/2026 07:15." in html
    assert attendance.record_of(tomorrow, learner) is None
    assert _failures(db_session, learner)[-1].after["reason"] == "not-open"


def test_checkin_by_guessing_qr_token_for_a_session_two_days_ahead_refused(
    app, client, login, learner, trainer, lop, frozen, db_session
):
    (later,) = classes.add_sessions(
        Actor(trainer), lop, TODAY + timedelta(days=2), 1, time(13, 30), time(17, 0), 4
    )
    login(learner)
    token = _token(app, later.id, frozen)
    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/checkin/{token}", data={"csrf_token": csrf_token(client, f"/classes/{lop.id}")}
        )
        assert response.status_code == 400
        assert "Buổi 3 chưa bắt đầu: điểm danh mở lúc 12/03/2026 13:15." in response.get_data(
            as_text=True
        )
    assert attendance.record_of(later, learner) is None
    assert [e.after["reason"] for e in _failures(db_session, learner)] == ["not-open"] * 2


def test_checkin_by_guessing_a_session_over_is_closed(app, client, login, learner, lop, frozen):
    login(learner)
    frozen.now = frozen.now.replace(hour=4, minute=29)  # 11:29: open until 11:30
    url = f"/checkin/{_token(app, lop.sessions[0].id, frozen)}"
    assert client.get(url).status_code == 200
    frozen.tick(2 * 60)  # 11:31
    url = f"/checkin/{_token(app, lop.sessions[0].id, frozen)}"
    response = client.post(url, data={"csrf_token": csrf_token(client, f"/classes/{lop.id}")})
    assert response.status_code == 400
    assert "đã hết giờ điểm danh" in response.get_data(as_text=True)
    assert attendance.record_of(lop.sessions[0], learner) is None


def test_checkin_by_guessing_code_and_qr_check_in_now(app, client, login, learner, lop, frozen):
    """The session under way: a right code checks in (late: 09:00 is past 07:30 + 15 minutes)."""
    login(learner)
    url = f"/classes/{lop.id}/code"
    right = _code(app, lop.sessions[0].id, frozen)
    done = client.post(url, data={"code": right, "csrf_token": csrf_token(client, url)})
    assert "Đã điểm danh" in done.get_data(as_text=True)
    record = attendance.record_of(lop.sessions[0], learner)
    assert (record.status, record.method) == (Status.late, Method.code)


def test_checkin_by_guessing_failed_tries_audited(
    app, client, login, learner, lop, frozen, db_session
):
    login(learner)
    url = f"/classes/{lop.id}/code"
    csrf = csrf_token(client, url)
    right = _code(app, lop.sessions[0].id, frozen)
    client.post(url, data={"code": _wrong(right, 0), "csrf_token": csrf})
    forged = _token(app, lop.sessions[0].id, frozen)[:-2] + "xx"
    client.get(f"/checkin/{forged}")
    expired = _token(app, lop.sessions[0].id, frozen)
    frozen.tick(120)
    client.get(f"/checkin/{expired}")
    events = _failures(db_session, learner)
    assert [e.after["reason"] for e in events] == ["wrong-code", "invalid", "expired"]
    assert events[0].object_type == "class"
    assert events[0].object_id == str(lop.id)
    assert all(e.ip for e in events)
    assert _wrong(right, 0) not in str([e.after for e in events])  # no code in the log


def test_checkin_by_guessing_roll_call_refuses_a_future_session(
    client, login, trainer, learner, lop, frozen
):
    login(trainer)
    url = f"/manage/sessions/{lop.sessions[1].id}/roll-call"
    page = client.get(url).get_data(as_text=True)
    assert "Buổi 2 chưa bắt đầu: điểm danh mở lúc 11/03/2026 07:15." in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert "Buổi 2 chưa bắt đầu" in response.get_data(as_text=True)
    assert attendance.record_of(lop.sessions[1], learner) is None
    today_url = f"/manage/sessions/{lop.sessions[0].id}/roll-call"
    assert client.post(today_url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    assert attendance.record_of(lop.sessions[0], learner).status == Status.present


def test_checkin_by_guessing_paper_grid_refuses_a_future_session(
    client, login, trainer, learner, lop, frozen
):
    login(trainer)
    url = f"/manage/classes/{lop.id}/paper"
    s1, s2 = lop.sessions
    html = client.get(url).get_data(as_text=True)
    assert re.search(rf'<select [^>]*name="c-{s2.id}-{learner.id}"[^>]* disabled', html)
    data = {
        "csrf_token": csrf_token(client, url),
        f"c-{s1.id}-{learner.id}": "present",
        f"c-{s2.id}-{learner.id}": "present",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "Buổi 2 chưa bắt đầu: điểm danh mở lúc 11/03/2026 07:15." in response.get_data(
        as_text=True
    )
    assert attendance.record_of(s1, learner) is None  # nothing half-done
    assert attendance.record_of(s2, learner) is None
    sheet = f"Tên đăng nhập,Buổi 1,Buổi 2\n{learner.login},có mặt,có mặt\n"
    body, ctype = multipart({"csrf_token": data["csrf_token"]}, {"file": (sheet.encode(), "a.csv")})
    response = client.post(url, data=body, content_type=ctype)
    assert response.status_code == 400
    assert "Buổi 2 chưa bắt đầu" in response.get_data(as_text=True)
    assert attendance.record_of(s1, learner) is None
    del data[f"c-{s2.id}-{learner.id}"]
    assert client.post(url, data=data).status_code == 302
    assert attendance.record_of(s1, learner).status == Status.present


def test_checkin_by_guessing_no_way_records_a_session_not_started(trainer, learner, lop, frozen):
    """The one rule, in attendance.services.record: whatever the method."""
    for method in Method:
        with pytest.raises(attendance.SessionNotStarted, match="11/03/2026 07:15"):
            attendance.record(
                Actor(trainer), lop.sessions[1], learner, Status.present, method, frozen.now
            )
    with pytest.raises(attendance.SessionNotStarted):
        attendance.roll_call(Actor(trainer), lop.sessions[1], {}, frozen.now)
    assert attendance.record_of(lop.sessions[1], learner) is None
    opens = lop.sessions[1].on  # 07:15 on 11/03 in Cà Mau is 00:15 UTC
    at_opening = frozen.now.replace(day=opens.day, hour=0, minute=15)
    attendance.record(
        Actor(trainer), lop.sessions[1], learner, Status.present, Method.rollcall, at_opening
    )
    assert attendance.record_of(lop.sessions[1], learner) is not None
