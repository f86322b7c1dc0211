"""Security baseline: CSRF everywhere, response headers on every response."""

from flask import Flask, Response, abort, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if current_app.config["ENV"] == "production":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


#: The bodies request.form reads; any other (JSON, a file upload's raw body) has no form values,
#: so it is not parsed here (the JSON autosave is the hot path).
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul() -> None:
    # No text LearnHub stores may hold NUL (PostgreSQL refuses it): answer 400 at the door.
    values = [*request.args.values()]
    if request.mimetype in _FORM_TYPES:
        values += request.form.values()
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
    csrf.init_app(app)
    app.after_request(_headers)
