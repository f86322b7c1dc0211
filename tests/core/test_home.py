"""Finding 7: each role's home page says what to do next (and stays light on queries)."""

import random
from datetime import time, timedelta

from sqlalchemy import event as sa_event

from learnhub import db
from learnhub.accounts import roster
from learnhub.accounts.models import Role, User
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.classes import services as classes
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import AttemptState
from learnhub.reports.periodic import default_period
from learnhub.timeutil import today, utcnow
from tests.certificates.conftest import complete

MODULE = "doi-ngoai-nhan-dan"


def _class(code, title, trainers, starts, ends, place="", by=None):
    return classes.open_class(
        Actor(by),
        by_slug(MODULE),
        classes.ClassData(code=code, title=title, starts_on=starts, ends_on=ends, place=place),
        trainers,
    )


def _home(client) -> str:
    response = client.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_finding7_trainer_sees_the_classes_he_runs(client, login, admin, trainer, learner):
    day = today()
    # Opened by the admin, run by the trainer: he is named among the class's trainers.
    first = _class(
        "GD-1", "Lớp đối ngoại khóa I", [trainer], day - timedelta(days=1), day, by=admin
    )
    second = _class("GD-2", "Lớp đối ngoại khóa II", [trainer], day, day + timedelta(days=5))
    classes.add_sessions(Actor(admin), first, day - timedelta(days=1), 1, time(7), time(11), 4)
    classes.add_sessions(Actor(admin), second, day, 1, time(0, 1), time(23, 59), 4)
    classes.enrol(Actor(admin), second, [learner])
    quiz = quizzes.ensure_quiz(by_slug(MODULE))
    attempt = quizzes.start_attempt(quiz, learner, utcnow(), random.Random(1))
    attempt.state = AttemptState.needs_grading
    db.session.flush()
    login(trainer)
    html = _home(client)
    assert "Chưa có lớp nào do bạn phụ trách" not in html
    assert "Lớp đối ngoại khóa I" in html
    assert "Lớp đối ngoại khóa II" in html
    assert "Hôm nay" in html
    assert f"/manage/sessions/{second.sessions[0].id}/roll-call" in html
    assert "Chưa điểm danh 1 buổi đã học" in html
    assert f"/manage/sessions/{first.sessions[0].id}/roll-call" in html
    assert "1 bài thu hoạch chờ chấm" in html


def test_finding7_learner_sees_classes_and_the_next_session(client, login, trainer, learner):
    day = today()
    a = _class("HV-1", "Lớp kỹ năng A", [trainer], day, day + timedelta(days=3), "Hội trường A")
    b = _class("HV-2", "Lớp kỹ năng B", [trainer], day + timedelta(days=7), day + timedelta(days=9))
    classes.add_sessions(Actor(trainer), a, day, 2, time(0, 1), time(23, 59), 4)
    classes.add_sessions(Actor(trainer), b, day + timedelta(days=7), 1, time(13, 30), time(17), 4)
    classes.enrol(Actor(trainer), a, [learner])
    classes.enrol(Actor(trainer), b, [learner])
    login(learner)
    html = _home(client)
    assert "Bạn chưa bắt đầu chuyên đề nào" not in html
    assert "Lớp kỹ năng A" in html
    assert "Lớp kỹ năng B" in html
    assert "Hôm nay" in html
    assert "Hội trường A" in html
    assert (day + timedelta(days=7)).strftime("%d/%m/%Y") + ", 13:30–17:00" in html
    assert "Bài kiểm tra" in html


def test_finding7_learner_out_of_attempts_gets_a_next_step(client, login, trainer, learner):
    day = today()
    klass = _class("HV-3", "Lớp kỹ năng C", [trainer], day, day + timedelta(days=3))
    classes.enrol(Actor(trainer), klass, [learner])
    quiz = quizzes.ensure_quiz(by_slug(MODULE))
    quiz.attempts_allowed = 1
    attempt = quizzes.start_attempt(quiz, learner, utcnow(), random.Random(1))
    quizzes.submit_attempt(attempt, utcnow())
    db.session.flush()
    login(learner)
    html = _home(client)
    assert "đã dùng hết lượt làm bài mà chưa đạt" in html
    assert "Bước tiếp theo" in html
    assert trainer.full_name in html
    page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Bạn đã dùng hết số lần làm bài." in page
    assert "Bước tiếp theo" in page


def test_finding7_hr_sees_period_classes_ending_and_certificates_to_issue(
    client, login, hr, trainer, learner
):
    day = today()
    klass = _class("TC-1", "Lớp sắp kết thúc", [trainer], day - timedelta(days=3), day)
    complete(klass, learner)  # learner is in the HR's unit (CM-SNV)
    login(hr)
    html = _home(client)
    assert default_period().label() in html
    assert "Lớp sắp kết thúc" in html
    assert "1 học viên đã hoàn thành, chưa được cấp giấy" in html
    assert f"/classes/{klass.id}/certificates" in html


def test_finding7_admin_sees_accounts_waiting_and_imports(client, login, admin, db_session):
    data = (
        "Họ và tên,Ngày sinh,Tên đăng nhập/Email,Đơn vị,Chức vụ,Ngạch,Vai trò\n"
        "Đoàn Thị Chờ Mật Khẩu,01/02/1990,chomatkhau,CM-SNV,,,\n"
    ).encode()
    roster.apply_plan(Actor(admin), roster.plan_import(data))
    db_session.flush()
    waiting = db_session.query(User).filter_by(username="chomatkhau").one()
    assert waiting.password_hash is None
    login(admin)
    html = _home(client)
    assert "Tài khoản chờ đặt mật khẩu" in html
    assert "Đoàn Thị Chờ Mật Khẩu" in html
    assert "Lần nhập danh sách gần đây" in html
    assert "1 tài khoản mới, 0 cập nhật, 0 không đổi" in html


def _statements(client) -> int:
    count = 0

    def _count(*_args):
        nonlocal count
        count += 1

    target = db.session.get_bind()
    target = getattr(target, "engine", target)
    sa_event.listen(target, "before_cursor_execute", _count)
    try:
        _home(client)
    finally:
        sa_event.remove(target, "before_cursor_execute", _count)
    return count


def test_finding7_home_queries_do_not_grow_with_classes(client, login, create_user, unit):
    busy = create_user(
        "ban-ron", roles=(Role.trainer, Role.learner, Role.hr, Role.admin), unit=unit("CM-SNV")
    )
    day = today()
    login(busy)
    _home(client)
    few = _statements(client)
    for i in range(8):
        klass = _class(f"Q-{i}", f"Lớp {i}", [busy], day - timedelta(days=2), day + timedelta(1))
        classes.add_sessions(Actor(busy), klass, day - timedelta(days=2), 4, time(7), time(11), 4)
        classes.enrol(Actor(busy), klass, [busy])
    many = _statements(client)
    assert many <= few + 12, (few, many)  # blocks that appear, never one query per class
    more = _class("Q-X", "Lớp X", [busy], day - timedelta(days=2), day + timedelta(days=1))
    classes.add_sessions(Actor(busy), more, day - timedelta(days=2), 4, time(7), time(11), 4)
    classes.enrol(Actor(busy), more, [busy])
    assert _statements(client) == many
