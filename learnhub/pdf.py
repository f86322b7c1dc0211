"""PDF rendering: the one home of WeasyPrint in LearnHub (certificates, sign-in sheets, registers).

Templates get plain, autoescaped values; the URL fetcher lets WeasyPrint load bundled static files
and data: URIs only, never the network or the file system at large. One FontConfiguration serves
every render of a worker, and a render has a time limit.
"""

import ctypes.util
import logging
import signal
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import current_app, render_template

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)

#: Fonts a certificate needs (Times New Roman's metric twin, with Vietnamese), by file name.
FONTS = {"Liberation Serif": {"LiberationSerif-Regular.ttf"}}
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


_RENDER_LOCK = threading.Lock()


class FetchRefused(ValueError):
    pass


class RenderTimeout(RuntimeError):
    pass


def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class SafeFetcher(URLFetcher):
        """Only data: URIs and files bundled in learnhub/static/ (by their file:// path)."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://"):
                path = Path(url.removeprefix("file://").split("?")[0]).resolve()
                if path.is_relative_to(STATIC) and path.is_file():
                    return super().fetch(url, headers)
            log.warning("PDF render refused to fetch %s", url[:200])
            raise FetchRefused(url[:200])

    return SafeFetcher


def url_fetcher():
    """A new fetcher (they keep per-request state, so one per render)."""
    return _fetcher_class()(timeout=5, allowed_protocols=("data", "file"))


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def environment_problems() -> list[str]:
    """What is missing for correct, fast PDFs: the fonts and HarfBuzz's subsetter."""
    problems = []
    if ctypes.util.find_library("harfbuzz-subset") is None:
        problems.append(
            "libharfbuzz-subset0 is missing: WeasyPrint embeds whole fonts and renders about 5x "
            "slower (apt-get install libharfbuzz-subset0)"
        )
    installed = {path.name for root in FONT_DIRS if root.is_dir() for path in root.rglob("*.ttf")}
    for family, files in FONTS.items():
        if not files & installed:
            problems.append(
                f"font {family!r} is missing: certificates would fall back to another font "
                "(apt-get install fonts-liberation2)"
            )
    return problems


@cache
def check_environment() -> tuple[str, ...]:
    """Log every problem loudly (at start-up, once per process); returns them."""
    problems = environment_problems()
    for problem in problems:
        log.warning("PDF RENDERING DEGRADED: %s", problem)
    return tuple(problems)


@contextmanager
def _time_limit(seconds: float):
    """A hard limit on the main thread (SIGALRM); other threads rely on the fetcher's limits."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum, frame):
        raise RenderTimeout(f"PDF render took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render(template: str, **context) -> bytes:
    """Render a Jinja template (autoescaped) to PDF bytes."""
    from weasyprint import HTML

    html = render_template(template, **context)
    # WeasyPrint (Pango, the shared FontConfiguration) is not safe across threads: one render at
    # a time per process. Nothing else is ever locked while this lock is held.
    with _RENDER_LOCK, _time_limit(float(current_app.config.get("PDF_TIMEOUT", 30))):
        document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=url_fetcher())
        return document.write_pdf(font_config=_fonts())
