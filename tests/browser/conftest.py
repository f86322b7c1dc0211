"""Browser harness: the app served on 127.0.0.1 in a thread, driven by Debian's Chromium."""

from pathlib import Path

import pytest

from tests.live import BROWSER_PASSWORD  # noqa: F401 (the journeys import it from here)
from tests.support import require

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
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "the playwright package is not installed")
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
