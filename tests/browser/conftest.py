"""Browser harness: the app served on 127.0.0.1 in a thread, driven by Debian's Chromium.

How the journeys wait (issue 14, finding 8): a click returns once the browser has started on the
next page, not once that page is there. So every assertion about a page is made through
Playwright's `expect`, which retries until it holds or its timeout passes; never `is_visible()`,
`inner_text()`, `count()` or `page.content()` read right after an action, and never a fixed
`wait_for_timeout`. The timeout is generous (a loaded machine is slow, not wrong); a page that
never shows what it should still fails.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.live import BROWSER_PASSWORD
from tests.support import require

#: How long an `expect(...)` assertion retries before it fails.
EXPECT_TIMEOUT_MS = 20_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)

# The journeys import these two from here.
__all__ = ["BROWSER_PASSWORD", "expect"]

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Chromium from reaching for the network, and let it run as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM.exists(), "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A fresh browser context the size of a cheap phone (360 px wide)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    yield context
    context.close()
