"""Security baseline: CSRF everywhere, response headers on every response, the signed session
cookie."""

import hmac
import time
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect, generate_csrf, same_origin
from itsdangerous import BadData, BadSignature, URLSafeTimedSerializer
from markupsafe import Markup

from learnhub.stencils import CSRF_INPUT, is_keeping

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SignedValues:
    """Values signed by an itsdangerous timed serializer, each exact text's signature checked
    once per process. The first time a text comes it is checked as the serializer checks it;
    what it holds is then kept under the text itself, signature included (nothing but that text
    finds it), and the serializer (so per set of keys), with the time it was signed. The same
    text again within *max_age* of that time gets it decoded afresh (a value of its own, which
    its user may change); past it, or signed in the future, it is checked again in full."""

    #: Texts kept per process (emptied when full).
    KEPT_MAX = 4096

    def __init__(self) -> None:
        #: (serializer, text) -> (the value as the serializer's JSON, signed at: epoch seconds).
        self._kept: dict[tuple, tuple[str, float]] = {}

    def loads(self, serializer: URLSafeTimedSerializer, text: str, max_age: int | None):
        """serializer.loads(text, max_age=max_age): its value, or BadSignature (or a subclass
        of it) raised."""
        kept = self._kept.get((serializer, text))
        if kept is not None:
            age = time.time() - kept[1]
            if max_age is None or 0 <= age <= max_age:
                return serializer.serializer.loads(kept[0])
        value, signed_at = serializer.loads(text, max_age=max_age, return_timestamp=True)
        if len(self._kept) >= self.KEPT_MAX:
            self._kept.clear()
        self._kept[(serializer, text)] = (serializer.serializer.dumps(value), signed_at.timestamp())
        return value


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, each cookie's signature checked once per process
    (SignedValues). A browser sends the same cookie with every request until the app rewrites
    it (at most once a minute, accounts.auth.SEEN_EVERY); Flask builds its serializer, checks
    the cookie's signature, inflates and decodes it on every request: about 22 µs of each
    signed-in request. A kept cookie is served within the session's lifetime, the age Flask's
    check allows."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}
        self._signed = SignedValues()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found

    def open_session(self, app: Flask, request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        data = self.signed_data(app, request.cookies.get(self.get_cookie_name(app)))
        return self.session_class(data or {})

    def signed_data(self, app: Flask, cookie: str | None) -> dict | None:
        """The contents of session cookie *cookie* if its signature holds and it is within the
        session's lifetime (None otherwise): what open_session opens, and the answer save's
        door (quizzes.autosave) reads."""
        serializer = self.get_signing_serializer(app)
        if not cookie or serializer is None:
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = self._signed.loads(serializer, cookie, max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def _headers(response: Response) -> Response:
    return secure(response, current_app.config)


#: Headers every response carries, each set to this value whatever a view gave.
_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
#: Headers every response carries unless its view gave its own.
_UNLESS_GIVEN = (
    ("Content-Security-Policy", CSP),
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def secure(response: Response, config) -> Response:
    """Give *response* the headers every response of LearnHub carries (after each request; the
    answer save's door, quizzes.autosave, calls it too). The response's header names are read
    once, and a header it lacks is appended: werkzeug's setdefault and assignment each search
    the list again (11 µs a response in-process, seven times over)."""
    headers = response.headers
    given = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers iterates pairs)
    for name, value in _ALWAYS:
        if name.lower() in given:
            headers[name] = value
        else:
            headers.add(name, value)
    for name, value in _UNLESS_GIVEN:
        if name.lower() not in given:
            headers.add(name, value)
    if config["ENV"] == "production":
        headers[_HSTS[0]] = _HSTS[1]
    if "cache-control" not in given and _is_html(response.content_type):
        headers.add("Cache-Control", "no-store")
    return response


def _is_html(content_type: str | None) -> bool:
    """Whether a Content-Type is HTML (response.mimetype, without parsing its options)."""
    return (content_type or "").partition(";")[0].strip().lower() == "text/html"


def csrf_token_valid(token: str | None, signed: Mapping, config) -> bool:
    """Flask-WTF's check of a CSRF token (flask_wtf.csrf.validate_csrf) with its inputs as
    arguments, for the answer save's door (quizzes.autosave), which runs outside a request
    context; everything else is checked by CSRFProtect itself. *token* is the one the request
    sent, *signed* the session. tests/quizzes/test_autosave_door.py sends the same requests
    through both."""
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    expected = signed.get(field)
    if not token or not isinstance(expected, str):
        return False
    secret = config.get("WTF_CSRF_SECRET_KEY", config["SECRET_KEY"])
    try:
        value = _CSRF_TOKENS.loads(
            _csrf_serializer(secret), token, config.get("WTF_CSRF_TIME_LIMIT", 3600)
        )
    except BadData:
        return False
    return isinstance(value, str) and hmac.compare_digest(expected, value)


#: The CSRF tokens the answer save's door has checked (a page's token serves every save of it).
_CSRF_TOKENS = SignedValues()


@lru_cache(maxsize=8)
def _csrf_serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    """Flask-WTF's token serializer for *secret* (flask_wtf.csrf builds the same each time)."""
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token")


def same_site_referrer(referrer: str | None, host: str) -> bool:
    """Flask-WTF's referrer rule for HTTPS (WTF_CSRF_SSL_STRICT): the page that sent the request
    is on this host (a referrer whose port is not a number is on no host: _refuse_bad_referrer)."""
    try:
        return bool(referrer) and same_origin(referrer, f"https://{host}/")
    except ValueError:
        return False


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


def _refuse_bad_referrer() -> None:
    # Flask-WTF reads the referrer's port on HTTPS, and a port that is not a number (a forged
    # header) would make that a 500: it is a bad request.
    if request.referrer and request.is_secure:
        try:
            urlsplit(request.referrer).port  # noqa: B018 (reading the port is the check)
        except ValueError:
            abort(400)


def csrf_token() -> str:
    """This session's signed CSRF token: Flask-WTF's generate_csrf(), its signature kept per
    process for each session's token when tokens never expire (WTF_CSRF_TIME_LIMIT None, as
    configured): signing it again for every page cost a twentieth of a signed-in page. The
    token is the session's own (its raw token is the key), signed with the current key; within
    a request it is the one Flask-WTF keeps, so a form's hidden_tag() writes the same."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g or config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    secret = config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    raw = session.get(field)
    signed = _SIGNED_TOKENS.get((secret, raw)) if isinstance(raw, str) else None
    if signed is not None:
        setattr(g, field, signed)  # where generate_csrf() finds it for the rest of the request
        return signed
    signed = generate_csrf()  # gives the session its raw token if it had none
    raw = session.get(field)
    if isinstance(raw, str):
        if len(_SIGNED_TOKENS) >= SignedValues.KEPT_MAX:
            _SIGNED_TOKENS.clear()
        _SIGNED_TOKENS[(secret, raw)] = signed
    return signed


#: (signing key, a session's raw CSRF token) -> that token signed (csrf_token()).
_SIGNED_TOKENS: dict[tuple, str] = {}


def csrf_field() -> Markup:
    """The hidden CSRF input of a form that has no fields of its own (templates: csrf_field()),
    what a ConfirmForm's hidden_tag() writes, without building a form object for each page.
    In a page being kept whole (stencils.keeping), its hole instead: each reader's own token
    is put in when the page is filled."""
    if is_keeping():
        return Markup(CSRF_INPUT)  # noqa: S704  # nosec B704 (a placeholder)
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % csrf_token()


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.before_request(_refuse_nul)
    app.before_request(_refuse_bad_referrer)  # before CSRFProtect's check reads it
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = csrf_token  # Flask-WTF's generate_csrf, signed once
    app.after_request(_headers)
