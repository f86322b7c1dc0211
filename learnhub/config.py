"""Configuration: defaults, then LEARNHUB_* environment variables and instance/config.py."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Environment variables read as configuration (LEARNHUB_<NAME> -> NAME).
ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "CONTENT_DIR",
    "STORAGE_DIR",
    "BASE_URL",
    "ENV",
    "REDIS_URL",
    "CERTIFICATE_KEY_FILE",
    "PROXIES",
    "TOTP_REQUIRED_ROLES",
    "PDF_WORKERS",
    "DATABASE_POOL_SIZE",
)


def defaults(instance_path: str) -> dict:
    """Configuration defaults; secrets have none."""
    return {
        "ENV": "production",
        "SECRET_KEY": "",
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'learnhub.sqlite'}",
        "CONTENT_DIR": str(ROOT / "content"),
        "STORAGE_DIR": str(Path(instance_path) / "storage"),
        "BASE_URL": "http://127.0.0.1:5000",
        "REDIS_URL": "",
        # How many reverse proxies (nginx…) stand in front: their X-Forwarded-For/-Proto/-Host
        # are trusted that many hops deep (client addresses for throttling and rate limits).
        "PROXIES": 0,
        # 20 MiB: enough for a 200,000-row roster in XLSX, small enough to refuse abuse early.
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # A quiz page may stay open for a 90-minute exam: the CSRF token lives as long as the
        # session, which is bounded below (absolute lifetime, idle timeout).
        "WTF_CSRF_TIME_LIMIT": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_IDLE_TIMEOUT": timedelta(hours=3),
        # A sensitive admin action needs a sign-in (or re-authentication) this recent.
        "FRESH_AUTH_WINDOW": timedelta(minutes=15),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        # Argon2id cost; tests lower it to keep the suite fast.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 64 * 1024,
        # Password hashes computed at once per process (each holds ARGON2_MEMORY_COST KiB).
        "ARGON2_CONCURRENCY": 2,
        # Grade bands on the 10-point scale (lower bound, label), highest first; below the last:
        # "Không đạt". Override in instance/config.py if the province's rules change.
        "GRADE_BANDS": (("9", "Xuất sắc"), ("8", "Giỏi"), ("7", "Khá"), ("5", "Trung bình")),
        # Attendance: the projector's QR code changes every this many seconds; a check-in this
        # many minutes after a session starts counts as late.
        "CHECKIN_STEP_SECONDS": 20,
        "CHECKIN_LATE_MINUTES": 15,
        # A code or QR token checks in only to a session happening now: from this many minutes
        # before it starts to this many after it ends. No attendance at all (check-in, roll call,
        # paper sheet) is recorded for a session before it opens (its start less the first).
        "CHECKIN_OPENS_BEFORE": 15,
        "CHECKIN_CLOSES_AFTER": 30,
        # Wrong check-in codes per learner and class: answered freely this many times, then a
        # delay doubling from 1 second after each failure up to this many seconds (the lock).
        "CHECKIN_THROTTLE_FREE": 5,
        "CHECKIN_THROTTLE_MAX_DELAY": 30 * 60,
        # Documents: the issuing agency's parent and name (capitals), and the place name.
        "DOCUMENT_PARENT": "UBND TỈNH CÀ MAU",
        "DOCUMENT_AGENCY": "SỞ NỘI VỤ",
        "DOCUMENT_PLACE": "Cà Mau",
        # "Kính gửi" and "Nơi nhận" of the documents (learnhub/certificates/frame.py), per issuing
        # unit's code ("" for any other) and per document kind ("report", "register",
        # "history", "sheet"; "" for any other). The last line of "Nơi nhận" ends with a full stop.
        "DOCUMENT_RECIPIENTS": {"": {"report": ["Ủy ban nhân dân tỉnh Cà Mau"]}},
        "DOCUMENT_COPIES": {
            "": {
                "report": ["Như trên", "Giám đốc Sở (để b/c)", "Lưu: VT"],
                "": ["Lưu: VT"],
            }
        },
        # The number line of a class's decisions and summons: empty leaves "Số: …/QĐ-SNV" to fill
        # in when registered; a pattern may use {kind} (QĐ, GTT) and {issuer} (the issuer's code).
        "CLASS_DOCUMENT_NUMBER": "",
        # The default certificate issuer (editable by admins at /admin/issuers): the code in
        # register numbers (015/2026/GCN-SNV) and the signer ("KT." + "GIÁM ĐỐC" over the title).
        "CERTIFICATE_ISSUER_CODE": "SNV",
        # Its organisational unit: HR officers whose scope covers it may issue and revoke.
        "CERTIFICATE_ISSUER_UNIT": "CM-SNV",
        "CERTIFICATE_SIGNER_AUTHORITY": "",
        "CERTIFICATE_SIGNER_FOR": "",
        "CERTIFICATE_SIGNER_TITLE": "GIÁM ĐỐC",
        "CERTIFICATE_SIGNER_NAME": "",
        # The Ed25519 key that signs QR payloads (generated on first use; keep it, back it up).
        "CERTIFICATE_KEY_FILE": str(Path(instance_path) / "certificate-signing-key.pem"),
        # Public verification: lookups per address per minute.
        "VERIFY_RATE_LIMIT": 30,
        # Seconds a PDF render may take: past it, the render process is killed (learnhub/pdf.py).
        "PDF_TIMEOUT": 30,
        # Render processes a bulk issue of certificates uses side by side (learnhub/pdf.py
        # RenderPool); None: one per core (os.cpu_count()). 1: the app process's one render process.
        "PDF_WORKERS": None,
        # Database connections each app process keeps open (SQLAlchemy's pool), plus a quarter
        # more (at least 2, for the answer threads) when busy. None: SQLAlchemy's 5 (+10). Give
        # each gunicorn worker at least its --threads, so a thread never waits for a
        # connection; PostgreSQL's max_connections (100 by default) must hold workers × (this
        # + its overflow).
        "DATABASE_POOL_SIZE": None,
        # Uploaded CSV/XLSX files (roster import, class enrolment; learnhub/tables.py): an XLSX
        # part may unpack to IMPORT_MAX_PART_BYTES, all parts to IMPORT_MAX_XLSX_BYTES, a part
        # over 1 MiB may be compressed at most IMPORT_MAX_RATIO:1; rows (empty ones count),
        # columns read, characters a cell, and seconds reading may take.
        "IMPORT_MAX_PART_BYTES": 30 * 1024 * 1024,
        "IMPORT_MAX_XLSX_BYTES": 60 * 1024 * 1024,
        "IMPORT_MAX_RATIO": 100,
        "IMPORT_MAX_ROWS": 100_000,
        "IMPORT_MAX_COLUMNS": 64,
        "IMPORT_MAX_CELL_CHARS": 10_000,
        "IMPORT_READ_SECONDS": 30,
        # Login throttling: failures before the delay starts, and its cap in seconds.
        "THROTTLE_ACCOUNT_FREE": 5,
        "THROTTLE_IP_FREE": 30,
        "THROTTLE_MAX_DELAY": 15 * 60,
        # Roles that must sign in with a two-factor code (TOTP); the others among staff may turn it
        # on. None: ("admin",) when ENV is production, none otherwise (the demo and the tests);
        # set it (a tuple, or "admin,hr" in LEARNHUB_TOTP_REQUIRED_ROLES) to choose.
        "TOTP_REQUIRED_ROLES": None,
    }


def from_environment() -> dict:
    """Values of LEARNHUB_* environment variables that are set."""
    return {
        key: os.environ[f"LEARNHUB_{key}"] for key in ENV_KEYS if f"LEARNHUB_{key}" in os.environ
    }


def two_factor_roles(value: object, env: str) -> tuple[str, ...]:
    """TOTP_REQUIRED_ROLES as a tuple of role names (see defaults)."""
    if value is None:
        return ("admin",) if env == "production" else ()
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    roles = tuple(str(r).strip() for r in items if str(r).strip())
    unknown = set(roles) - {"learner", "trainer", "hr", "admin"}
    if unknown:
        raise RuntimeError(f"TOTP_REQUIRED_ROLES: unknown roles {sorted(unknown)}")
    return roles


def production_overrides() -> dict:
    """Cookie and transport settings for a deployment behind HTTPS."""
    return {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_NAME": "__Host-learnhub",
        "PREFERRED_URL_SCHEME": "https",
        "WTF_CSRF_SSL_STRICT": True,
    }


def development_secret(instance_path: str) -> str:
    """A random key kept in instance/, so a development server's sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
