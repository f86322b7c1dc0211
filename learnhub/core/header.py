"""The site header every page carries (templates/_header.html), rendered once per language, set
of roles and script root, then kept as a stencil: a page puts in its CSRF input, its own path
and the user's name. The header is about a tenth of a millisecond of Jinja (a dozen translated
strings, a dozen URLs); filling in three values costs a few microseconds."""

from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

from learnhub import i18n
from learnhub.accounts.models import Role
from learnhub.security import csrf_field
from learnhub.stencils import (
    CSRF_INPUT,
    PAGE_HOLES,
    PAGE_PATH,
    READER_NAME,
    Stencil,
    is_keeping,
    kept,
)

#: Rendered headers by reader_key(). A handful of keys in practice; the bound only guards
#: against a surprise.
_HEADERS: dict[tuple, Stencil] = kept({})
_HEADERS_MAX = 256


def reader_key() -> tuple:
    """What the header depends on: the language, the reader's roles (None when signed out) and
    the script root. A page kept whole (core.kept) is kept per this key too."""
    roles = frozenset(current_user.roles) if current_user.is_authenticated else None
    return (str(get_locale()), roles, request.script_root)


def page_values(path: str) -> dict[str, str]:
    """The values of a page's holes (stencils.PAGE_HOLES) for this request: its CSRF input,
    *path* (where a language change returns to), the reader's name; escaped."""
    return {
        CSRF_INPUT: csrf_field(),
        PAGE_PATH: escape(path),
        READER_NAME: escape(current_user.full_name) if current_user.is_authenticated else "",
    }


@pass_context
def page_header(context) -> Markup:
    """This page's header (base.html calls it): the one kept for the reader's key, with this
    page's values put in. The path a language change returns to is the template's
    `request_path` (i18n's context processor gives the page's own; a view may give another,
    as the certificate lookup does so that a code typed in never shows in its page). While a
    page is being kept whole (stencils.keeping), the header keeps its holes."""
    key = reader_key()
    stencil = _HEADERS.get(key)
    if stencil is None:
        stencil = Stencil(_render(key[0], key[1]), PAGE_HOLES)
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[key] = stencil
    if is_keeping():
        return stencil.unfilled()
    return stencil.fill(page_values(context.get("request_path", "/")))


def _render(lang: str, roles: frozenset[Role] | None) -> str:
    """The header for a reader of *lang* with *roles* (None: signed out): the template sees
    the key and the placeholders, nothing of the request or the user."""
    template = current_app.jinja_env.get_template("_header.html")
    return template.render(
        **i18n.render_callables(),
        current_lang=lang,
        signed_in=roles is not None,
        roles=roles or frozenset(),
        csrf=Markup(CSRF_INPUT),  # noqa: S704  # nosec B704 (a placeholder)
        next_path=Markup(PAGE_PATH),  # noqa: S704  # nosec B704 (a placeholder)
        name=Markup(READER_NAME),  # noqa: S704  # nosec B704 (a placeholder)
    )
