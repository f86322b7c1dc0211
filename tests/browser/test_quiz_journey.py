"""Step 3 journey: answers survive going offline and a reload; two submits give one result."""

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.quizzes.models import Attempt
from tests.browser.conftest import BROWSER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def test_offline_answers_are_kept_and_submit_twice_gives_one_result(live_server, browser, app):
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill("browser-learner")
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{live_server}/modules/hanh-trang-trinh-duyet")
    page.get_by_role("link", name="Kiểm tra cuối chuyên đề").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()

    q1, q2, q3 = (page.locator(f"#q{n}") for n in (1, 2, 3))
    q1.get_by_label("Sai").check()
    q1.locator(".status[data-state=saved]").wait_for()

    context.set_offline(True)
    q2.get_by_label("Bộ Ngoại giao").check()
    q2.locator(".status[data-state=offline]").wait_for()
    q3.get_by_label("Câu trả lời").fill("VUFO")
    q3.locator(".status[data-state=offline]").wait_for(timeout=5000)
    context.set_offline(False)
    q2.locator(".status[data-state=saved]").wait_for()
    q3.locator(".status[data-state=saved]").wait_for()

    page.reload()
    assert page.locator("#q1").get_by_label("Sai").is_checked()
    assert page.locator("#q2").get_by_label("Bộ Ngoại giao").is_checked()
    assert page.locator("#q3").get_by_label("Câu trả lời").input_value() == "VUFO"

    page.get_by_label("Tôi đã kiểm tra và muốn nộp bài").check()
    submit_url = page.locator("form[action$='/submit']").get_attribute("action")
    token = page.locator("form[action$='/submit'] input[name=csrf_token]").input_value()
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/review")
    # A second submit (double click, back button, resend) changes nothing.
    again = context.request.post(f"{live_server}{submit_url}", form={"csrf_token": token})
    assert again.ok
    assert "10/10" in page.content()
    context.close()

    with app.app_context():
        user = accounts.find_by_login("browser-learner")
        attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == user.id)).all()
        assert len(attempts) == 1
        assert [i.answer for i in attempts[0].items] == [
            {"value": False},
            {"choice": 0},
            {"text": "VUFO"},
        ]
        db.session.remove()
