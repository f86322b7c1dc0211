"""Journeys of step 2: a learner on a phone finds and reads a module without JavaScript;
a trainer edits a lesson, previews, publishes and sees the diff."""

import re

import pytest

from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")


def test_learner_finds_reads_and_progresses_without_javascript(live_server, browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="vi-VN"
    )
    page = context.new_page()
    _sign_in(page, live_server, "browser-learner")
    page.get_by_role("link", name="Chuyên đề").first.click()
    page.get_by_label("Tìm chuyên đề").fill("ky nang doi ngoai")  # no diacritics
    page.get_by_role("button", name="Tìm").click()
    link = page.get_by_role(
        "link", name="Kỹ năng công tác đối ngoại nhân dân và thông tin đối ngoại"
    )
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_text("Đã đọc 0/")).to_be_visible()
    page.get_by_role("link", name="Bắt đầu học").click()
    first = page.locator("article.lesson h1")
    expect(first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    title = first.inner_text()  # the lesson shown now (the page is there: expect above)
    page.get_by_role("button", name="Đánh dấu đã đọc").click()
    # Marked read, and on to the next lesson.
    expect(page.locator("article.lesson h1")).not_to_have_text(title)
    expect(page.get_by_role("button", name="Đánh dấu đã đọc")).to_be_visible()
    page.get_by_role("navigation", name="Vị trí").get_by_role("link").click()
    expect(page.get_by_text("Đã đọc 1/")).to_be_visible()
    expect(page.get_by_role("link", name="Học tiếp")).to_be_visible()
    context.close()


def test_trainer_edits_previews_publishes_and_sees_diff(live_server, browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    _sign_in(page, live_server, "browser-trainer")
    page.get_by_role("link", name="Soạn thảo").click()
    page.get_by_role("link", name="Hành trang kiểm thử trình duyệt").click()
    page.get_by_role("link", name="Bài một").click()
    body = page.get_by_label("Nội dung (Markdown)")
    body.fill("# Bài một\n\nNội dung ban đầu.\n\n**Quy định mới năm 2026**\n")
    page.get_by_role("button", name="Xem trước").click()
    expect(page.locator("article.preview strong")).to_have_text("Quy định mới năm 2026")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu phiên bản")).to_be_visible()
    page.get_by_role("button", name="Công bố phiên bản").click()
    expect(page.get_by_text("Đã công bố phiên bản")).to_be_visible()
    page.get_by_role("link", name="Lịch sử phiên bản").click()
    page.get_by_role("link", name="so với v").first.click()
    line = re.compile("^" + re.escape("+**Quy định mới năm 2026**") + "$")
    added = page.locator("ins.add").filter(has_text=line)
    expect(added.first).to_be_visible()
    context.close()
