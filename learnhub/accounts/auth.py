"""Flask-Login wiring, session checks on every request, and the permission decorators."""

import hashlib
import time
from collections.abc import Callable, Mapping
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, logout_user
from sqlalchemy import bindparam, select

from learnhub import db
from learnhub.accounts import twofactor
from learnhub.accounts.models import Role, User
from learnhub.audit.services import Actor

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
login_manager.login_message_category = "info"
# "basic": a changed IP (mobile networks, classroom NAT) must not end a quiz; revocation is by
# the per-user session version instead.
login_manager.session_protection = "basic"

#: Endpoints a user who must change their password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"accounts.change_password", "accounts.logout", "static", "core.healthz"}
#: Endpoints a user who must turn on two-factor sign-in may still reach.
_TWO_FACTOR_SETUP_ALLOWED = _PASSWORD_CHANGE_ALLOWED | {
    "twofactor.setup",
    "twofactor.start",
    "twofactor.confirm",
    "core.set_language",
}


#: The signed-in user's row, built once and run on the cursor (db.Prepared; db.from_row makes it
#: the session's User): a fifth of the CPU of the ORM's SELECT, on every signed-in request.
_USER_BY_ID = db.Prepared(db.columns_select(User).where(User.id == bindparam("id")))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Accept a session only for an enabled user whose session version still matches."""
    user = session_user(user_id)
    if user is None:
        return None
    # One row per request: the roles come from the signed session, written once per session
    # version (a change of roles bumps it, so remembered roles are never out of date).
    if not recall_roles(user, session):
        remember_roles(user)
    return user


def session_user(user_id: str) -> User | None:
    """The user a session's `_user_id` ("id:session version") names, if the session rule
    accepts it (the row by primary key; its roles are not read)."""
    key = _session_key(user_id)
    if key is None:
        return None
    row = _USER_BY_ID.one_or_none(db.session.connection(), {"id": key[0]})
    return db.from_row(User, row) if _accepts(row, key[1]) else None


#: What the answer save's door needs of the signed-in user, as a plain row.
_USER_ROW = db.Prepared(
    select(User.id, User.is_enabled, User.session_version, User.must_change_password).where(
        User.id == bindparam("id")
    )
)


def session_row(user_id: str, connection: sa.Connection):
    """session_user as a plain row (id, is_enabled, session_version, must_change_password),
    read with Core on *connection*: for the answer save's door (quizzes.autosave)."""
    key = _session_key(user_id)
    if key is None:
        return None
    row = _USER_ROW.one_or_none(connection, {"id": key[0]})
    return row if _accepts(row, key[1]) else None


def _session_key(user_id: str) -> tuple[int, int] | None:
    ident, _, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    return int(ident), int(version)


def _accepts(user, version: int) -> bool:
    """The session rule: the user exists, is enabled, and the session is of their current
    session version (a User or a row with those columns)."""
    return user is not None and user.is_enabled and user.session_version == version


def remembered_roles(signed: Mapping, user_id: str) -> set[Role] | None:
    """The roles the signed session *signed* remembers for *user_id* (User.get_id: id and
    session version), or None when it remembers none for it."""
    remembered = signed.get("roles")
    if isinstance(remembered, dict) and remembered.get("for") == user_id:
        return {Role(name) for name in remembered["names"]}
    return None


def recall_roles(user: User, signed: Mapping) -> bool:
    """Give *user* the roles the signed session *signed* remembers for this session version;
    False when it remembers none for it (remember_roles then writes them)."""
    roles = remembered_roles(signed, user.get_id())
    if roles is None:
        return False
    user.remember_roles(roles)
    return True


def remember_roles(user: User) -> None:
    """Write *user*'s roles into the signed session for their current session version (at
    sign-in, so the first page after it neither reads the grants nor rewrites the cookie)."""
    # From the grants themselves, never from roles remembered earlier on this object.
    names = sorted({Role(grant.role) for grant in user.grants})
    session["roles"] = {"for": user.get_id(), "names": names}


def client_ip() -> str:
    return request.remote_addr or ""


def current_actor() -> Actor:
    user = current_user if current_user.is_authenticated else None
    return Actor(user, client_ip(), "web")


#: The session's "seen" stamp (for the idle timeout) is written at most this often (seconds),
#: so most requests leave the cookie as it came.
SEEN_EVERY = 60


def session_lapsed(signed: Mapping, now: float, config) -> bool:
    """Whether the signed session *signed* has outlived its absolute lifetime or sat idle too
    long (PERMANENT_SESSION_LIFETIME, SESSION_IDLE_TIMEOUT) at *now* (epoch seconds)."""
    started = signed.get("auth_at", 0)
    seen = signed.get("seen_at", started)
    too_old = now - started > config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    return too_old or now - seen > config["SESSION_IDLE_TIMEOUT"].total_seconds()


def seen_due(signed: Mapping, now: float) -> bool:
    """Whether this request writes a new "seen" stamp into the cookie."""
    return now - signed.get("seen_at", signed.get("auth_at", 0)) > SEEN_EVERY


def session_identifier(forwarded_for: str | None, remote_addr: str | None, agent: str | None):
    """The browser's fingerprint that Flask-Login's "basic" session protection compares with
    the one stored at sign-in: its own formula (flask_login.utils._create_identifier), taking
    its inputs as arguments so the answer save's door (quizzes.autosave) computes the same from
    the WSGI environ (a test holds the two together)."""
    address = forwarded_for if forwarded_for is not None else remote_addr
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    base = f"{address}|{agent.encode('utf-8') if agent is not None else None}"
    return hashlib.sha512(base.encode("utf8")).hexdigest()


login_manager._session_identifier_generator = lambda: session_identifier(
    request.headers.get("X-Forwarded-For"), request.remote_addr, request.headers.get("User-Agent")
)


def _check_session() -> object | None:
    if not current_user.is_authenticated:
        return None
    now = time.time()
    if session_lapsed(session, now, current_app.config):
        logout_user()
        session.clear()
        flash(_("Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại."), "info")
        return redirect(url_for("accounts.login", next=request.full_path))
    if seen_due(session, now):  # write the cookie at most once a minute
        session["seen_at"] = int(now)
    if current_user.must_change_password and request.endpoint not in _PASSWORD_CHANGE_ALLOWED:
        flash(_("Bạn cần đổi mật khẩu trước khi tiếp tục."), "warning")
        return redirect(url_for("accounts.change_password"))
    if request.endpoint not in _TWO_FACTOR_SETUP_ALLOWED and _needs_two_factor(current_user):
        flash(
            _("Vai trò của bạn bắt buộc xác thực hai bước: hãy bật trước khi tiếp tục."), "warning"
        )
        return redirect(url_for("twofactor.setup"))
    return None


def _needs_two_factor(user: User) -> bool:
    return twofactor.is_required(user, current_app.config) and not twofactor.is_enabled(user)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_check_session)


def role_required(*roles: Role) -> Callable:
    """Let signed-in users with one of *roles* through (admins always); others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(**kwargs):
            if not current_user.has_role(*roles, Role.admin):
                current_app.logger.warning(
                    "forbidden: user=%s endpoint=%s", current_user.id, request.endpoint
                )
                abort(403)
            return view(**kwargs)

        return wrapped

    return decorator


def fresh_auth_required(view: Callable) -> Callable:
    """Sensitive actions need a sign-in (or password re-entry) within FRESH_AUTH_WINDOW."""

    @wraps(view)
    def wrapped(**kwargs):
        window = current_app.config["FRESH_AUTH_WINDOW"].total_seconds()
        if time.time() - session.get("auth_at", 0) > window:
            flash(_("Vì lý do an toàn, vui lòng nhập lại mật khẩu."), "info")
            target = request.referrer if request.method == "POST" else request.full_path
            return redirect(url_for("accounts.reauth", next=safe_next(target)))
        return view(**kwargs)

    return wrapped


def safe_next(target: str | None, default: str | None = None) -> str:
    """*target* if it is a same-site relative path, otherwise *default* (the dashboard)."""
    fallback = default or url_for("core.dashboard")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc != request.host or parts.scheme not in ("http", "https"):
            return fallback
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        parts = urlsplit(target)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return fallback
    return target
