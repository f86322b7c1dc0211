"""Personal API tokens: create (shown once), list, revoke, and authenticate a bearer token.

A token is "lhp_" followed by 43 base64url characters (256 bits from the CSPRNG). Only its SHA-256
and a short prefix are stored: a leaked database does not leak usable tokens, and because the
tokens are long random values (not passwords) a slow hash would add nothing.
"""

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from learnhub import db, policy
from learnhub.accounts.models import Role, User, nfc
from learnhub.api.models import ApiToken
from learnhub.audit import services as audit
from learnhub.audit.services import Actor

SCHEME = "lhp_"
#: The whole token as presented; anything else is refused before the database is asked.
TOKEN = re.compile(r"lhp_[A-Za-z0-9_-]{43}")
PREFIX_LENGTH = 10
#: Active (not revoked, not expired) tokens one person may hold.
MAX_ACTIVE = 10
#: last_used_at is written at most this often per token.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(Exception):
    """A rule about tokens says no; the message is shown to the person."""


class Rejected(Exception):
    """The API refuses the presented token: 401 (unknown, revoked, expired, disabled owner) or
    403 (the owner no longer holds a role the API serves). *reason* goes to the log only."""

    def __init__(self, status: int, reason: str):
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def generate() -> str:
    return SCHEME + secrets.token_urlsafe(32)


def may_use_api(user: User) -> bool:
    """HR officers and admins: the people the API (and the token page) serves."""
    return user.is_admin or user.has_role(Role.hr)


def tokens_of(user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(stmt))


def _active_count(user: User, today: date) -> int:
    stmt = select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id,
        ApiToken.revoked_at.is_(None),
        (ApiToken.expires_on.is_(None)) | (ApiToken.expires_on >= today),
    )
    return db.session.scalar(stmt) or 0


def create(
    actor: Actor, user: User, name: str, expires_on: date | None, today: date
) -> tuple[ApiToken, str]:
    """A new token for *user*; returns the row and the token itself (to be shown once)."""
    name = nfc(name)[:100]
    if not name:
        raise TokenError(_l("Hãy đặt tên cho khóa API."))
    if expires_on is not None and expires_on < today:
        raise TokenError(_l("Ngày hết hạn không được ở trong quá khứ."))
    # the count and the insert run in the caller's write transaction (a POST request's)
    if _active_count(user, today) >= MAX_ACTIVE:
        message = _l("Bạn đã có %(n)s khóa API đang dùng; hãy thu hồi bớt trước khi tạo thêm.")
        raise TokenError(message % {"n": MAX_ACTIVE})
    raw = generate()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        token_hash=digest(raw),
        expires_on=expires_on,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor,
        "api_token.create",
        "api_token",
        token.id,
        None,
        {"user": user.id, "name": name, "prefix": token.prefix, "expires_on": expires_on},
    )
    return token, raw


def revoke(actor: Actor, user: User, token_id: int, now: datetime) -> ApiToken | None:
    """Revoke one of *user*'s own tokens; None when *user* has no such token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or not policy.may_use_token(user, token):
        return None
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        audit.record(
            actor,
            "api_token.revoke",
            "api_token",
            token.id,
            {"revoked_at": None},
            {"revoked_at": now, "name": token.name, "prefix": token.prefix},
        )
    return token


def authenticate(presented: str, today: date) -> ApiToken:
    """The token row for a presented bearer token, or Rejected."""
    if not TOKEN.fullmatch(presented):
        raise Rejected(401, "malformed")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(presented)))
    if token is None:
        raise Rejected(401, "unknown")
    if token.revoked_at is not None:
        raise Rejected(401, f"revoked token={token.id}")
    if token.is_expired(today):
        raise Rejected(401, f"expired token={token.id}")
    owner = token.user
    if not owner.is_enabled:
        raise Rejected(401, f"disabled owner token={token.id} user={owner.id}")
    if not may_use_api(owner):
        raise Rejected(403, f"no HR role token={token.id} user={owner.id}")
    return token


def touch(token: ApiToken, now: datetime) -> None:
    """Note that the token was used (at most once a minute; the caller commits)."""
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
