"""Issuing, storing, revoking and re-issuing certificates; the register number; who sees what."""

import base64
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from learnhub import db, pdf, policy, qrcodes
from learnhub.accounts.models import User, salutation
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor, record
from learnhub.certificates import signing
from learnhub.certificates.models import (
    SYMBOLS,
    Certificate,
    Issuer,
    Kind,
    RegisterCounter,
    RevokeReason,
    Status,
)
from learnhub.classes.models import FORMAT_LABELS, Enrolment, TrainingClass
from learnhub.i18n import format_number
from learnhub.orgunits import services as units
from learnhub.quizzes import grading
from learnhub.textutil import vn_sort_key
from learnhub.timeutil import format_date, place_date, to_local

log = logging.getLogger(__name__)


class CertificateError(Exception):
    """A certificate cannot be issued or changed; the message says why, for people."""


# -- issuers ---------------------------------------------------------------------------------


def default_issuer() -> Issuer:
    """The default issuing unit; created from the configured document header on first use."""
    issuer = db.session.scalar(select(Issuer).where(Issuer.is_default.is_(True)).limit(1))
    if issuer is not None:
        return issuer
    cfg = current_app.config
    by_code = select(Issuer).where(Issuer.code == cfg["CERTIFICATE_ISSUER_CODE"])
    issuer = db.session.scalar(by_code)
    if issuer is not None:
        return issuer
    issuer = Issuer(
        code=cfg["CERTIFICATE_ISSUER_CODE"],
        name=cfg["DOCUMENT_AGENCY"],
        parent_name=cfg["DOCUMENT_PARENT"],
        place=cfg["DOCUMENT_PLACE"],
        signer_authority=cfg["CERTIFICATE_SIGNER_AUTHORITY"],
        signer_for=cfg["CERTIFICATE_SIGNER_FOR"],
        signer_title=cfg["CERTIFICATE_SIGNER_TITLE"],
        signer_name=cfg["CERTIFICATE_SIGNER_NAME"],
        unit_id=unit.id if (unit := units.by_code(cfg["CERTIFICATE_ISSUER_UNIT"])) else None,
        is_default=True,
    )
    try:
        with db.session.begin_nested():
            db.session.add(issuer)
    except IntegrityError:  # created at the same moment by another request
        return db.session.scalars(by_code).one()
    return issuer


def issuer_for(training_class: TrainingClass) -> Issuer:
    if training_class.issuer_id is not None:
        issuer = db.session.get(Issuer, training_class.issuer_id)
        if issuer is not None:
            return issuer
    return default_issuer()


# -- the register number ---------------------------------------------------------------------


def next_register_no(issuer: Issuer, year: int) -> int:
    """The next number of the issuer's register for *year*, gapless: the counter row stays
    locked (PostgreSQL row lock; SQLite write lock) until the transaction that uses it ends,
    and rolling back that transaction gives the number back."""
    db.write_transaction()
    bump = (
        update(RegisterCounter)
        .where(RegisterCounter.issuer_id == issuer.id, RegisterCounter.year == year)
        .values(last=RegisterCounter.last + 1)
        .returning(RegisterCounter.last)
    )
    number = db.session.scalar(bump)
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(RegisterCounter(issuer_id=issuer.id, year=year, last=0))
        except IntegrityError:
            pass  # another issuer started the year at the same moment
        number = db.session.scalar(bump)
    return int(number)


def number_label(number: int, year: int, kind: Kind, issuer: Issuer) -> str:
    return f"{number:03d}/{year}/{SYMBOLS[kind]}-{issuer.code}"


# -- who gets one ----------------------------------------------------------------------------


def certificate_settings(training_class: TrainingClass) -> dict:
    version = training_class.version or training_class.module.published_version
    settings = {"issue": "review", "validity_months": 0}
    settings.update((version.meta if version else {}).get("certificate", {}))
    return settings


@dataclass
class Candidate:
    user: User
    completion: Completion | None
    certificate: Certificate | None
    #: Why no certificate will be issued (empty when one will, or already was).
    reasons: list[str]
    #: The learner's last certificate of the class when none is valid (revoked, superseded):
    #: only an explicit re-issue of it gives a new number, never issuing the class.
    previous: Certificate | None = None

    @property
    def will_issue(self) -> bool:
        return self.completion is not None and self.certificate is None and self.previous is None


def latest_certificate(training_class: TrainingClass, user: User) -> Certificate | None:
    """The learner's last certificate of the class, whatever its status."""
    return db.session.scalar(
        select(Certificate)
        .where(
            Certificate.class_id == training_class.id,
            Certificate.user_id == user.id,
            Certificate.kind == Kind.certificate,
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    )


def valid_certificate(training_class: TrainingClass, user: User) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.class_id == training_class.id,
            Certificate.user_id == user.id,
            Certificate.kind == Kind.certificate,
            Certificate.status == Status.valid,
        )
    )


def review(training_class: TrainingClass) -> list[Candidate]:
    """Every learner of the class: who will get a certificate, who has one, who will not and why."""
    from flask_babel import gettext as _

    learners = db.session.scalars(
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.class_id == training_class.id, Enrolment.is_active)
    ).all()
    completions = {
        c.user_id: c
        for c in db.session.scalars(
            select(Completion).where(Completion.class_id == training_class.id)
        )
    }
    held: dict[int, Certificate] = {}
    last: dict[int, Certificate] = {}
    for cert in db.session.scalars(
        select(Certificate)
        .where(Certificate.class_id == training_class.id, Certificate.kind == Kind.certificate)
        .order_by(Certificate.id)
    ):
        last[cert.user_id] = cert
        if cert.status == Status.valid:
            held[cert.user_id] = cert
    out = []
    for user in sorted(learners, key=lambda u: vn_sort_key(u.full_name)):
        reasons = []
        completion = completions.get(user.id)
        previous = None if user.id in held else last.get(user.id)
        if completion is None:
            for item in attendance.checklist(training_class, user).missing:
                reasons.append(f"{item.label} ({item.detail})" if item.detail else item.label)
            if not reasons:
                reasons.append(_("Chưa được ghi nhận hoàn thành"))
        if previous is not None:
            reasons.append(
                _(
                    "Giấy %(n)s không còn hiệu lực: chỉ cấp lại từ trang của giấy đó, có nêu lý do",
                    n=previous.number_label,
                )
            )
        out.append(Candidate(user, completion, held.get(user.id), reasons, previous))
    return out


def pending(training_class: TrainingClass) -> Select:
    """Completions of the class whose learner was never given a certificate of it. A learner
    whose certificate was revoked (or superseded) is not pending: only an explicit re-issue,
    with a reason, gives them a new number."""
    has_one = (
        select(Certificate.id)
        .where(
            Certificate.class_id == Completion.class_id,
            Certificate.user_id == Completion.user_id,
            Certificate.kind == Kind.certificate,
        )
        .exists()
    )
    return (
        select(Completion)
        .where(Completion.class_id == training_class.id, ~has_one)
        .order_by(Completion.id)
    )


# -- issuing ---------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def grade_band(score: Decimal | None) -> str:
    bands = tuple((Decimal(low), label) for low, label in current_app.config["GRADE_BANDS"])
    return grading.band(score, bands)


def _score_text(score: Decimal | None) -> str:
    # The certificate is Vietnamese whoever issues it.
    return format_number(score, 2, locale="vi")


def snapshot(
    training_class: TrainingClass,
    user: User,
    completion: Completion | None,
    issuer: Issuer,
    issued_on: date,
) -> dict:
    """What the document says, fixed at issue."""
    version = training_class.version or training_class.module.published_version
    score = None if completion is None or completion.score is None else Decimal(completion.score)
    unit = user.unit
    return {
        "full_name": user.full_name,
        "birth_date": user.birth_date.isoformat() if user.birth_date else None,
        # "nam" / "nu" or None: "Ông" / "Bà" on the certificate, the register's "Giới tính".
        "sex": str(user.sex) if user.sex else None,
        "position": user.position,
        "unit": unit.name if unit is not None else "",
        "module_title": version.title if version else training_class.title,
        "class_title": training_class.title,
        "class_code": training_class.code,
        "starts_on": training_class.starts_on.isoformat(),
        "ends_on": training_class.ends_on.isoformat(),
        # The class's own sessions, never more than the module's periods (TrainingClass).
        "periods": training_class.total_periods or training_class.module_periods or 0,
        "format": str(training_class.format),
        "score": _score_text(score),
        "band": grade_band(score) if score is not None else "",
        "completed_on": format_date(completion.completed_at) if completion else "",
        "issuer": {
            "code": issuer.code,
            "name": issuer.name,
            "parent_name": issuer.parent_name,
            "place": issuer.place,
        },
        "signer": {
            "authority": issuer.signer_authority,
            "for": issuer.signer_for,
            "title": issuer.signer_title,
            "name": issuer.signer_name,
        },
        "place_date": place_date(issuer.place, issued_on),
    }


def verify_url(code: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/verify/{code}"


def signing_key():
    return _signing_key(current_app.config["CERTIFICATE_KEY_FILE"])


@lru_cache(maxsize=4)
def _signing_key(path: str):
    return signing.load_private_key(path)


def claims_of(cert: Certificate) -> dict:
    """The compact, signed statement the QR code carries (minimum personal data)."""
    data = cert.data
    return {
        "c": cert.code,
        "r": cert.number_label,
        "s": cert.serial,
        "k": str(cert.kind),
        "n": data["full_name"],
        "b": data["birth_date"],
        "t": data["module_title"][:90],
        "d": cert.issued_on.isoformat(),
        "v": cert.valid_until.isoformat() if cert.valid_until else None,
    }


def qr_text(cert: Certificate) -> str:
    return f"{verify_url(cert.code)}#{signing.sign(signing_key(), claims_of(cert))}"


def _png_uri(data: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else ""


def _iso_date(text: str | None) -> str:
    return format_date(date.fromisoformat(text)) if text else ""


def class_line(title: str) -> str:
    """The class line of a certificate: "Lớp bồi dưỡng …" is not prefixed "Lớp: " again, and the
    internal class code is not printed."""
    return title if title.casefold().startswith("lớp") else f"Lớp: {title}"


def render_pdf(cert: Certificate, issuer: Issuer) -> bytes:
    """The certificate as a PDF (WeasyPrint, through learnhub.pdf)."""
    return pdf.render_html(certificate_html(cert, issuer))


def certificate_html(cert: Certificate, issuer: Issuer) -> str:
    """The HTML the certificate's PDF is rendered from (made in the app process: a render
    process, or a RenderPool's, turns it into the PDF)."""
    data = cert.data
    text = qr_text(cert)
    return pdf.html_of(
        "certificates/certificate.html",
        cert=cert,
        d=data,
        birth_date=format_date(date.fromisoformat(data["birth_date"]))
        if data["birth_date"]
        else "",
        starts_on=_iso_date(data["starts_on"]),
        ends_on=_iso_date(data["ends_on"]),
        format_label=FORMAT_LABELS.get(data["format"], data["format"]),
        # Certificates issued before sex was recorded have no "sex": "Ông/Bà".
        honorific=salutation(data.get("sex")),
        class_line=class_line(data["class_title"]),
        valid_until=format_date(cert.valid_until),
        original=cert.refers_to or cert.supersedes,
        qr_uri=qrcodes.png_data_uri(text),
        token=signing.token_from(text),
        verify_url=verify_url(cert.code),
        signature_uri=_png_uri(issuer.signature_png),
        seal_uri=_png_uri(issuer.seal_png),
    )


def storage_path(sha256: str) -> Path:
    root = Path(current_app.config["STORAGE_DIR"]) / "certificates"
    return root / sha256[:2] / f"{sha256}.pdf"


def store(data: bytes) -> str:
    """Write a PDF to storage (atomically, durably) and return its SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    path = storage_path(sha)
    if path.exists():
        return sha
    tmp = path.with_name(f".{sha}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.error("could not store certificate PDF %s: %s", sha, exc)
        raise CertificateError(
            "Không lưu được tệp PDF của giấy chứng nhận (bộ nhớ lưu trữ đầy hoặc không ghi "
            "được); chưa cấp số vào sổ nào."
        ) from exc
    return sha


def read_pdf(cert: Certificate) -> bytes:
    """The stored PDF, checked against its SHA-256 (never rendered again)."""
    data = storage_path(cert.pdf_sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != cert.pdf_sha256:
        raise CertificateError(f"stored PDF of certificate {cert.id} does not match its SHA-256")
    return data


def _new_code() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())[:40]


def _predicted_number(issuer: Issuer, year: int) -> int:
    """The number the next certificate will most likely get (read without a lock)."""
    last = db.session.scalar(
        select(RegisterCounter.last).where(
            RegisterCounter.issuer_id == issuer.id, RegisterCounter.year == year
        )
    )
    return (last or 0) + 1


def _number_and_render(cert: Certificate, issuer: Issuer, number: int) -> None:
    """Give *cert* its register number, then render and store its PDF (which prints it)."""
    cert.register_no = number
    cert.number_label = number_label(number, cert.year, cert.kind, issuer)
    data = render_pdf(cert, issuer)
    cert.pdf_sha256, cert.pdf_size = store(data), len(data)


def _discard(cert: Certificate) -> None:
    """Remove a stored PDF that no certificate will point to (its content is unique: the random
    code is printed in it)."""
    if cert.pdf_sha256:
        storage_path(cert.pdf_sha256).unlink(missing_ok=True)


def _standing(
    kind: Kind,
    training_class: TrainingClass,
    user: User,
    supersedes: Certificate | None,
    refers_to: Certificate | None,
) -> Certificate | None:
    """The register entry that already answers this issue (a second submit, a race), or None
    when a new number may be given. Raises CertificateError when the lifecycle refuses one:
    a learner whose certificate was revoked or superseded gets a new one only by an explicit
    re-issue of it."""
    if kind == Kind.confirmation:
        if refers_to is None:
            raise CertificateError("Giấy xác nhận phải nêu giấy chứng nhận mà nó xác nhận.")
        return db.session.scalar(
            select(Certificate).where(
                Certificate.refers_to_id == refers_to.id,
                Certificate.kind == Kind.confirmation,
                Certificate.status == Status.valid,
            )
        )
    if supersedes is not None:
        successor = db.session.scalar(
            select(Certificate).where(Certificate.supersedes_id == supersedes.id)
        )
        if successor is not None:
            return successor
    current = valid_certificate(training_class, user)
    if current is not None:
        if supersedes is not None:
            raise CertificateError(
                f"{user.full_name} đang có giấy chứng nhận {current.number_label} còn hiệu lực "
                "của lớp này; không cấp lại giấy khác."
            )
        return current
    previous = latest_certificate(training_class, user) if supersedes is None else None
    if previous is not None:
        raise CertificateError(
            f"Giấy chứng nhận {previous.number_label} của {user.full_name} không còn hiệu lực; "
            "chỉ cấp lại được từ trang của giấy đó, có nêu lý do."
        )
    return None


def issue(
    actor: Actor,
    training_class: TrainingClass,
    user: User,
    now: datetime,
    *,
    kind: Kind = Kind.certificate,
    supersedes: Certificate | None = None,
    refers_to: Certificate | None = None,
    reason: str = "",
) -> Certificate:
    """Issue a certificate (or a confirmation) to a learner who completed the class.

    Idempotent: a learner who already holds a valid certificate gets that one back, a
    re-issue or confirmation already made is returned, also when two requests race (the
    unique indexes are the last word). The number, the stored PDF and the row come together
    or not at all.

    The PDF prints its register number, and the number must be gapless, so the number is taken
    under the counter's lock in the same transaction as the row. Inside this process's issue
    slot (see issuing(), entered by jobs before their transaction begins) the PDF is rendered
    and stored *before* that lock, with the number the counter predicts, and rendered again
    under the lock only when another process took that number meanwhile. Elsewhere (a request
    that re-issues or confirms one document) the number is taken first and the PDF rendered
    under the lock: a thread never waits for a process lock while it holds a connection.
    """
    cert = draft(actor, training_class, user, now, kind, supersedes, refers_to)
    if not is_draft(cert):
        return cert
    predict = getattr(_SLOT, "held", False) and not db.is_writer()
    return _number_and_store(actor, cert, cert.issuer, training_class, user, reason, predict)


def is_draft(cert: Certificate) -> bool:
    """Whether *cert* is a draft() not yet in the register (rather than one already issued)."""
    return cert.id is None


def draft(
    actor: Actor,
    training_class: TrainingClass,
    user: User,
    now: datetime,
    kind: Kind = Kind.certificate,
    supersedes: Certificate | None = None,
    refers_to: Certificate | None = None,
) -> Certificate:
    """The certificate issue() would give, without a number, a PDF or a row yet (is_draft()),
    or the register entry that already answers this issue (see _standing)."""
    completion = db.session.scalar(
        select(Completion).where(
            Completion.class_id == training_class.id, Completion.user_id == user.id
        )
    )
    if completion is None:
        raise CertificateError(f"{user.full_name} chưa hoàn thành lớp {training_class.code}.")
    existing = _standing(kind, training_class, user, supersedes, refers_to)
    if existing is not None:
        return existing
    issuer = issuer_for(training_class)
    issued_on = to_local(now).date()
    settings = certificate_settings(training_class)
    months = int(settings.get("validity_months") or 0)
    base = refers_to or supersedes
    code = _new_code()
    cert = Certificate(
        code=code,
        serial=f"{code[:5]}-{code[5:10]}",
        kind=kind,
        issuer_id=issuer.id,
        year=issued_on.year,
        user_id=user.id,
        class_id=training_class.id,
        module_version_id=training_class.version_id,
        data=snapshot(training_class, user, completion, issuer, issued_on),
        issued_on=issued_on,
        issued_at=now,
        issued_by_id=actor.user_id,
        # A confirmation has the same validity as the certificate it confirms.
        valid_until=(
            base.valid_until
            if kind == Kind.confirmation and base is not None
            else _add_months(issued_on, months)
            if months
            else None
        ),
        supersedes_id=supersedes.id if supersedes else None,
        refers_to_id=refers_to.id if refers_to else None,
    )
    cert.issuer, cert.refers_to, cert.supersedes = issuer, refers_to, supersedes
    cert.training_class, cert.user = training_class, user
    return cert


def predict_number(cert: Certificate, number: int) -> None:
    """Print *number* on a draft (the register number it will most likely get: see
    predicted_number); issue_drafted() checks it under the counter's lock."""
    cert.register_no = number
    cert.number_label = number_label(number, cert.year, cert.kind, cert.issuer)


def predicted_number(cert: Certificate) -> int:
    """The number the next certificate of *cert*'s register will most likely get."""
    key = (cert.issuer.id, cert.year)
    return max(_predicted_number(cert.issuer, cert.year), _LAST_GIVEN.get(key, 0) + 1)


def issue_drafted(actor: Actor, cert: Certificate, rendered: bytes) -> Certificate:
    """issue() of a draft whose PDF was rendered elsewhere (a RenderPool) with the number
    predict_number() printed on it: the PDF is stored, then the number is taken under the
    counter's lock; when another issue took that number meanwhile, the PDF is rendered again
    with the number it gets (as issue() does). Call it inside issuing(); the caller commits."""
    cert.pdf_sha256, cert.pdf_size = store(rendered), len(rendered)
    return _number_and_store(
        actor, cert, cert.issuer, cert.training_class, cert.user, "", predict=False
    )


#: Serialises the issuing jobs of one process, so each renders once with the number it gets.
_ISSUE_LOCK = threading.Lock()
_SLOT = threading.local()
#: The last number this process gave, per (issuer, year): the next prediction starts above it
#: even before that transaction commits.
_LAST_GIVEN: dict[tuple[int, int], int] = {}


@contextmanager
def issuing() -> Iterator[None]:
    """This process's issue slot, for one unit of work that issues (a job's next learner).

    Enter it *before* the unit's transaction begins: a thread waiting here holds no pooled
    connection, so fifty issues at once need no more than a handful of connections. Entered
    late (a transaction already holds a connection), it does not wait: issue() then numbers
    and renders under the database's lock instead.
    """
    if getattr(_SLOT, "held", False) or db.session().in_transaction():
        yield
        return
    with _ISSUE_LOCK:
        _SLOT.held = True
        try:
            yield
        finally:
            _SLOT.held = False


def _number_and_store(
    actor: Actor,
    cert: Certificate,
    issuer: Issuer,
    training_class: TrainingClass,
    user: User,
    reason: str,
    predict: bool,
) -> Certificate:
    key = (issuer.id, cert.year)
    if predict:
        _number_and_render(cert, issuer, predicted_number(cert))
    standing = (Kind(cert.kind), training_class, user, cert.supersedes, cert.refers_to)
    try:
        db.write_transaction()
        if (existing := _standing(*standing)) is not None:
            _discard(cert)
            return existing
        with db.session.begin_nested():
            number = next_register_no(issuer, cert.year)
            if number != cert.register_no:  # not predicted, or taken meanwhile
                _discard(cert)
                _number_and_render(cert, issuer, number)
            db.session.add(cert)
            db.session.flush()
    except IntegrityError:
        _discard(cert)
        existing = _standing(*standing)
        if existing is None:
            raise
        return existing
    except BaseException:
        _discard(cert)
        raise
    _LAST_GIVEN[key] = max(_LAST_GIVEN.get(key, 0), number)
    after = {"number": cert.number_label, "user_id": cert.user_id, "kind": str(cert.kind)}
    if cert.supersedes is not None:
        after["supersedes"] = cert.supersedes.number_label
    if cert.refers_to is not None:
        after["refers_to"] = cert.refers_to.number_label
    if reason:
        after["reason"] = reason
    record(actor, "certificate.issue", "certificate", cert.id, after=after)
    return cert


# -- the lifecycle: revoke, re-issue, confirm (each idempotent) ------------------------------


def _locked(cert: Certificate) -> Certificate:
    """*cert* read again under its row lock (SQLite: the write lock), so that two requests
    changing it (a double submit) run one after the other and the second sees the first."""
    db.write_transaction()
    return db.session.scalars(
        select(Certificate)
        .where(Certificate.id == cert.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _successor(cert: Certificate) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.supersedes_id == cert.id))


def revoke(
    actor: Actor, cert: Certificate, reason: RevokeReason, note: str, now: datetime
) -> Certificate:
    """valid → revoked; revoking a revoked entry again changes nothing (a double submit)."""
    cert = _locked(cert)
    if cert.status == Status.revoked:
        return cert
    if not cert.may_become(Status.revoked):
        raise CertificateError("Giấy này không còn hiệu lực nên không thu hồi được nữa.")
    cert.status = Status.revoked
    cert.revoked_at = now
    cert.revoke_reason = str(reason)
    cert.revoke_note = note.strip()[:2000]
    record(
        actor,
        "certificate.revoke",
        "certificate",
        cert.id,
        before={"status": "valid"},
        after={"status": "revoked", "reason": str(reason), "note": cert.revoke_note},
    )
    return cert


def reissue(actor: Actor, cert: Certificate, now: datetime, reason: str) -> Certificate:
    """A new number that names *cert* as the one it replaces, for a stated reason.

    A valid certificate becomes superseded (an error in it is corrected); a revoked one stays
    revoked (the learner is certified again after review). Re-issuing the same certificate
    again returns the re-issue already made (a double submit).
    """
    reason = reason.strip()[:2000]
    if not reason:
        raise CertificateError("Hãy ghi lý do cấp lại.")
    cert = _locked(cert)
    if cert.kind != Kind.certificate:
        raise CertificateError("Chỉ cấp lại được giấy chứng nhận (không phải giấy xác nhận).")
    successor = _successor(cert)
    if successor is not None:
        return successor
    if cert.status == Status.superseded:
        raise CertificateError("Giấy này đã được cấp lại.")
    before = str(cert.status)
    if cert.may_become(Status.superseded):
        cert.status = Status.superseded
        db.session.flush()
    new = issue(actor, cert.training_class, cert.user, now, supersedes=cert, reason=reason)
    record(
        actor,
        "certificate.supersede" if before == Status.valid else "certificate.reissue",
        "certificate",
        cert.id,
        before={"status": before},
        after={"status": str(cert.status), "by": new.number_label, "reason": reason},
    )
    return new


def confirm_lost(actor: Actor, cert: Certificate, now: datetime) -> Certificate:
    """A confirmation of completion (giấy xác nhận hoàn thành) for a lost certificate; one per
    certificate (a second request gets the same one back). It is valid only while *cert* is."""
    cert = _locked(cert)
    if cert.kind != Kind.certificate:
        raise CertificateError("Chỉ xác nhận được cho giấy chứng nhận đang có hiệu lực.")
    existing = _standing(Kind.confirmation, cert.training_class, cert.user, None, cert)
    if existing is not None:
        return existing
    if cert.status != Status.valid:
        raise CertificateError("Chỉ xác nhận được cho giấy chứng nhận đang có hiệu lực.")
    return issue(actor, cert.training_class, cert.user, now, kind=Kind.confirmation, refers_to=cert)


# -- who may see what ------------------------------------------------------------------------


def can_manage(user: User, training_class: TrainingClass) -> bool:
    """Issue, revoke and re-issue (learnhub.policy.may_manage_certificates)."""
    return policy.may_manage_certificates(user, training_class, issuer_for(training_class).unit)


def can_view(user: User, cert: Certificate) -> bool:
    """The holder; whoever manages the class; HR whose scope covers the holder (policy)."""
    return policy.may_see_certificate(user, cert)


def visible_filter(user: User, stmt: Select) -> Select:
    """Limit a SELECT of certificates to what *user* may see (policy.certificate_filter)."""
    return stmt.where(policy.certificate_filter(user))
