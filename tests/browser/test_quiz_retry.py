"""An answer the server could not save (503 while the database restarts, a worker killed, a lost
connection) is sent again by the quiz page on its own until it is saved."""

import re
import uuid

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.quizzes.models import Attempt
from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def test_an_unsaved_answer_is_sent_again(live_server, app, phone):
    login = f"browser-retry-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        accounts.create_user(
            SYSTEM,
            full_name="Phạm Thị Thử Lại",
            login=login,
            password=BROWSER_PASSWORD,
            roles=[accounts.Grant(Role.learner)],
        )
        db.session.commit()
        db.session.remove()
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/modules/hanh-trang-trinh-duyet")
    page.get_by_role("link", name="Kiểm tra cuối chuyên đề").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    # quiz.js must be listening before an answer is chosen (a change made while the script is
    # still loading is sent on the next change, not at once).
    page.wait_for_url(re.compile(r"/attempts/\d+$"), wait_until="load")

    # The first two saves of question 1 meet a server that cannot save (503, as while PostgreSQL
    # restarts); then the server is back.
    refused = []

    def unavailable_twice(route):
        if len(refused) < 2:
            refused.append(route.request.url)
            route.fulfill(
                status=503,
                headers={"Retry-After": "5"},
                content_type="application/json",
                body='{"error": "Hệ thống tạm thời gián đoạn"}',
            )
        else:
            route.continue_()

    page.route("**/items/1", unavailable_twice)
    q1 = page.locator("#q1")
    q1.get_by_label("Sai").check()
    expect(q1.locator(".status[data-state=offline]")).to_contain_text("Sẽ tự gửi lại")
    # Two retries after a back-off: the last one is saved.
    expect(q1.locator(".status[data-state=saved]")).to_be_visible(timeout=60_000)
    assert len(refused) == 2

    with app.app_context():
        user = accounts.find_by_login(login)
        attempt = db.session.scalars(select(Attempt).where(Attempt.user_id == user.id)).one()
        assert attempt.items[0].answer == {"value": False}
        db.session.remove()
