"""Step 3 journey: answers survive going offline and a reload; two submits give one result."""

import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import User
from learnhub.quizzes.models import Attempt, AttemptItem
from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def test_offline_answers_are_kept_and_submit_twice_gives_one_result(live_server, browser, app):
    # A device whose clock is set to UTC: the page still tells Cà Mau's time (as its deadline).
    context = browser.new_context(viewport={"width": 360, "height": 800}, timezone_id="UTC")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill("browser-learner")
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/modules/hanh-trang-trinh-duyet")
    page.get_by_role("link", name="Kiểm tra cuối chuyên đề").click()
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    # quiz.js must be listening before an answer is chosen (see test_quiz_retry.py).
    page.wait_for_url(re.compile(r"/attempts/\d+$"), wait_until="load")

    q1, q2, q3 = (page.locator(f"#q{n}") for n in (1, 2, 3))
    q1.get_by_label("Sai").check()
    expect(q1.locator(".status[data-state=saved]")).to_contain_text("Đã lưu lúc")
    shown = q1.locator(".status[data-state=saved]").inner_text()
    saved_at = db.session.scalar(
        select(AttemptItem.answered_at)
        .join(Attempt)
        .join(User)
        .where(User.username == "browser-learner", AttemptItem.position == 1)
        .order_by(AttemptItem.answered_at.desc())
        .limit(1)
    )
    db.session.remove()
    local = saved_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local.strftime("%H:%M:%S") in shown, (shown, saved_at)

    context.set_offline(True)
    q2.get_by_label("Bộ Ngoại giao").check()
    expect(q2.locator(".status[data-state=offline]")).to_contain_text("mất kết nối")
    q3.get_by_label("Câu trả lời").fill("VUFO")
    expect(q3.locator(".status[data-state=offline]")).to_be_visible()
    context.set_offline(False)
    expect(q2.locator(".status[data-state=saved]")).to_be_visible()
    expect(q3.locator(".status[data-state=saved]")).to_be_visible()

    page.reload()
    expect(page.locator("#q1").get_by_label("Sai")).to_be_checked()
    expect(page.locator("#q2").get_by_label("Bộ Ngoại giao")).to_be_checked()
    expect(page.locator("#q3").get_by_label("Câu trả lời")).to_have_value("VUFO")

    # In English, quiz.js speaks English too (its words come from the page).
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"), wait_until="load")
    expect(page.locator("#autosave-help")).to_have_text(
        "Answers are saved as soon as you choose them."
    )
    english = page.locator("#q1")
    english.get_by_label("True").check()
    expect(english.locator(".status[data-state=saved]")).to_contain_text("Saved at")
    english.get_by_label("False").check()
    expect(english.locator(".status[data-state=saved]")).to_contain_text("Saved at")
    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"), wait_until="load")

    page.get_by_label("Tôi đã kiểm tra và muốn nộp bài").check()
    submit_url = page.locator("form[action$='/submit']").get_attribute("action")
    token = page.locator("form[action$='/submit'] input[name=csrf_token]").input_value()
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/review")
    expect(page.locator("p.score")).to_contain_text("10/10")
    # A second submit (double click, back button, resend) changes nothing.
    again = context.request.post(f"{live_server}{submit_url}", form={"csrf_token": token})
    assert again.ok
    page.reload()
    expect(page.locator("p.score")).to_contain_text("10/10")
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
