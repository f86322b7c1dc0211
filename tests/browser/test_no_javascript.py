"""Benchmark B5's second half, "usable with JavaScript off", walked in a browser with scripts
disabled: a learner reads a module, marks its lessons read, takes its quiz (each answer saved by
its own form) and sees the result; a trainer takes the roll call and shows the check-in QR code.

Reading a shipped module without JavaScript is also in test_learning_journeys.py; this journey goes
on to the quiz and the attendance pages. Its learner is its own, so that the one-attempt checks of
test_quiz_journey.py hold whatever the order of the tests.
"""

import uuid
from datetime import time as dtime

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Status
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.classes.models import TrainingClass
from learnhub.orgunits import services as units
from learnhub.quizzes.models import Attempt, AttemptState
from learnhub.timeutil import today
from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

LEARNER = "browser-no-script"
LEARNER_NAME = "Đỗ Thị Không Dùng Script"
MODULE = "hanh-trang-trinh-duyet"


@pytest.fixture
def learner(app, live_server):
    with app.app_context():
        if accounts.find_by_login(LEARNER) is None:
            accounts.create_user(
                SYSTEM,
                full_name=LEARNER_NAME,
                login=LEARNER,
                password=BROWSER_PASSWORD,
                roles=[accounts.Grant(Role.learner)],
                unit=units.by_code("CM-SNV"),
            )
            db.session.commit()
        db.session.remove()
    return LEARNER


@pytest.fixture
def no_script(browser):
    """A phone-sized browser context that runs no script at all."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="vi-VN"
    )
    yield context
    context.close()


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")


def _save(page, position):
    """Press the question's own Lưu button: a plain form post, then the page again."""
    with page.expect_navigation():
        page.locator(f"#q{position}").get_by_role("button", name="Lưu").click()


def test_learner_reads_takes_the_quiz_and_sees_the_result(app, live_server, learner, no_script):
    page = no_script.new_page()
    _sign_in(page, live_server, learner)
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role(
        "link", name="Chuyên đề"
    ).click()
    page.get_by_role("link", name="Hành trang kiểm thử trình duyệt").click()
    expect(page.get_by_text("Đã đọc 0/2 bài")).to_be_visible()

    page.get_by_role("link", name="Bắt đầu học").click()
    expect(page.locator("article.lesson h1")).to_have_text("Bài một")
    page.get_by_role("button", name="Đánh dấu đã đọc").click()
    expect(page.locator("article.lesson h1")).to_have_text("Bài hai")  # on to the next one
    page.get_by_role("button", name="Đánh dấu đã đọc").click()
    page.wait_for_url(f"{live_server}/modules/{MODULE}")  # the last lesson leads back
    expect(page.get_by_text("Đã đọc 2/2 bài")).to_be_visible()

    page.get_by_role("link", name="Kiểm tra cuối chuyên đề").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url("**/attempts/*")
    attempt_url = page.url
    expect(page.locator("script[src$='quiz.js']")).to_have_count(1)  # there, but never run

    q1 = page.locator("#q1")
    q1.get_by_label("Sai").check()
    _save(page, 1)
    expect(page).to_have_url(f"{attempt_url}#q2")  # back on the page, at the next question
    expect(page.locator("#q1").get_by_label("Sai")).to_be_checked()
    expect(page.locator("#q1 .status")).to_have_text("Đã lưu")

    page.locator("#q2").get_by_label("Bộ Ngoại giao").check()
    _save(page, 2)
    # A text answer is saved by Enter too (the form's implicit submission).
    with page.expect_navigation():
        page.locator("#q3").get_by_label("Câu trả lời").fill("VUFO")
        page.locator("#q3").get_by_label("Câu trả lời").press("Enter")
    expect(page.locator("#q3").get_by_label("Câu trả lời")).to_have_value("VUFO")
    expect(page.get_by_text("Đã trả lời 3/3 câu.")).to_be_visible()

    page.get_by_label("Tôi đã kiểm tra và muốn nộp bài").check()
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/review")
    expect(page.locator("p.score")).to_contain_text("10/10")

    with app.app_context():
        user = accounts.find_by_login(learner)
        module = catalog.by_slug(MODULE)
        assert catalog.read_slugs(user, module) == {"bai-mot", "bai-hai"}
        (attempt,) = db.session.scalars(select(Attempt).where(Attempt.user_id == user.id)).all()
        assert attempt.state == AttemptState.graded
        assert attempt.score == 10
        assert [i.answer for i in attempt.items] == [
            {"value": False},
            {"choice": 0},
            {"text": "VUFO"},
        ]
        db.session.remove()


def test_trainer_takes_the_roll_call_and_projects_the_code(app, live_server, learner, no_script):
    _roll_call_and_projector(app, live_server, learner, no_script)


def test_finding8_roll_call_waits_for_a_slow_server(app, slow_server, learner, no_script):
    """Issue 14, finding 8: the same journey with every answer 1.5 s late (a loaded machine).
    Its assertions wait for the page that the click leads to, instead of reading the page that
    is still shown right after the click."""
    _roll_call_and_projector(app, slow_server, learner, no_script)


def _roll_call_and_projector(app, live_server, learner, no_script):
    with app.app_context():
        trainer = accounts.find_by_login("browser-trainer")
        student = accounts.find_by_login(learner)
        training_class = classes.open_class(
            Actor(trainer),
            catalog.by_slug(MODULE),
            classes.ClassData(
                code=f"NJ-{uuid.uuid4().hex[:6]}",
                title=f"Lớp không script {uuid.uuid4().hex[:4]}",
                starts_on=today(),
                ends_on=today(),
            ),
            [trainer],
        )
        (session,) = classes.add_sessions(
            SYSTEM, training_class, today(), 1, dtime(0, 0), dtime(23, 59), 4
        )
        classes.enrol(SYSTEM, training_class, [student])
        db.session.commit()
        class_id, class_title, session_id = training_class.id, training_class.title, session.id
        db.session.remove()

    page = no_script.new_page()
    _sign_in(page, live_server, "browser-trainer")
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role(
        "link", name="Lớp bồi dưỡng"
    ).click()
    page.get_by_role("link", name=class_title).click()
    page.get_by_role("link", name="Điểm danh", exact=True).click()
    page.get_by_role("group", name=LEARNER_NAME).get_by_label("Vắng không phép").check()
    page.get_by_role("button", name="Lưu điểm danh").click()
    expect(page.get_by_text("Đã lưu điểm danh (1 thay đổi).")).to_be_visible()
    expect(
        page.get_by_role("group", name=LEARNER_NAME).get_by_label("Vắng không phép")
    ).to_be_checked()

    # The projector page draws its QR code on the server and renews it with a meta refresh.
    page.goto(f"{live_server}/manage/sessions/{session_id}/qr")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)

    with app.app_context():
        student = accounts.find_by_login(learner)
        training_class = db.session.get(TrainingClass, class_id)
        records = attendance.records_of_class(training_class)
        assert records[(session_id, student.id)].status == Status.absent
        db.session.remove()
