"""Public certificate verification: no sign-in, minimum personal data, rate-limited per address.

/verify/<code> looks a certificate up by its random code and says whether it is valid, expired,
revoked or superseded; unknown and malformed codes get one and the same not-found page.
/verify/offline checks a QR code's signed token entirely in the browser (static/js/
verify-offline.js) against the public key embedded in the page; /verify/key publishes that key.
Nothing here renders a PDF.
"""

import re
import secrets
from datetime import timedelta

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from learnhub import db, ratelimit
from learnhub.accounts.auth import client_ip
from learnhub.certificates import services, signing
from learnhub.certificates.models import REVOKE_LABELS, STATUS_LABELS, Certificate, RevokeReason
from learnhub.timeutil import today, utcnow

bp = Blueprint("verify", __name__)

#: A certificate code: 128 random bits in base32 without padding.
CODE = re.compile(r"[A-Z2-7]{26}")
#: The Số hiệu printed on the paper (the code's first ten characters, "WJYDY-SH4YE") once
#: normalised.
SERIAL = re.compile(r"[A-Z2-7]{10}")
RATE_WINDOW = timedelta(minutes=1)


@bp.after_request
def _not_indexed(response: Response) -> Response:
    # Personal data behind an unguessable code: keep it out of search engines.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _limited() -> Response | None:
    """Count this lookup against the client's address; the 429 page when over the limit."""
    now = utcnow()
    db.write_transaction()  # a GET request has no write transaction of its own
    allowed = ratelimit.hit(
        f"verify:{client_ip()}", int(current_app.config["VERIFY_RATE_LIMIT"]), RATE_WINDOW, now
    )
    if secrets.randbelow(500) == 0:  # housekeeping now and then: forget windows of yesterday
        ratelimit.purge(now - timedelta(days=1))
    db.session.commit()
    if allowed:
        return None
    wait = ratelimit.retry_after(RATE_WINDOW, now)
    response = Response(
        render_template(
            "certificates/verify_limited.html", wait=wait, request_path=url_for(".form")
        ),
        429,
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _find(code: str) -> Certificate | None:
    code = services.normalise_code(code)
    if not CODE.fullmatch(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def _folded_label():
    """Certificate.number_label as normalise_code leaves typed text: no separators, upper case."""
    label = Certificate.number_label
    for sep in ("/", "-", " ", "."):
        label = func.replace(label, sep, "")
    return func.upper(label)


def find_printed(typed: str) -> Certificate | None:
    """The certificate whose code, Số hiệu or Số vào sổ *typed* is, as printed on the paper
    (spaces, dashes and case ignored); None when nothing (or nothing unique) matches."""
    key = services.normalise_code(typed)
    if not key:
        return None
    if CODE.fullmatch(key):
        return db.session.scalar(select(Certificate).where(Certificate.code == key))
    if SERIAL.fullmatch(key):
        serial = f"{key[:5]}-{key[5:]}"
        found = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
        if found is not None:
            return found
    rows = db.session.scalars(select(Certificate).where(_folded_label() == key).limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def _revoke_label(reason: str | None) -> str:
    try:
        return str(REVOKE_LABELS[RevokeReason(reason)])
    except ValueError:
        return str(REVOKE_LABELS[RevokeReason.other])


def _typed_key(typed: str) -> str:
    """What a person typed or pasted, less a verification address around it (with or without
    the QR's #fragment). A Số vào sổ has slashes of its own, so only an address is cut."""
    text = typed.split("#", 1)[0].strip()
    if "/verify/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    return text


@bp.get("/verify")
def form():
    """Type the code, the Số hiệu or the Số vào sổ as printed: any case, spaces and dashes."""
    typed = request.args.get("code", "")
    error = ""
    if typed:
        text = _typed_key(typed)
        code = services.normalise_code(text)
        if CODE.fullmatch(code):
            return redirect(url_for(".show", code=code))
        if code:
            # Numbers are shorter than codes and may be guessed: count these lookups too.
            refused = _limited()
            if refused is not None:
                return refused
            cert = find_printed(text)
            if cert is not None:
                return redirect(url_for(".show", code=cert.code))
            return render_template(
                "certificates/verify_not_found.html", request_path=url_for(".form")
            ), 404
        error = _("Hãy nhập mã tra cứu, số hiệu hoặc số vào sổ in trên giấy.")
    elif "code" in request.args:
        error = _("Vui lòng nhập mã tra cứu.")
    return render_template("certificates/verify_form.html", error=error, typed=typed[:100])


@bp.get("/verify/key")
def key():
    """The public key that signs QR payloads (PEM), for anyone checking tokens offline."""
    pem = signing.public_pem(services.signing_key())
    response = Response(pem, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/verify/offline")
def offline():
    """Check a QR code's signature in the browser; the page sends nothing back."""
    return render_template(
        "certificates/verify_offline.html",
        public_key=signing.public_raw(services.signing_key()),
    )


@bp.get("/verify/<string:code>")
def show(code: str):
    """What the register says about one certificate, in the minimum of personal data."""
    refused = _limited()
    if refused is not None:
        return refused
    cert = _find(code)
    if cert is None:
        # Unknown and malformed codes alike: the page must not tell them apart, so it does not
        # echo the code, not even in the language switch's return address.
        return render_template(
            "certificates/verify_not_found.html", request_path=url_for(".form")
        ), 404
    state = cert.state(today())
    source = cert.status_source  # a confirmation shows its certificate's revocation
    data = cert.data
    replacement = None
    if state == "superseded":
        replacement = db.session.scalar(
            select(Certificate.number_label).where(Certificate.supersedes_id == source.id).limit(1)
        )
    return render_template(
        "certificates/verify_result.html",
        cert=cert,
        state=state,
        state_label=STATUS_LABELS[state],
        confirmation=cert.kind == "confirmation",
        full_name=data.get("full_name", ""),
        module_title=data.get("module_title", ""),
        issuer_name=(data.get("issuer") or {}).get("name", ""),
        source=source,
        revoke_label=_revoke_label(source.revoke_reason) if state == "revoked" else "",
        replacement=replacement,
        public_key=signing.public_raw(services.signing_key()),
    )
