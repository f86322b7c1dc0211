"""QR check-in over HTTP: one flow through sign-in, refusals with clear messages, the numeric
code, the roll call, and the trainer's view of suspicious patterns (security case 11)."""

import re
from datetime import date
from datetime import time as clock_time

import pytest

from learnhub.attendance import checkin
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from tests.conftest import PASSWORD
from tests.support import csrf_token, multipart

#: The day of the class, the `frozen` clock's (09:00 in Cà Mau, session 1 under way).
DAY = date(2026, 3, 10)


@pytest.fixture
def lop(trainer, learner, frozen):
    """Session 1 on the morning of DAY (07:30-11:00), session 2 in its afternoon (13:30-17:00):
    a code or QR token checks in only to the session happening now."""
    training_class = classes.open_class(
        Actor(trainer),
        catalog.by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(code="QR-1", title="Lớp điểm danh QR", starts_on=DAY, ends_on=DAY),
        [trainer],
    )
    for starts, ends in ((clock_time(7, 30), clock_time(11)), (clock_time(13, 30), clock_time(17))):
        classes.add_sessions(Actor(trainer), training_class, DAY, 1, starts, ends, 4)
    classes.enrol(Actor(trainer), training_class, [learner])
    return training_class


def _afternoon(frozen) -> None:
    """14:00 on DAY: session 2 under way."""
    frozen.now = frozen.now.replace(hour=7)


def _token(app, session_id, frozen, ago: float = 0):
    return checkin.make_token(
        app.config["SECRET_KEY"].encode(),
        session_id,
        frozen.timestamp - ago,
        app.config["CHECKIN_STEP_SECONDS"],
    )


def test_projector_shows_qr_and_code(client, login, trainer, lop):
    login(trainer)
    html = client.get(f"/manage/sessions/{lop.sessions[0].id}/qr").get_data(as_text=True)
    assert "<svg" in html
    assert re.search(r"<strong>\d{6}</strong>", html)
    assert 'http-equiv="refresh"' in html


def test_scan_sign_in_and_land_back_checked_in(app, client, learner, lop, frozen, db_session):
    token = _token(app, lop.sessions[0].id, frozen)
    response = client.get(f"/checkin/{token}")
    assert response.status_code == 302
    assert "/login?next=/checkin/" in response.location
    login_token = csrf_token(client, "/login")
    response = client.post(
        response.location,
        data={"login": learner.login, "password": PASSWORD, "csrf_token": login_token},
    )
    assert response.location.endswith(f"/checkin/{token}")
    # The sign-in itself completed the check-in: the learner lands on it, done.
    page = client.get(response.location)
    assert page.status_code == 200
    assert "Đã điểm danh" in page.get_data(as_text=True)
    record = attendance.record_of(lop.sessions[0], learner)
    # The session began at 07:30: at 09:00, late.
    assert (record.status, record.method) == (Status.late, Method.qr)
    again = client.get(f"/checkin/{token}")
    assert again.status_code == 409
    assert "Bạn đã điểm danh buổi học này rồi" in again.get_data(as_text=True)


def test_signed_in_learner_confirms_with_one_tap(app, client, login, learner, lop, frozen):
    login(learner)
    _afternoon(frozen)
    token = _token(app, lop.sessions[1].id, frozen)
    page = client.get(f"/checkin/{token}").get_data(as_text=True)
    assert "Xác nhận có mặt" in page
    done = client.post(
        f"/checkin/{token}", data={"csrf_token": csrf_token(client, f"/checkin/{token}")}
    )
    assert "Đã điểm danh" in done.get_data(as_text=True)
    assert attendance.record_of(lop.sessions[1], learner) is not None


def test_expired_token_refused_clearly(app, client, login, learner, lop, frozen):
    login(learner)
    token = _token(app, lop.sessions[0].id, frozen, ago=120)
    response = client.get(f"/checkin/{token}")
    assert response.status_code == 400
    assert "Mã QR đã hết hạn" in response.get_data(as_text=True)
    assert attendance.record_of(lop.sessions[0], learner) is None


def test_tampered_token_refused(app, client, login, learner, lop, frozen):
    login(learner)
    token = _token(app, lop.sessions[0].id, frozen)
    forged = str(lop.sessions[1].id) + token[token.index(".") :]
    response = client.get(f"/checkin/{forged}")
    assert response.status_code == 400
    assert "không hợp lệ" in response.get_data(as_text=True)


def test_other_class_refused(app, client, login, create_user, lop, frozen):
    stranger = create_user("nguoi-ngoai")
    login(stranger)
    response = client.get(f"/checkin/{_token(app, lop.sessions[0].id, frozen)}")
    assert response.status_code == 403
    assert "không có tên trong danh sách lớp" in response.get_data(as_text=True)


def test_numeric_code(app, client, login, learner, lop, frozen):
    login(learner)
    _afternoon(frozen)
    code = checkin.make_code(
        app.config["SECRET_KEY"].encode(),
        lop.sessions[1].id,
        frozen.timestamp,
        app.config["CHECKIN_STEP_SECONDS"],
    )
    token = csrf_token(client, f"/classes/{lop.id}/code")
    wrong = client.post(
        f"/classes/{lop.id}/code",
        data={"code": "000000" if code != "000000" else "111111", "csrf_token": token},
    )
    assert "Mã số không đúng" in wrong.get_data(as_text=True)
    right = client.post(f"/classes/{lop.id}/code", data={"code": code, "csrf_token": token})
    assert "Đã điểm danh" in right.get_data(as_text=True)
    assert attendance.record_of(lop.sessions[1], learner).method == Method.code


def test_roll_call_page_and_suspicious_pattern(
    client, login, trainer, learner, create_user, lop, frozen
):
    other = create_user("cung-may")
    classes.enrol(Actor(trainer), lop, [other])
    for user in (learner, other):
        attendance.record(
            Actor(user),
            lop.sessions[0],
            user,
            Status.present,
            Method.qr,
            frozen.now,
            ip="10.9.9.9",
        )
    login(trainer)
    html = client.get(f"/manage/sessions/{lop.sessions[0].id}/qr").get_data(as_text=True)
    assert "Địa chỉ 10.9.9.9: 2" in html
    token = csrf_token(client, f"/manage/sessions/{lop.sessions[0].id}/roll-call")
    response = client.post(
        f"/manage/sessions/{lop.sessions[0].id}/roll-call",
        data={"csrf_token": token, f"s-{other.id}": "absent"},
    )
    assert response.status_code == 302
    assert attendance.record_of(lop.sessions[0], other).status == Status.absent
    assert attendance.record_of(lop.sessions[0], learner).status == Status.present
    bad = client.post(
        f"/manage/sessions/{lop.sessions[0].id}/roll-call",
        data={"csrf_token": token, f"s-{other.id}": "drop table"},
    )
    assert bad.status_code == 400


def test_learner_sees_checklist_on_class_page(client, login, learner, lop):
    login(learner)
    html = client.get(f"/classes/{lop.id}").get_data(as_text=True)
    assert "Điều kiện hoàn thành" in html
    assert "✗ Đọc hết các bài học" in html


def test_paper_grid_and_csv_import(client, login, trainer, learner, create_user, lop, frozen):
    _afternoon(frozen)  # both sessions have started
    other = create_user("giay-ky", full_name="Huỳnh Văn Giấy")
    classes.enrol(Actor(trainer), lop, [other])
    login(trainer)
    url = f"/manage/classes/{lop.id}/paper"
    token = csrf_token(client, url)
    s1, s2 = lop.sessions
    data = {"csrf_token": token}
    for s in (s1, s2):
        for u in (learner, other):
            data[f"c-{s.id}-{u.id}"] = "present"
    data[f"c-{s2.id}-{other.id}"] = "excused"
    assert client.post(url, data=data).status_code == 302
    assert attendance.record_of(s2, other).status == Status.excused
    assert attendance.record_of(s2, other).method == Method.sheet
    # A cell left "not recorded" stays unrecorded (the grid offers it, selected, for empty cells).
    third = create_user("giay-ky-3", full_name="Trần Thị Chưa Ghi")
    classes.enrol(Actor(trainer), lop, [third])
    html = client.get(url).get_data(as_text=True)
    assert f'name="c-{s1.id}-{third.id}"><option value="" selected>' in html
    data[f"c-{s1.id}-{third.id}"] = ""
    data[f"c-{s2.id}-{third.id}"] = "absent"
    assert client.post(url, data=data).status_code == 302
    assert attendance.record_of(s1, third) is None
    assert attendance.record_of(s2, third).status == Status.absent
    data[f"c-{s1.id}-{third.id}"] = "flying"
    assert client.post(url, data=data).status_code == 400
    bad_csv = "Tên đăng nhập,Buổi 1,Buổi 2\ngiay-ky,có mặt,bay\nkhong-co,có mặt,\n"
    body, ctype = multipart({"csrf_token": token}, {"file": (bad_csv.encode(), "ky-nhan.csv")})
    response = client.post(url, data=body, content_type=ctype)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Dòng 2" in html
    assert "Dòng 3" in html
    assert attendance.record_of(s1, other).status == Status.present  # nothing imported
    good_csv = "Tên đăng nhập,Buổi 1,Buổi 2\ngiay-ky,vắng không phép,đi muộn\n"
    body, ctype = multipart({"csrf_token": token}, {"file": (good_csv.encode(), "ky-nhan.csv")})
    assert client.post(url, data=body, content_type=ctype).status_code == 302
    assert attendance.record_of(s1, other).status == Status.absent
    assert attendance.record_of(s2, other).status == Status.late


def test_enrol_from_roster_file(client, login, trainer, lop, db_session, create_user):
    # Enrolment matches existing accounts only (tests/classes/test_enrolment.py has the rules).
    create_user("nv-tep", full_name="Nguyễn Văn Tệp")
    create_user("lt-tep", full_name="Lê Thị Tệp")
    login(trainer)
    token = csrf_token(client, f"/manage/classes/{lop.id}")
    csv_text = (
        "Họ và tên,Tên đăng nhập/Email,Đơn vị\n"
        "Nguyễn Văn Tệp,nv-tep,CM-SNV\nLê Thị Tệp,lt-tep,CM-SNV\n"
    )
    body, ctype = multipart({"csrf_token": token}, {"file": (csv_text.encode(), "lop.csv")})
    response = client.post(f"/manage/classes/{lop.id}/enrol-file", data=body, content_type=ctype)
    assert response.status_code == 302
    logins = {u.login for u in classes.roster(lop)}
    assert {"nv-tep", "lt-tep"} <= logins
    bad = "Họ và tên,Tên đăng nhập/Email,Đơn vị\nA,moi-nguoi,KHONG-CO\n"
    body, ctype = multipart({"csrf_token": token}, {"file": (bad.encode(), "lop.csv")})
    client.post(f"/manage/classes/{lop.id}/enrol-file", data=body, content_type=ctype)
    assert "moi-nguoi" not in {u.login for u in classes.roster(lop)}


def test_last_missing_session_shows_complete_on_the_next_page(
    app, client, login, trainer, learner, lop, frozen
):
    from tests.attendance.test_attendance import _read_all_and_pass

    _read_all_and_pass(lop, learner)
    attendance.record(
        Actor(trainer), lop.sessions[0], learner, Status.present, Method.rollcall, frozen.now
    )
    _afternoon(frozen)
    page = app.test_client()
    login(learner, c=page)
    before = page.get(f"/classes/{lop.id}").get_data(as_text=True)
    assert "Bạn đã hoàn thành lớp học" not in before
    assert "✗ Tham dự đủ 80% số tiết (4/8)" in before
    login(trainer)
    token = csrf_token(client, f"/manage/sessions/{lop.sessions[1].id}/roll-call")
    client.post(f"/manage/sessions/{lop.sessions[1].id}/roll-call", data={"csrf_token": token})
    after = page.get(f"/classes/{lop.id}").get_data(as_text=True)
    assert "✓ Tham dự đủ 80% số tiết (8/8)" in after
    # Complete only once the class has ended (its last session ends tonight).
    assert "Bạn đã hoàn thành lớp học" not in after
    assert "✗ Lớp học chưa kết thúc" in after
    attendance.evaluate_class(lop, lop.ends_at)
    assert "Bạn đã hoàn thành lớp học" in page.get(f"/classes/{lop.id}").get_data(as_text=True)


def test_one_phone_checking_in_two_people_is_flagged(
    app, login, trainer, learner, create_user, lop, frozen
):
    other = create_user("ban-cung-ban")
    classes.enrol(Actor(trainer), lop, [other])
    phone = app.test_client()
    token = _token(app, lop.sessions[0].id, frozen)
    for person in (learner, other):
        login(person, c=phone)
        phone.post(
            f"/checkin/{token}",
            data={"csrf_token": csrf_token(phone, f"/checkin/{token}")},
            environ_base={"REMOTE_ADDR": f"10.1.1.{person.id % 200}"},
        )
        phone.post("/logout", data={"csrf_token": csrf_token(phone, "/dashboard")})
    devices = {attendance.record_of(lop.sessions[0], p).device for p in (learner, other)}
    assert len(devices) == 1
    assert len(next(iter(devices))) == 32
    staff = app.test_client()
    login(trainer, c=staff)
    html = staff.get(f"/manage/sessions/{lop.sessions[0].id}/qr").get_data(as_text=True)
    assert "Thiết bị" in html


def test_trainer_edits_and_closes_a_class(client, login, trainer, lop, db_session):
    from learnhub.audit.models import AuditEvent

    login(trainer)
    token = csrf_token(client, f"/manage/classes/{lop.id}")
    response = client.post(
        f"/manage/classes/{lop.id}/edit",
        data={
            "csrf_token": token,
            "title": "Lớp đã đổi tên",
            "place": "Phòng 2",
            "organisers": "",
            "capacity": "0",
            "status": "closed",
        },
    )
    assert response.status_code == 302
    assert (lop.title, lop.status) == ("Lớp đã đổi tên", "closed")
    event = db_session.query(AuditEvent).filter_by(action="class.update").one()
    assert event.after["status"] == "closed"
    too_small = client.post(
        f"/manage/classes/{lop.id}/edit",
        data={
            "csrf_token": token,
            "title": "x",
            "place": "",
            "organisers": "",
            "capacity": "0",
            "status": "nonsense",
        },
    )
    assert too_small.status_code == 302
    assert lop.title == "Lớp đã đổi tên"
