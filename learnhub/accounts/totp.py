"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits, 30-second
steps, one step of clock drift either way. Standard library only."""

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
#: Steps of clock drift accepted either side of now.
DRIFT = 1


def new_secret() -> bytes:
    """160 random bits: the key length RFC 4226 recommends for HMAC-SHA-1."""
    return secrets.token_bytes(20)


def b32(secret: bytes) -> str:
    """The secret as authenticator apps take it: base32, no padding."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def step_at(unix_time: float) -> int:
    return int(unix_time) // STEP_SECONDS


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: dynamic truncation of HMAC-SHA-1(secret, counter)."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def code_at(secret: bytes, unix_time: float, digits: int = DIGITS) -> str:
    return hotp(secret, step_at(unix_time), digits)


def matching_step(secret: bytes, code: str, unix_time: float, last_step: int | None) -> int | None:
    """The time step *code* belongs to (now, or one step either side), or None.

    A step at or before *last_step* (the last one accepted) is refused: a code works once.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(unix_time)
    for step in range(now - DRIFT, now + DRIFT + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(hotp(secret, step), code):
            return step
    return None


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": b32(secret),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
