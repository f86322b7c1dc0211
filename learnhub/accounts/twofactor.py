"""Two-factor sign-in for staff (ASVS 6.3.3): enrolment, the second step, recovery codes, reset.

The TOTP secret is stored encrypted (AES-GCM, key derived from SECRET_KEY, bound to the user
id); recovery codes are stored as SHA-256 (80 random bits each, so a hash cannot be brute-forced).
Changing SECRET_KEY makes stored secrets unreadable: those users need an admin reset.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from learnhub import db
from learnhub.accounts import throttle, totp
from learnhub.accounts.models import RecoveryCode, Role, TwoFactor, User
from learnhub.accounts.services import AccountError, check_throttle, count_attempt, throttle_keys
from learnhub.audit import services as audit
from learnhub.audit.services import Actor

RECOVERY_CODES = 10
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud, typed from paper
ISSUER = "LearnHub"


class TwoFactorError(AccountError):
    pass


def _cipher(config: dict) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"learnhub two-factor secret v1"
    ).derive(str(config["SECRET_KEY"]).encode())
    return AESGCM(key)


def _seal(secret: bytes, user_id: int, config: dict) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _cipher(config).encrypt(nonce, secret, str(user_id).encode())
    return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(row: TwoFactor, config: dict) -> bytes | None:
    """The plain secret, or None when it cannot be read (SECRET_KEY changed)."""
    raw = base64.urlsafe_b64decode(row.secret_encrypted.removeprefix("v1."))
    try:
        return _cipher(config).decrypt(raw[:12], raw[12:], str(row.user_id).encode())
    except InvalidTag:
        return None


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(c for c in code.casefold() if c.isalnum())


def _unix(now: datetime) -> float:
    """Seconds since the epoch of a naive UTC datetime (how LearnHub passes "now")."""
    return now.replace(tzinfo=UTC).timestamp()


def required_roles(config: dict) -> set[Role]:
    return {Role(r) for r in config["TOTP_REQUIRED_ROLES"]}


def is_required(user: User, config: dict) -> bool:
    """Whether *user* must have two-factor sign-in before using the app (TOTP_REQUIRED_ROLES)."""
    return needed_for(user.roles, config)


def needed_for(roles: set[Role], config: dict) -> bool:
    """Whether a user with *roles* must have two-factor sign-in (TOTP_REQUIRED_ROLES)."""
    return bool(roles & required_roles(config))


def is_offered(user: User) -> bool:
    """Staff may turn two-factor sign-in on; learners have no staff powers to protect."""
    return user.has_role(Role.admin, Role.trainer, Role.hr)


def authenticator(user: User) -> TwoFactor | None:
    return db.session.get(TwoFactor, user.id)


def is_enabled(user: User) -> bool:
    row = authenticator(user)
    return row is not None and row.confirmed_at is not None


def start(actor: Actor, user: User, config: dict) -> TwoFactor:
    """A new, unconfirmed secret for *user* (replacing an unconfirmed one)."""
    if is_enabled(user):
        raise TwoFactorError(_l("Xác thực hai bước đã được bật."))
    row = authenticator(user)
    if row is None:
        row = TwoFactor(user_id=user.id)
        db.session.add(row)
    row.secret_encrypted = _seal(totp.new_secret(), user.id, config)
    db.session.flush()
    audit.record(actor, "user.two_factor_start", "user", user.id)
    return row


def enrolment(user: User, config: dict) -> tuple[str, str] | None:
    """(base32 secret, otpauth:// URI) of the unconfirmed secret, for the QR code."""
    row = authenticator(user)
    if row is None or row.confirmed_at is not None:
        return None
    secret = _open(row, config)
    if secret is None:
        return None
    return totp.b32(secret), totp.provisioning_uri(secret, user.login, ISSUER)


def confirm(actor: Actor, user: User, code: str, config: dict, now: datetime) -> list[str]:
    """Turn two-factor sign-in on with a first code; returns the recovery codes (shown once).
    The caller begins the write transaction (a POST request's does, learnhub.db)."""
    row = _locked(user)
    if row is None or row.confirmed_at is not None:
        raise TwoFactorError(_l("Hãy bắt đầu lại việc bật xác thực hai bước."))
    secret = _open(row, config)
    step = secret and totp.matching_step(secret, code, _unix(now), row.last_step)
    if step is None or secret is None:
        raise TwoFactorError(_l("Mã xác thực không đúng. Hãy nhập mã đang hiện trong ứng dụng."))
    row.last_step = step
    row.confirmed_at = now
    codes = _new_recovery_codes(user)
    audit.record(actor, "user.two_factor_enabled", "user", user.id)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    db.session.flush()
    return codes


def _locked(user: User) -> TwoFactor | None:
    stmt = (
        select(TwoFactor)
        .where(TwoFactor.user_id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


def verify(user: User, code: str, ip: str, config: dict, now: datetime) -> bool:
    """The second sign-in step: a current TOTP code (each works once) or an unused recovery
    code. Throttled like the password (the same rule), on the user's own factor key."""
    keys = throttle_keys(throttle.factor_key(user.id), ip)
    check_throttle(keys, now)
    db.write_transaction()
    row = _locked(user)
    actor = Actor(user, ip)
    action = "auth.two_factor_failed"
    if row is not None and row.confirmed_at is not None:
        secret = _open(row, config)
        step = secret and totp.matching_step(secret, code, _unix(now), row.last_step)
        if step is not None:
            row.last_step = step
            action = "auth.two_factor"
        elif _use_recovery_code(user, code, now):
            action = "auth.recovery_code"
    ok = action != "auth.two_factor_failed"
    count_attempt(keys, ok, config, now)
    audit.record(actor, action, "user", user.id)
    return ok


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    if len(_normalise(code)) != 16:
        return False
    wanted = _hash(code)
    stmt = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    for row in db.session.scalars(stmt.with_for_update()):
        if hmac.compare_digest(row.code_hash, wanted):
            row.used_at = now
            db.session.flush()
            return True
    return False


def recovery_codes_left(user: User) -> int:
    stmt = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return len(db.session.scalars(stmt).all())


def turn_off(actor: Actor, user: User, config: dict) -> None:
    """The user turns their own two-factor sign-in off (not when their role requires it)."""
    if is_required(user, config):
        raise TwoFactorError(_l("Vai trò của bạn bắt buộc xác thực hai bước."))
    if authenticator(user) is None:
        return
    _remove(user)
    audit.record(actor, "user.two_factor_disabled", "user", user.id)


def reset(actor: Actor, user: User) -> None:
    """An admin removes someone's authenticator and recovery codes (a lost phone); if their role
    requires two-factor sign-in, they enrol again at their next sign-in. Their sessions end."""
    had = authenticator(user) is not None
    _remove(user)
    user.session_version += 1
    db.session.flush()
    audit.record(actor, "user.two_factor_reset", "user", user.id, {"enrolled": had}, None)


def _remove(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.flush()
