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
from learnhub.stencils import Stencil

#: The holes each page fills.
CSRF, NEXT, NAME = "\x00c", "\x00n", "\x00u"

#: Rendered headers by (language, roles or None when signed out, script root). A handful of
#: keys in practice; the bound only guards against a surprise.
_HEADERS: dict[tuple, Stencil] = {}
_HEADERS_MAX = 256


@pass_context
def page_header(context) -> Markup:
    """This page's header (base.html calls it): the one kept for the reader's key, with this
    page's values put in. The path a language change returns to is the template's
    `request_path` (i18n's context processor gives the page's own; a view may give another,
    as the certificate lookup does so that a code typed in never shows in its page)."""
    signed_in = current_user.is_authenticated
    roles = frozenset(current_user.roles) if signed_in else None
    lang = str(get_locale())
    key = (lang, roles, request.script_root)
    stencil = _HEADERS.get(key)
    if stencil is None:
        stencil = Stencil(_render(lang, roles), (CSRF, NEXT, NAME))
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[key] = stencil
    return stencil.fill(
        {
            CSRF: csrf_field(),
            NEXT: escape(context.get("request_path", "/")),
            NAME: escape(current_user.full_name) if signed_in else "",
        }
    )


def _render(lang: str, roles: frozenset[Role] | None) -> str:
    """The header for a reader of *lang* with *roles* (None: signed out): the template sees
    the key and the placeholders, nothing of the request or the user."""
    template = current_app.jinja_env.get_template("_header.html")
    return template.render(
        **i18n.render_callables(),
        current_lang=lang,
        signed_in=roles is not None,
        roles=roles or frozenset(),
        csrf=Markup(CSRF),  # noqa: S704  # nosec B704 (a placeholder)
        next_path=Markup(NEXT),  # noqa: S704  # nosec B704 (a placeholder)
        name=Markup(NAME),  # noqa: S704  # nosec B704 (a placeholder)
    )
