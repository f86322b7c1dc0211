"""Pages kept whole: a page whose HTML depends only on a key the view computes cheaply (and on
the reader's key, core.header.reader_key) is rendered once, with its per-request values left as
holes (learnhub.stencils), and then only filled: its CSRF input, its path, the reader's name.

The lesson page is one (catalog.views.lesson): a published lesson's page is the same for every
reader of one language and set of roles, but for whether they have read it. Its view reads one
row to make the key, and a page kept under it costs a few microseconds to fill instead of a
template render.

What is never kept: a page that has a message to show (a flash, shown once), and a page whose
render wrote this request's CSRF token anyway (a form object's hidden_tag(), which does not know
about stencils): that one is served as rendered, and logged."""

from collections.abc import Hashable

from flask import current_app, render_template, session
from flask_wtf.csrf import generate_csrf
from jinja2 import Template
from markupsafe import Markup

from learnhub import i18n
from learnhub.core.header import page_values, reader_key
from learnhub.stencils import PAGE_HOLES, Stencil, keeping


class KeptPages:
    """The pages of one template, kept by (the view's key, the reader's key)."""

    def __init__(self, template: str | Template, maxsize: int = 4096) -> None:
        self.template = template
        self.maxsize = maxsize
        self._pages: dict[tuple, Stencil] = {}
        self.counts = {"hits": 0, "misses": 0}

    def get(self, key: Hashable) -> Markup | None:
        """The page kept under *key* for this reader, filled in; None when there is none (the
        view then renders it with render()) or when this page has a message to show."""
        if "_flashes" in session:
            return None
        stencil = self._pages.get((key, reader_key()))
        if stencil is None:
            self.counts["misses"] += 1
            return None
        self.counts["hits"] += 1
        return stencil.fill(page_values(i18n.request_path()))

    def render(self, key: Hashable, **context) -> str:
        """Render the page with *context*, which must depend on nothing but *key* and the
        reader's key; keep it under them, and fill it in for this request."""
        if "_flashes" in session:
            return render_template(self.template, **context)
        with keeping():
            html = render_template(self.template, **context)
        if generate_csrf() in html:
            # Something wrote this reader's token itself: keeping it would serve it to others.
            current_app.logger.error("kept page %s holds a CSRF token: not kept", self.template)
            return render_template(self.template, **context)
        stencil = Stencil(html, PAGE_HOLES)
        if len(self._pages) >= self.maxsize:
            self._pages.clear()
        self._pages[(key, reader_key())] = stencil
        return stencil.fill(page_values(i18n.request_path()))
