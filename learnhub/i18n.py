"""Languages: Vietnamese first, English available; the ONE formatter of numbers, scores,
percentages (here) and dates (timeutil), for pages, PDFs and text exports alike.

Numbers follow the reader's language through Babel: in Vietnamese a decimal comma and a dot
between thousands ("1.234,5"), a percent sign without a space ("50,0%", as Babel's Vietnamese
locale writes it), never scientific notation. Spreadsheets get typed numbers and the API plain
JSON numbers; neither goes through these functions.
"""

from decimal import Decimal

from babel import numbers
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from learnhub import timeutil

babel = Babel()


def select_locale() -> str:
    if not has_request_context():  # command line, background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


Number = Decimal | int | float


def _locale(locale: str | None = None) -> str:
    if locale:
        return locale
    try:
        return str(get_locale() or "vi")
    except RuntimeError:  # outside an application context
        return "vi"


def _decimal(value: Number) -> Decimal:
    # Through str: a float's binary tail (0.1 + 0.2) must not show.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def format_number(
    value: Number | None, places: int | None = None, *, at_most: int = 2, locale: str | None = None
) -> str:
    """A number as the reader writes it: exactly *places* decimals, or up to *at_most*.

    *locale* fixes the language for documents that are Vietnamese whoever makes them
    (certificates, official spreadsheets); by default the reader's language.
    """
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * places if places else "." + "#" * at_most if at_most else "")
    return numbers.format_decimal(_decimal(value), pattern, locale=_locale(locale))


def format_score(
    value: Number | None, out_of: Number | None = None, *, locale: str | None = None
) -> str:
    """A score to at most two decimals, with its scale when given: "8,57", "5/10"."""
    if value is None:
        return ""
    text = format_number(value, locale=locale)
    return f"{text}/{format_number(out_of, locale=locale)}" if out_of is not None else text


def format_percent(ratio: Number | None, places: int = 1, *, locale: str | None = None) -> str:
    """A ratio (0.5) as a percentage: "50,0%"."""
    if ratio is None:
        return ""
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    return numbers.format_percent(_decimal(ratio), pattern, locale=_locale(locale))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = timeutil.format_date
    app.jinja_env.filters["datetime"] = timeutil.format_datetime
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["score"] = format_score
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.add_extension("jinja2.ext.do")

    # Every render_template gets the catalogue looked up once (see render_callables).
    app.context_processor(render_callables)

    @app.context_processor
    def _lang() -> dict:
        if not has_request_context():  # documents rendered by the CLI or a background job
            return {"current_lang": app.config["BABEL_DEFAULT_LOCALE"], "request_path": "/"}
        return {"current_lang": select_locale(), "request_path": request_path()}


def request_path() -> str:
    """This page's path and query: where a change of language returns to."""
    return request.full_path.rstrip("?")


def render_callables() -> dict:
    """The templates' `gettext` and `ngettext` with the catalogue looked up once for this
    render. flask_babel's own look the catalogue up again for every string (the domain, the
    context, the locale, for each of the dozens of strings of a page); Jinja's i18n `_`,
    `{% trans %}` and `{% pluralize %}` call the context's `gettext` / `ngettext`, so these are
    used. They behave as Jinja's "newstyle" callables: the variables escaped in an autoescaped
    template, %-formatting, `num` for plurals. Templates imported without context keep
    flask_babel's (slower, same result)."""
    catalogue = get_translations()

    @pass_context
    def gettext(context, message: str, **variables) -> str:
        text = catalogue.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 (our own catalogue, as Jinja does)
        return text % variables

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 (our own catalogue, as Jinja does)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}
