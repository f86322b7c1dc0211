"""PDF rendering: the one home of WeasyPrint in LearnHub (sign-in sheets now, certificates later).

Templates get plain, autoescaped values; the URL fetcher lets WeasyPrint load bundled static files
and data: URIs only, never the network or the file system at large.
"""

import logging
from functools import cache
from pathlib import Path

from flask import render_template

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


class FetchRefused(ValueError):
    pass


def url_fetcher(url: str, timeout: int = 10, ssl_context=None) -> dict:
    """Only data: URIs and files bundled in learnhub/static/ (by their file:// path)."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("data:"):
        return default_url_fetcher(url, timeout, ssl_context)
    if url.startswith("file://"):
        path = Path(url.removeprefix("file://")).resolve()
        if path.is_relative_to(STATIC) and path.is_file():
            return default_url_fetcher(url, timeout, ssl_context)
    log.warning("PDF render refused to fetch %s", url[:200])
    raise FetchRefused(url[:200])


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render(template: str, **context) -> bytes:
    """Render a Jinja template (autoescaped) to PDF bytes."""
    from weasyprint import HTML

    html = render_template(template, **context)
    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=url_fetcher)
    return document.write_pdf(font_config=_fonts())
