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

from collections.abc import Hashable, Mapping

from flask import current_app, render_template, session
from flask.globals import request_ctx
from jinja2 import Template
from markupsafe import Markup

from learnhub import i18n
from learnhub.core.header import page_values, reader_key
from learnhub.security import csrf_token
from learnhub.stencils import PAGE_HOLES, Stencil, keeping, kept


class KeptPages:
    """The pages of one template, kept by (the view's key, the reader's key). *holes*: the
    page's own holes besides stencils.PAGE_HOLES, for values that differ between pages of one
    key (the attempt page's attempt, its forms); the view gives their values, HTML escaped, to
    get() and render(), and to the template the holes themselves (Markup) in their place."""

    def __init__(
        self, template: str | Template, holes: tuple[str, ...] = (), maxsize: int = 4096
    ) -> None:
        self.template = template
        self.holes = PAGE_HOLES + holes
        self.maxsize = maxsize
        self._pages: dict[tuple, Stencil] = {}
        self.counts = {"hits": 0, "misses": 0}
        kept(self)

    def clear(self) -> None:
        self._pages.clear()

    def get(self, key: Hashable, values: Mapping[str, str] | None = None) -> Markup | None:
        """The page kept under *key* for this reader, filled in (*values*: the page's own
        holes'); None when there is none (the view then renders it with render()) or when this
        page has a message to show."""
        if "_flashes" in session:
            return None
        stencil = self._pages.get((key, reader_key()))
        if stencil is None:
            self.counts["misses"] += 1
            return None
        self.counts["hits"] += 1
        return stencil.fill(self._values(values))

    def render(self, key: Hashable, values: Mapping[str, str] | None = None, **context) -> Markup:
        """Render the page with *context*, which must depend on nothing but *key* and the
        reader's key (the page's own holes in place of their *values*); keep it under them,
        and fill it in for this request."""
        messages = "_flashes" in session
        with keeping():
            html = render_template(self.template, **context)
        stencil = Stencil(html, self.holes)
        if messages or request_ctx.flashes:
            pass  # a page that shows a message (once) is never kept
        elif csrf_token() in html:
            # Something wrote this reader's token itself: keeping it would serve it to others.
            current_app.logger.error("kept page %s holds a CSRF token: not kept", self.template)
        else:
            if len(self._pages) >= self.maxsize:
                self._pages.clear()
            self._pages[(key, reader_key())] = stencil
        return stencil.fill(self._values(values))

    @staticmethod
    def _values(values: Mapping[str, str] | None) -> dict[str, str]:
        filled = page_values(i18n.request_path())
        if values:
            filled.update(values)
        return filled
