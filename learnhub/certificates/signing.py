"""The signed payload a certificate's QR code carries, checkable offline with the public key.

A token is ``LH1.<payload>.<signature>``: the payload is compact JSON in base64url, the signature
Ed25519 over the ASCII of ``LH1.<payload>``. The QR code holds the verification URL with the token
as its fragment (``…/verify/<code>#LH1.…``): a phone opens the live page, and the fragment never
reaches the server. The private key is generated on first use in the instance folder.
"""

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "LH1"
log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The instance's signing key, created (mode 0600) the first time it is needed."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: two first uses at once keep one key
        except FileExistsError:
            pass
        else:
            log.warning(
                "created a new certificate signing key at %s: back it up, and give every "
                "application server this same file (LEARNHUB_CERTIFICATE_KEY_FILE)",
                path,
            )
        tmp.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{path} does not hold an Ed25519 private key")
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def public_raw(key: Ed25519PrivateKey) -> str:
    """The 32-byte public key in base64url (what the browser verifier imports)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as PEM or as raw base64url."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


def sign(key: Ed25519PrivateKey, claims: dict) -> str:
    body = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    signed = f"{PREFIX}.{_b64(body.encode('utf-8'))}"
    return f"{signed}.{_b64(key.sign(signed.encode('ascii')))}"


@dataclass(frozen=True)
class Checked:
    valid: bool
    claims: dict
    problem: str = ""


def token_from(text: str) -> str:
    """The token inside a QR code's text (URL with a fragment) or the bare token."""
    text = text.strip()
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    return text


def verify(public_key: Ed25519PublicKey, text: str) -> Checked:
    """Check a token (or a QR code's text) offline. Never raises on malformed input."""
    token = token_from(text)
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return Checked(False, {}, "not a LearnHub certificate token")
    try:
        signature = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return Checked(False, {}, "the token is damaged")
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, ValueError):
        return Checked(False, claims if isinstance(claims, dict) else {}, "bad signature")
    if not isinstance(claims, dict):
        return Checked(False, {}, "the token is damaged")
    return Checked(True, claims)
