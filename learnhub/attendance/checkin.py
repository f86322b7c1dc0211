"""Rotating check-in tokens for the projector's QR code, and the short numeric code beside it.

A token binds a session and a time window and is signed (HMAC-SHA256 with the app's key). The
current and the previous window are accepted, which absorbs clock drift and a slow scan. Pure
functions with the time passed in, so tests can move the clock.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass


class CheckinRefused(Exception):
    """The token or code cannot check anyone in; the message says why."""


@dataclass(frozen=True)
class Window:
    session_id: int
    window: int


def window_of(timestamp: float, step: int) -> int:
    return int(timestamp // step)


def _mac(secret: bytes, session_id: int, window: int) -> bytes:
    return hmac.new(secret, f"checkin:{session_id}:{window}".encode(), hashlib.sha256).digest()


def make_token(secret: bytes, session_id: int, timestamp: float, step: int) -> str:
    window = window_of(timestamp, step)
    mac = base64.urlsafe_b64encode(_mac(secret, session_id, window)[:16]).decode().rstrip("=")
    return f"{session_id}.{window}.{mac}"


def make_code(secret: bytes, session_id: int, timestamp: float, step: int) -> str:
    """Six digits for phones without a camera (the same window as the QR code)."""
    window = window_of(timestamp, step)
    number = int.from_bytes(_mac(secret, session_id, window)[16:24], "big") % 1_000_000
    return f"{number:06d}"


def _fresh(window: int, timestamp: float, step: int) -> None:
    now = window_of(timestamp, step)
    if window > now:
        raise CheckinRefused("not-yet")
    if window < now - 1:
        raise CheckinRefused("expired")


def verify_token(secret: bytes, token: str, timestamp: float, step: int) -> Window:
    """The session and window a token is for; CheckinRefused when tampered with or expired."""
    parts = token.split(".")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        raise CheckinRefused("invalid")
    session_id, window = int(parts[0][:12]), int(parts[1][:15])
    expected = base64.urlsafe_b64encode(_mac(secret, session_id, window)[:16]).rstrip(b"=")
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    if not hmac.compare_digest(expected, parts[2].encode()):
        raise CheckinRefused("invalid")
    _fresh(window, timestamp, step)
    return Window(session_id, window)


def verify_code(secret: bytes, session_id: int, code: str, timestamp: float, step: int) -> Window:
    now = window_of(timestamp, step)
    for window in (now, now - 1):
        expected = (
            f"{int.from_bytes(_mac(secret, session_id, window)[16:24], 'big') % 1_000_000:06d}"
        )
        if hmac.compare_digest(expected.encode(), code.strip().encode()):
            return Window(session_id, window)
    raise CheckinRefused("invalid-code")
