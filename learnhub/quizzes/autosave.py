"""The answer save's own door: a learner's autosave, answered before Flask's request handling.

A quiz is mostly answer saves (an exam: twenty a learner, against one start, one page and one
submit). Through Flask a save costs about 3.5 ms of CPU in-process, most of it the machinery
every request pays for (a request context, opening the session, Flask-Login, Flask-WTF, the
hooks), against about 1 ms for what a save needs: the signed cookie, the user's row and one
guarded UPDATE (bench/RESULTS.md, B1). This WSGI middleware answers the common case itself and
hands every other request to the app as it came:

- it takes only `POST /attempts/<id>/items/<position>` (the route of quizzes.views.save) with a
  JSON object for body and no query string, from a session whose every check passes without
  changing the cookie: signed (Flask's own serializer), naming an enabled user of the current
  session version (auth.session_row: auth.session_user's rule, read as a plain row), not
  lapsed and not due for its seen stamp (auth.session_lapsed, auth.seen_due), from the browser
  it was signed in on (Flask-Login's basic protection: auth.session_identifier), its roles
  remembered (auth.remembered_roles), no remember-me cookie, no password change or two-factor
  set-up pending, and the CSRF header valid (security.csrf_token_valid; on HTTPS the referrer
  too, security.same_site_referrer);
- then it stores the answer with the view's own service (services.store_answer) and answers as
  the view does (the same JSON, the same headers: security.secure);
- everything else goes to the app: a check that fails, a body it does not take, an answer the
  service refuses (invalid, or not saved: someone else's attempt, no such question, finished,
  overdue) and any error. A refused save wrote nothing (rolled back), and a save can be sent
  twice (it stores the same answer), so the app handles such a request from the start and
  answers it as it answers every request. One exception: when the database is out of reach
  (errors.unavailable: SQLite's lock still taken after every wait, a PostgreSQL restart), the
  door answers with the app's own 503, built by the app, rather than wait a second time.

No rule is written here: each check is the function the app's own path calls. The two rules
that Flask-Login and Flask-WTF keep inside a request context (the browser's fingerprint, the
CSRF token) have their inputs as arguments in accounts.auth and security, and
tests/quizzes/test_autosave_door.py sends the same requests with the door and without it and
compares the status, the body, the headers, the cookie and what was stored.
"""

import re
import time
from io import BytesIO

from flask import Flask, has_app_context
from sqlalchemy.exc import DBAPIError
from werkzeug.http import parse_options_header
from werkzeug.sansio.http import parse_cookie
from werkzeug.wsgi import get_content_length, get_host

from learnhub import MAX_ID, db, errors, security
from learnhub.accounts import auth, twofactor
from learnhub.accounts.models import User
from learnhub.quizzes import grading, services
from learnhub.timeutil import utcnow

#: The path of quizzes.views.save (a test holds the two together).
PATH = re.compile(r"/attempts/([0-9]+)/items/([0-9]+)\Z")

#: The largest body the door reads; a longer one (an essay's answer) goes to the app.
MAX_BODY = 64 * 1024

#: The most digits of an id the door reads (MAX_ID has 10): a longer one goes to the app.
MAX_DIGITS = 10


class AutosaveDoor:
    """WSGI middleware in front of *app*'s wsgi_app (create_app installs it)."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and PATH.match(environ.get("PATH_INFO", "")):
            response = self._answer(environ)
            if response is not None:
                return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ):
        """The save's response, or None for the app to answer (the body put back)."""
        body = _body(environ, self.app.config)
        if body is None:
            return None
        try:
            return self._save(environ, body)
        except DBAPIError as exc:
            errors.discard_transaction()
            if errors.unavailable(exc):
                # Answered here, as the app answers it: sent on, the save would wait for the
                # database (SQLite's lock: up to LOCK_ATTEMPTS waits) a second time.
                return self._app_error(environ, exc)
            return None
        except Exception:  # the app meets it again and answers it (its own 500 included)
            errors.discard_transaction()
            return None
        finally:
            environ["wsgi.input"] = BytesIO(body)
            if not has_app_context():  # as the app's teardown does after each request
                db.session.remove()

    def _app_error(self, environ, exc: Exception):
        """The app's own response to *exc*, raised by the save view (its error handler, the
        after-request hooks, the session's saving)."""
        with self.app.request_context(environ):
            return self.app.finalize_request(self.app.handle_user_exception(exc))

    def _save(self, environ, body: bytes):
        app, config = self.app, self.app.config
        ids = PATH.match(environ["PATH_INFO"]).groups()
        if any(len(n) > MAX_DIGITS for n in ids) or environ.get("QUERY_STRING"):
            return None
        attempt_id, position = (int(n) for n in ids)
        if attempt_id > MAX_ID or position > MAX_ID or config.get("TRUSTED_HOSTS"):
            return None
        if parse_options_header(environ.get("CONTENT_TYPE"))[0] != "application/json":
            return None
        signed = _session(app, environ)
        if signed is None or signed.get("_permanent") or not _csrf_passes(environ, signed, config):
            return None
        user_key = signed.get("_user_id")
        now = time.time()
        if (
            not isinstance(user_key, str)
            or "_remember" in signed
            or config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
            or not _same_browser(environ, signed, config)
            or auth.session_lapsed(signed, now, config)
            or auth.seen_due(signed, now)
        ):
            return None
        raw = app.json.loads(body)  # after the checks: a stranger's body is not parsed
        if not isinstance(raw, dict):
            return None
        write = db.LeanWrite()
        try:
            saved_at = _store(write, signed, user_key, attempt_id, position, raw, config)
        finally:
            write.close()
        if saved_at is None:
            return None
        # As quizzes.views._saved answers, through the app's JSON provider.
        response = app.json.response(saved=True, position=position, at=saved_at.isoformat())
        response.vary.add("Cookie")  # as Flask does for a request that read the session
        return security.secure(response, config)


def _store(write, signed: dict, user_key: str, attempt_id: int, position: int, raw: dict, config):
    """The answer stored on *write* (db.LeanWrite) and committed, for the session's user; when
    it was; None when the app is to answer (nothing stored)."""
    user = auth.session_row(user_key, write.connection)
    if user is None or user.must_change_password:
        return None
    roles = auth.remembered_roles(signed, User.session_id(user.id, user.session_version))
    if roles is None or twofactor.needed_for(roles, config):
        return None
    saved_at = utcnow()
    try:
        services.store_answer(attempt_id, user.id, position, raw, saved_at, write.connection)
    except services.NotSaved:
        write.commit()  # nothing was written: end the write (SQLite: the lock)
        return None
    except grading.InvalidAnswer:
        write.rollback()
        return None
    write.commit()
    return saved_at


def _body(environ, config) -> bytes | None:
    """The request's body, read whole, or None when its length is not given (chunked), not a
    plain number, too long, or not all there (the app then reads what came, and answers as for
    any such request)."""
    length = get_content_length(environ)  # werkzeug's reading of the headers, as the app's
    if length is None or not 0 < length <= min(
        MAX_BODY, config.get("MAX_CONTENT_LENGTH") or MAX_BODY
    ):
        return None
    stream, parts, got = environ["wsgi.input"], [], 0
    try:
        while got < length:
            part = stream.read(length - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
    except OSError:  # the client went away
        pass
    body = b"".join(parts)
    if got == length:
        return body
    environ["wsgi.input"] = BytesIO(body)
    return None


def _session(app: Flask, environ) -> dict | None:
    """The signed session, as Flask's session interface opens it, or None."""
    # Read as the app's request reads it (werkzeug's sans-IO parser: the header as it came).
    cookie = parse_cookie(environ.get("HTTP_COOKIE", "")).get(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.signed_data(app, cookie)  # security.CookieSessions


def _csrf_passes(environ, signed: dict, config) -> bool:
    """CSRFProtect's check of a JSON POST: the first token header, and on HTTPS the referrer."""
    if not (config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]):
        return False  # the app decides (nothing to check, or views that check their own)
    token = None
    for name in config["WTF_CSRF_HEADERS"]:
        token = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if token:
            break
    if not security.csrf_token_valid(token, signed, config):
        return False
    if environ.get("wsgi.url_scheme") in ("https", "wss") and config["WTF_CSRF_SSL_STRICT"]:
        return security.same_site_referrer(environ.get("HTTP_REFERER"), get_host(environ))
    return True


def _same_browser(environ, signed: dict, config) -> bool:
    """Whether Flask-Login's session protection leaves the session as it is."""
    mode = config.get("SESSION_PROTECTION", auth.login_manager.session_protection)
    fingerprint = auth.session_identifier(
        environ.get("HTTP_X_FORWARDED_FOR"),
        environ.get("REMOTE_ADDR"),
        environ.get("HTTP_USER_AGENT"),
    )
    return signed.get("_id") == fingerprint or (mode == "basic" and signed.get("_fresh") is False)
