"""Certificates (giấy chứng nhận), their issuers, the register and bulk-issue jobs.

A certificate row is a legal record: apart from its status (revoked, superseded) nothing on it
changes after issue. What the PDF says is kept in `data` as issued, and the PDF itself is stored
once, addressed by its SHA-256.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from learnhub.accounts.models import User
from learnhub.classes.models import TrainingClass
from learnhub.db import Base, enum_check
from learnhub.orgunits.models import OrgUnit
from learnhub.timeutil import utcnow

#: Signing authority prefixes of Nghị định 30/2020 (empty: the head signs in person).
AUTHORITIES = ("", "TM.", "KT.", "TL.", "TUQ.", "Q.")


class Issuer(Base):
    """An issuing unit (đơn vị cấp) with its signer, as its documents name them."""

    __tablename__ = "cert_issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code used in register numbers: 015/2026/GCN-<code>.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: The agency's name and its parent's, in capitals as the header prints them.
    name: Mapped[str] = mapped_column(String(200))
    parent_name: Mapped[str] = mapped_column(String(200), default="")
    #: The place name of the place-and-date line ("Cà Mau").
    place: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    #: "KT." + "GIÁM ĐỐC" over "PHÓ GIÁM ĐỐC": the prefix, whose authority, the signer's title.
    signer_authority: Mapped[str] = mapped_column(String(10), default="")
    signer_for: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200))
    signer_name: Mapped[str] = mapped_column(String(200))
    #: Optional PNG images (transparent background), embedded as data: URIs.
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_default: Mapped[bool] = mapped_column(default=False)

    unit: Mapped[OrgUnit | None] = relationship()


class RegisterCounter(Base):
    """The last number used in an issuer's register for a year (one row, locked while issuing)."""

    __tablename__ = "cert_register_counters"
    __table_args__ = (CheckConstraint("last >= 0", name="last_non_negative"),)

    issuer_id: Mapped[int] = mapped_column(ForeignKey("cert_issuers.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Kind(enum.StrEnum):
    certificate = "certificate"  # giấy chứng nhận
    confirmation = "confirmation"  # giấy xác nhận hoàn thành (for a lost certificate)


#: Document symbol in the register number, per kind.
SYMBOLS = {Kind.certificate: "GCN", Kind.confirmation: "GXN"}


class Status(enum.StrEnum):
    valid = "valid"
    revoked = "revoked"
    superseded = "superseded"


#: The lifecycle of a register entry, in one place: an issued (valid) entry may be revoked or
#: superseded by a re-issue; both are final. A re-issue after revocation leaves the revoked
#: entry revoked (the new one names it). A confirmation has no state of its own beyond its own
#: revocation: it follows the certificate it confirms (see Certificate.effective_status).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.valid: frozenset({Status.revoked, Status.superseded}),
    Status.revoked: frozenset(),
    Status.superseded: frozenset(),
}


class RevokeReason(enum.StrEnum):
    error = "error"
    fraud = "fraud"
    not_met = "not-met"
    other = "other"


REVOKE_LABELS = {
    RevokeReason.error: _l("Sai sót thông tin"),
    RevokeReason.fraud: _l("Gian lận trong học tập, kiểm tra"),
    RevokeReason.not_met: _l("Không đủ điều kiện cấp"),
    RevokeReason.other: _l("Lý do khác"),
}

STATUS_LABELS = {
    "valid": _l("Có hiệu lực"),
    "expired": _l("Hết thời hạn"),
    "revoked": _l("Đã thu hồi"),
    "superseded": _l("Đã được cấp lại"),
}


class Certificate(Base):
    """One entry of the register: a certificate or a confirmation of completion."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("issuer_id", "year", "register_no"),
        # A learner holds at most one valid certificate per class (a re-issue supersedes).
        Index(
            "uq_certificates_one_valid",
            "class_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'valid' AND kind = 'certificate'"),
            postgresql_where=text("status = 'valid' AND kind = 'certificate'"),
        ),
        # A certificate is replaced once (a double-submitted re-issue gives one new number)...
        Index("uq_certificates_supersedes_id", "supersedes_id", unique=True),
        # ...and has at most one valid confirmation (a double-submitted one gives one number).
        Index(
            "uq_certificates_one_confirmation",
            "refers_to_id",
            unique=True,
            sqlite_where=text("status = 'valid' AND kind = 'confirmation'"),
            postgresql_where=text("status = 'valid' AND kind = 'confirmation'"),
        ),
        enum_check("kind", Kind),
        enum_check("status", Status),
        enum_check("revoke_reason", RevokeReason),
        CheckConstraint("register_no >= 1", name="register_no_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 128 random bits, base32: the key of the public verification page.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: Số hiệu: a short non-guessable serial printed on the certificate.
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[Kind] = mapped_column(String(20), default=Kind.certificate)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("cert_issuers.id"), index=True)
    year: Mapped[int]
    register_no: Mapped[int]
    #: Số vào sổ as printed: 015/2026/GCN-SNV.
    number_label: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    module_version_id: Mapped[int | None] = mapped_column(ForeignKey("module_versions.id"))
    #: Everything the document says, as issued (names, dates, result, signer).
    data: Mapped[dict] = mapped_column(JSON)
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    valid_until: Mapped[date | None]
    status: Mapped[Status] = mapped_column(String(20), default=Status.valid)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(20))
    revoke_note: Mapped[str] = mapped_column(Text, default="")
    #: A re-issue names the certificate it replaces; a confirmation the one it confirms.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    refers_to_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int]

    issuer: Mapped[Issuer] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    training_class: Mapped[TrainingClass] = relationship()
    supersedes: Mapped["Certificate | None"] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id]
    )
    refers_to: Mapped["Certificate | None"] = relationship(
        remote_side=[id], foreign_keys=[refers_to_id]
    )

    @property
    def status_source(self) -> "Certificate":
        """The entry whose status this one shows: itself, or for a valid confirmation the
        certificate it confirms (its revocation date and reason are that one's)."""
        if self.status == Status.valid and self.kind == Kind.confirmation and self.refers_to:
            return self.refers_to.status_source
        return self

    @hybrid_property
    def effective_status(self) -> str:
        """The stored status, except that a valid confirmation takes the status of the
        certificate it confirms: it is valid only while that certificate is."""
        return str(self.status_source.status)

    @effective_status.inplace.expression
    @classmethod
    def _effective_status_expression(cls) -> ColumnElement[str]:
        base = aliased(cls)
        confirmed = select(base.status).where(base.id == cls.refers_to_id).scalar_subquery()
        return case(
            (
                and_(cls.status == Status.valid, cls.kind == Kind.confirmation),
                func.coalesce(confirmed, cls.status),
            ),
            else_=cls.status,
        )

    def may_become(self, status: Status) -> bool:
        """Whether the lifecycle allows this entry to move to *status*."""
        return status in TRANSITIONS[Status(self.status)]

    def state(self, on: date) -> str:
        """valid, expired, revoked or superseded, on a given day (a confirmation's follows its
        certificate's)."""
        status = self.effective_status
        if status != Status.valid:
            return status
        if self.valid_until is not None and on > self.valid_until:
            return "expired"
        return "valid"

    @property
    def file_name(self) -> str:
        return self.number_label.replace("/", "-") + ".pdf"


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class IssueJob(Base):
    """Issuing a whole class in the background; safe to run again (it never issues twice)."""

    __tablename__ = "cert_issue_jobs"
    __table_args__ = (
        enum_check("state", JobState),
        CheckConstraint("total >= 0 AND issued >= 0 AND skipped >= 0", name="counts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[JobState] = mapped_column(String(10), default=JobState.queued)
    total: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    training_class: Mapped[TrainingClass] = relationship()

    @property
    def done_count(self) -> int:
        return self.issued + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done_count / self.total))
