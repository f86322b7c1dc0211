"""Languages: Vietnamese first, English available; dates as dd/mm/yyyy."""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel

from learnhub import timeutil

babel = Babel()


def select_locale() -> str:
    if not has_request_context():  # command line, background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = timeutil.format_date
    app.jinja_env.filters["datetime"] = timeutil.format_datetime
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def _lang() -> dict:
        if not has_request_context():  # documents rendered by the CLI or a background job
            return {"current_lang": app.config["BABEL_DEFAULT_LOCALE"], "request_path": "/"}
        return {"current_lang": select_locale(), "request_path": request.full_path.rstrip("?")}
