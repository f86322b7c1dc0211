"""Password hashing (Argon2id) and the password policy (ASVS 6.2)."""

import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from learnhub.textutil import fold

MIN_LENGTH = 8
MAX_LENGTH = 256
#: Words that make a password guessable here, whatever the list of common passwords says.
CONTEXT_WORDS = ("learnhub", "camau", "ca mau", "doingoai", "noivu", "matkhau", "password")


@cache
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextmanager
def _slot() -> Iterator[None]:
    """At most ARGON2_CONCURRENCY hashes at once in this process. Each takes ARGON2_MEMORY_COST
    (64 MiB): without a bound, a burst of sign-ins on a worker with 8 threads held 512 MiB at
    once (bench/RESULTS.md, Growth, B1); the CPU is the limit anyway, so the others wait."""
    limit = max(int(current_app.config["ARGON2_CONCURRENCY"]), 1)
    with _slots_lock:
        slot = _slots.setdefault(limit, threading.BoundedSemaphore(limit))
    with slot:
        yield


def hash_password(password: str) -> str:
    # NFC: the same password typed with a composing (NFD) keyboard must match (NIST 800-63B).
    with _slot():
        return hasher().hash(unicodedata.normalize("NFC", password))


def verify_password(stored: str | None, password: str) -> bool:
    """Check *password* as typed, in NFC; a missing hash still costs one verification."""
    password = unicodedata.normalize("NFC", password)
    against = stored or _dummy_hash()  # before taking a slot: the dummy is hashed in one
    try:
        with _slot():
            return hasher().verify(against, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    # Verifying against a real hash keeps the time for an unknown user like a wrong password.
    cfg = current_app.config
    key = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-password-of-anyone")
    return _DUMMY[key]


_DUMMY: dict[tuple[int, int], str] = {}


@cache
def common_passwords() -> frozenset[str]:
    """The 3,000 most common passwords (zxcvbn's ranked list)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:3000])


def password_problem(password: str, *, login: str = "", full_name: str = "") -> str | None:
    """Why *password* is not acceptable, or None. No composition rules (ASVS 6.2.5)."""
    if len(password) < MIN_LENGTH:
        return _("Mật khẩu phải có ít nhất %(n)s ký tự.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Mật khẩu dài tối đa %(n)s ký tự.", n=MAX_LENGTH)
    if password.lower() in common_passwords():
        return _("Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác.")
    folded = fold(password).replace(" ", "")
    personal = [fold(login)] + [fold(w) for w in full_name.split() if len(w) > 3]
    words = [w.replace(" ", "") for w in CONTEXT_WORDS] + [p for p in personal if len(p) > 3]
    if any(folded == w or (w and folded.startswith(w) and len(folded) - len(w) < 4) for w in words):
        return _("Mật khẩu không được dựa trên tên đăng nhập, họ tên hoặc tên hệ thống.")
    return None
