"""Tests of the read-only JSON API and personal API tokens; shared helpers below."""

import itertools
import secrets
from datetime import date

from learnhub import db
from learnhub.api import tokens
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate
from learnhub.timeutil import today

_numbers = itertools.count(1)


def new_token(user, name: str = "Phần mềm quản lý cán bộ", expires_on: date | None = None) -> str:
    """A fresh token of *user* (the secret, as shown once)."""
    _row, secret = tokens.create(Actor(user), user, name, expires_on, today())
    db.session.flush()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def api_get(client, url: str, secret: str | None = None, **kwargs):
    """GET *url* with the token; returns (status, JSON body, headers)."""
    headers = bearer(secret) if secret else {}
    with client.get(url, headers=headers, **kwargs) as response:
        return response.status_code, response.get_json(silent=True), response.headers


def add_certificate(training_class, user, *, year: int = 2026, status: str = "valid", **fields):
    """A register entry written directly (rendering a PDF is not what these tests are about)."""
    issuer = certificates.default_issuer()
    number = next(_numbers) + 900
    cert = Certificate(
        code=secrets.token_hex(13).upper()[:26],
        serial=f"T{secrets.token_hex(6).upper()}",
        issuer_id=issuer.id,
        year=year,
        register_no=number,
        number_label=f"{number:03d}/{year}/GCN-{issuer.code}",
        user_id=user.id,
        class_id=training_class.id,
        data={"full_name": user.full_name},
        issued_on=date(year, 1, 10),
        status=status,
        pdf_sha256="0" * 64,
        pdf_size=0,
        **fields,
    )
    db.session.add(cert)
    db.session.flush()
    return cert
