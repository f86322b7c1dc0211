"""The first journey: sign in, see the dashboard, sign out; the old cookie no longer works."""

import pytest

from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")


def test_sign_in_dashboard_sign_out_old_cookie_dead(live_server, phone, browser):
    page = phone.new_page()
    _sign_in(page, live_server, "browser-learner")
    expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Nguyễn Thị Hồng Nhung")
    expect(page.get_by_role("heading", name="Học tập")).to_be_visible()
    # Nothing sideways on a 360-px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    stolen = phone.cookies()
    assert any(c["name"] == "session" for c in stolen)

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{live_server}/login")
    expect(page.get_by_text("Bạn đã đăng xuất")).to_be_visible()

    replay = browser.new_context()
    replay.add_cookies(stolen)
    old = replay.new_page()
    old.goto(f"{live_server}/dashboard")
    old.wait_for_url(f"{live_server}/login**")
    replay.close()


def test_admin_pages_usable_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    _sign_in(page, live_server, "browser-admin")
    page.get_by_role("link", name="Đơn vị").first.click()
    expect(page.get_by_role("heading", name="Cây đơn vị")).to_be_visible()
    expect(page.get_by_role("link", name="Xã Thới Bình")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unit tree")
    expect(page.get_by_role("button", name="Tiếng Việt")).to_be_visible()
    context.close()
