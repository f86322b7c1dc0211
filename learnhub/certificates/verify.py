"""Public certificate verification: no sign-in, minimum personal data, rate-limited per address.

/verify/<code> looks a certificate up by its random code and says whether it is valid, expired,
revoked or superseded; unknown and malformed codes get one and the same not-found page.
/verify/offline checks a QR code's signed token entirely in the browser (static/js/
verify-offline.js) against the public key embedded in the page; /verify/key publishes that key.
Nothing here renders a PDF.
"""

import re
import secrets
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from learnhub import db, ratelimit
from learnhub.accounts.auth import client_ip
from learnhub.certificates import services, signing
from learnhub.certificates.models import REVOKE_LABELS, STATUS_LABELS, Certificate, RevokeReason
from learnhub.timeutil import format_date, today, utcnow

bp = Blueprint("verify", __name__)

#: A certificate code: 128 random bits in base32 without padding.
CODE = re.compile(r"[A-Z2-7]{26}")
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


def _birth_date(data: dict) -> str:
    text = data.get("birth_date")
    return format_date(date.fromisoformat(text)) if text else ""


def _revoke_label(reason: str | None) -> str:
    try:
        return str(REVOKE_LABELS[RevokeReason(reason)])
    except ValueError:
        return str(REVOKE_LABELS[RevokeReason.other])


@bp.get("/verify")
def form():
    """Type a code (from the paper): any case, spaces and dashes are fine."""
    typed = request.args.get("code", "")
    error = ""
    if typed:
        # A pasted verification address (with or without the QR's #fragment) works too.
        last = typed.split("#", 1)[0].strip().rstrip("/").rsplit("/", 1)[-1]
        code = services.normalise_code(last)
        if code:
            return redirect(url_for(".show", code=code))
        error = _("Mã tra cứu chỉ gồm chữ cái và chữ số (26 ký tự).")
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
        birth_date=_birth_date(data),
        module_title=data.get("module_title", ""),
        issuer_name=(data.get("issuer") or {}).get("name", ""),
        source=source,
        revoke_label=_revoke_label(source.revoke_reason) if state == "revoked" else "",
        replacement=replacement,
        public_key=signing.public_raw(services.signing_key()),
    )
