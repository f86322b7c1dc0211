"""The document frame of every PDF (Nghị định 30/2020): who issues it, who signs, who receives it.

One home for the values the frame partial (templates/_pdf/frame.html) prints: the issuing unit
(cert_issuers, edited at /admin/issuers; the default one, or the DOCUMENT_* configuration when no
unit exists yet), the place-and-date line, the number line, "Kính gửi" and "Nơi nhận" (from the
DOCUMENT_RECIPIENTS and DOCUMENT_COPIES keys, per issuing unit), and the signature block.
Reading a frame never creates a row (documents are downloaded with GET).
"""

import base64
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from learnhub import db
from learnhub.certificates.models import Issuer
from learnhub.timeutil import place_date, today


@dataclass(frozen=True)
class Signer:
    """The signature block: "KT." + "GIÁM ĐỐC" over the title, the name, optional images."""

    title: str
    name: str = ""
    authority: str = ""
    for_: str = ""
    signature_uri: str = ""
    seal_uri: str = ""


@dataclass(frozen=True)
class Frame:
    parent: str
    agency: str
    place: str
    place_date: str
    signer: Signer
    number: str = ""
    recipients: tuple[str, ...] = ()
    copies: tuple[str, ...] = field(default=())


def png_uri(data: bytes | None) -> str:
    """A PNG as a data: URI (the only images the PDF renderer fetches), or ""."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else ""


def _per_issuer(key: str, code: str, kind: str) -> tuple[str, ...]:
    """A DOCUMENT_RECIPIENTS / DOCUMENT_COPIES value: {issuer code or "": {kind or "": [...]}}."""
    table = current_app.config.get(key) or {}
    by_kind = table.get(code, table.get("", {}))
    return tuple(by_kind.get(kind, by_kind.get("", ())))


def _find_issuer(issuer: Issuer | None) -> Issuer | None:
    if issuer is not None:
        return issuer
    return db.session.scalar(select(Issuer).where(Issuer.is_default.is_(True)).limit(1))


def document_frame(
    issuer: Issuer | None = None,
    *,
    on: date | None = None,
    symbol: str = "",
    kind: str = "",
    recipients: tuple[str, ...] | None = None,
    copies: tuple[str, ...] | None = None,
) -> Frame:
    """The frame of a document issued by `issuer` (default: the default unit) dated `on`.

    `symbol` is the document type's abbreviation (BC, QĐ…): the number line then reads
    "Số:      /BC-SNV" for the office to fill in. `kind` selects the configured recipients and
    copies ("report", "register"…); pass them explicitly to override.
    """
    cfg = current_app.config
    found = _find_issuer(issuer)
    if found is not None:
        parent, agency, place, code = found.parent_name, found.name, found.place, found.code
        signer = Signer(
            title=found.signer_title,
            name=found.signer_name,
            authority=found.signer_authority,
            for_=found.signer_for,
            signature_uri=png_uri(found.signature_png),
            seal_uri=png_uri(found.seal_png),
        )
    else:
        parent, agency, place = (
            cfg["DOCUMENT_PARENT"],
            cfg["DOCUMENT_AGENCY"],
            cfg["DOCUMENT_PLACE"],
        )
        code = cfg["CERTIFICATE_ISSUER_CODE"]
        signer = Signer(
            title=cfg["CERTIFICATE_SIGNER_TITLE"],
            name=cfg["CERTIFICATE_SIGNER_NAME"],
            authority=cfg["CERTIFICATE_SIGNER_AUTHORITY"],
            for_=cfg["CERTIFICATE_SIGNER_FOR"],
        )
    return Frame(
        parent=parent,
        agency=agency,
        place=place,
        place_date=place_date(place, on or today()),
        signer=signer,
        number=f"Số:\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/{symbol}-{code}" if symbol else "",
        recipients=_per_issuer("DOCUMENT_RECIPIENTS", code, kind)
        if recipients is None
        else recipients,
        copies=_per_issuer("DOCUMENT_COPIES", code, kind) if copies is None else copies,
    )


def issuer_of(issuer_id: int | None) -> Issuer | None:
    """A class's issuing unit by id (None: the default one), without creating anything."""
    return db.session.get(Issuer, issuer_id) if issuer_id is not None else None
