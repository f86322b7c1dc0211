"""The register (sổ cấp giấy chứng nhận): one issuer's certificates of one year, in register-number
order, filterable, exportable to XLSX and PDF.

Every query goes through services.visible_filter (learnhub.policy), so HR officers see the people
of their unit subtree and trainers the classes they manage, also in the exports; dates of birth
are shown only where the policy allows (HR in scope, admins), never to a trainer as such. The
documents (XLSX, PDF) are always in Vietnamese, whatever the interface language.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from learnhub import db, pdf, policy, xlsx
from learnhub.accounts.auth import role_required
from learnhub.accounts.models import Role, User, sex_label
from learnhub.certificates import services
from learnhub.certificates.frame import document_frame
from learnhub.certificates.models import STATUS_LABELS, Certificate, Issuer, Kind, Status
from learnhub.classes.models import TrainingClass
from learnhub.pagination import Page
from learnhub.textutil import fold
from learnhub.timeutil import format_date, today

bp = Blueprint("register", __name__, url_prefix="/register")

#: Rendering ~1,000 rows takes about 12 s; larger registers go to XLSX.
PDF_MAX_ROWS = 1000
#: Years offered and accepted (a register before the platform existed makes no sense).
FIRST_YEAR = 2000

KIND_LABELS = {
    Kind.certificate: _l("Giấy chứng nhận"),
    Kind.confirmation: _l("Giấy xác nhận"),
}
STATES = ("valid", "expired", "revoked", "superseded")


# -- filters ---------------------------------------------------------------------------------


@dataclass
class Filters:
    issuer: Issuer
    year: int
    q: str = ""
    klass: str = ""
    status: str = ""
    kind: str = ""

    def args(self) -> dict:
        """The query string that reproduces these filters (empty ones left out)."""
        out = {"issuer": self.issuer.id, "year": self.year}
        for name in ("q", "klass", "status", "kind"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.klass or self.status or self.kind)


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _filters(args) -> Filters:
    issuer_id = _int(args.get("issuer"))
    if issuer_id is None:
        issuer = services.default_issuer()
    else:
        issuer = db.session.get(Issuer, issuer_id)
        if issuer is None:
            abort(404)
    year = _int(args.get("year"))
    if year is None or not FIRST_YEAR <= year <= today().year + 1:
        year = today().year
    status = args.get("status", "")
    kind = args.get("kind", "")
    return Filters(
        issuer=issuer,
        year=year,
        q=" ".join(args.get("q", "")[:100].split()),
        klass=args.get("klass", "").strip()[:40],
        status=status if status in STATES else "",
        kind=kind if kind in {k.value for k in Kind} else "",
    )


def _base(f: Filters) -> Select:
    """The issuer's register for the year, limited to what the signed-in user may see."""
    stmt = select(Certificate).where(
        Certificate.issuer_id == f.issuer.id, Certificate.year == f.year
    )
    return services.visible_filter(current_user, stmt)


def _matching_ids(stmt: Select, q: str) -> list[int]:
    """Ids of the rows of *stmt* whose name, number or serial holds every word of *q*, ignoring
    case and accents. Folding happens here rather than in SQL (SQLite and PostgreSQL fold
    differently, and unaccent is an extension); a year's register is a few thousand rows."""
    words = fold(q).split()[:8]
    rows = db.session.execute(
        stmt.with_only_columns(
            Certificate.id,
            Certificate.number_label,
            Certificate.serial,
            Certificate.data["full_name"].as_string(),
        ).order_by(None)
    )
    ids = []
    for cert_id, label, serial, name in rows:
        haystack = fold(f"{name or ''} {label} {serial}")
        if all(word in haystack for word in words):
            ids.append(cert_id)
    return ids


def _statement(f: Filters) -> Select:
    stmt = _base(f)
    if f.klass:
        codes = select(TrainingClass.id).where(func.lower(TrainingClass.code) == f.klass.lower())
        stmt = stmt.where(Certificate.class_id.in_(codes))
    if f.kind:
        stmt = stmt.where(Certificate.kind == f.kind)
    # A confirmation's status is its certificate's (Certificate.effective_status).
    status = Certificate.effective_status
    if f.status in ("revoked", "superseded"):
        stmt = stmt.where(status == f.status)
    elif f.status == "valid":
        stmt = stmt.where(
            status == Status.valid,
            or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today()),
        )
    elif f.status == "expired":
        stmt = stmt.where(status == Status.valid, Certificate.valid_until < today())
    if f.q:
        stmt = stmt.where(Certificate.id.in_(_matching_ids(stmt, f.q)))
    return stmt.options(
        selectinload(Certificate.supersedes), selectinload(Certificate.refers_to)
    ).order_by(Certificate.register_no, Certificate.id)


# -- rows ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the register, typed (the XLSX keeps dates and numbers as such)."""

    id: int
    register_no: int
    number_label: str
    serial: str
    kind: str
    full_name: str
    birth_date: date | None
    unit: str
    class_code: str
    issued_on: date
    score: Decimal | None
    score_text: str
    band: str
    state: str
    status: str
    note: str
    #: The course (chuyên đề) the certificate is for.
    module_title: str = ""
    #: Giới tính ("Nam" / "Nữ"), "" when not recorded.
    sex: str = ""

    @property
    def result(self) -> str:
        if self.score_text and self.band:
            return f"{self.score_text} ({self.band})"
        return self.score_text or self.band

    def strings(self) -> dict[str, str]:
        """Plain strings for the PDF template."""
        return {
            "number_label": self.number_label,
            "serial": self.serial,
            "kind": self.kind,
            "full_name": self.full_name,
            "birth_date": format_date(self.birth_date),
            "sex": self.sex,
            "unit": self.unit,
            "class_code": self.class_code,
            "module_title": self.module_title,
            "issued_on": format_date(self.issued_on),
            "result": self.result,
            "status": self.status,
            "note": self.note,
        }


def _iso(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ".")) if text else None
    except InvalidOperation:
        return None


def _superseded_by(certs: list[Certificate]) -> dict[int, str]:
    """Number of the re-issue that replaced each superseded certificate among *certs*."""
    ids = [c.id for c in certs if c.status == Status.superseded]
    if not ids:
        return {}
    found = db.session.execute(
        select(Certificate.supersedes_id, Certificate.number_label).where(
            Certificate.supersedes_id.in_(ids)
        )
    )
    return dict(found.all())


def _birth_dates_shown(certs: list[Certificate]) -> set[int]:
    """Ids of the certificates among *certs* whose holder's date of birth the user may see
    (policy.birth_date_filter: HR in scope and admins, not trainers as such)."""
    shown: set[int] = set()
    ids = [c.id for c in certs]
    for start in range(0, len(ids), 500):
        shown.update(
            db.session.scalars(
                select(Certificate.id).where(
                    Certificate.id.in_(ids[start : start + 500]),
                    policy.birth_date_filter(current_user, Certificate.user_id),
                )
            )
        )
    return shown


def _sexes(certs: list[Certificate]) -> dict[int, str | None]:
    """Each certificate's holder's sex: as recorded at issue; for one issued before sex was
    recorded (no "sex" in its snapshot), as the person's account says now."""
    found = {c.id: c.data["sex"] for c in certs if c.data and "sex" in c.data}
    older = [c.id for c in certs if c.id not in found]
    for start in range(0, len(older), 500):
        rows = db.session.execute(
            select(Certificate.id, User.sex)
            .join(User, User.id == Certificate.user_id)
            .where(Certificate.id.in_(older[start : start + 500]))
        )
        found.update((cert_id, sex) for cert_id, sex in rows)
    return found


def _rows(certs: list[Certificate]) -> list[Row]:
    on = today()
    replaced_by = _superseded_by(certs)
    born_shown = _birth_dates_shown(certs)
    sexes = _sexes(certs)
    rows = []
    for cert in certs:
        data = cert.data or {}
        state = cert.state(on)
        status = str(STATUS_LABELS[state])
        revoked_at = cert.status_source.revoked_at  # a confirmation's is its certificate's
        if state == "revoked" and revoked_at is not None:
            status = _("%(label)s ngày %(date)s", label=status, date=format_date(revoked_at))
        elif state in ("valid", "expired") and cert.valid_until is not None:
            status = _("%(label)s (đến %(date)s)", label=status, date=format_date(cert.valid_until))
        notes = []
        if cert.supersedes is not None:
            notes.append(_("Cấp lại, thay thế %(number)s", number=cert.supersedes.number_label))
        if cert.refers_to is not None:
            notes.append(_("Xác nhận cho giấy số %(number)s", number=cert.refers_to.number_label))
        if cert.id in replaced_by:
            notes.append(_("Đã cấp lại bằng số %(number)s", number=replaced_by[cert.id]))
        rows.append(
            Row(
                id=cert.id,
                register_no=cert.register_no,
                number_label=cert.number_label,
                serial=cert.serial,
                kind=str(KIND_LABELS.get(cert.kind, cert.kind)),
                full_name=data.get("full_name", ""),
                birth_date=_iso(data.get("birth_date")) if cert.id in born_shown else None,
                unit=data.get("unit", ""),
                class_code=data.get("class_code", ""),
                issued_on=cert.issued_on,
                score=_decimal(data.get("score")),
                score_text=data.get("score", ""),
                band=data.get("band", ""),
                state=state,
                status=status,
                note="; ".join(notes),
                module_title=data.get("module_title", ""),
                sex=sex_label(sexes.get(cert.id)),
            )
        )
    return rows


def _all_rows(f: Filters) -> list[Row]:
    """Every matching row, in Vietnamese (the exports are documents, not interface)."""
    certs = list(db.session.scalars(_statement(f)))
    with force_locale("vi"):
        return _rows(certs)


# -- choices for the filter form -------------------------------------------------------------


def _years(f: Filters) -> list[int]:
    """Years of the issuer's register the user has rows in, this year and the chosen one."""
    stmt = services.visible_filter(
        current_user,
        select(Certificate.year).where(Certificate.issuer_id == f.issuer.id).distinct(),
    )
    years = set(db.session.scalars(stmt)) | {today().year, f.year}
    return sorted(years, reverse=True)


def _class_codes(f: Filters) -> list[str]:
    stmt = services.visible_filter(
        current_user,
        select(TrainingClass.code)
        .join(Certificate, Certificate.class_id == TrainingClass.id)
        .where(Certificate.issuer_id == f.issuer.id, Certificate.year == f.year)
        .distinct(),
    )
    return sorted(db.session.scalars(stmt))


def _detail_url():
    """The certificate page's URL builder (its endpoint may be registered after this one)."""
    if "certificates.show" in current_app.view_functions:
        return lambda cert_id: url_for("certificates.show", cert_id=cert_id)
    return lambda cert_id: f"/certificates/{cert_id}"


# -- views -----------------------------------------------------------------------------------


@bp.get("/")
@role_required(Role.admin, Role.hr, Role.trainer)
def index():
    f = _filters(request.args)
    page = Page.of(_statement(f), request.args)
    return render_template(
        "certificates/register.html",
        f=f,
        page=page,
        rows=_rows(page.items),
        issuers=db.session.scalars(select(Issuer).order_by(Issuer.name, Issuer.id)).all(),
        years=_years(f),
        class_codes=_class_codes(f),
        states=STATES,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        detail_url=_detail_url(),
        pdf_max=PDF_MAX_ROWS,
    )


def _file_stem(f: Filters) -> str:
    code = re.sub(r"[^A-Za-z0-9-]+", "", f.issuer.code) or str(f.issuer.id)
    return f"so-cap-gcn-{code}-{f.year}"


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


#: XLSX columns: header, width.
XLSX_COLUMNS = (
    ("STT", 6),
    ("Số vào sổ", 20),
    ("Số hiệu", 13),
    ("Loại giấy", 16),
    ("Họ và tên", 26),
    ("Ngày sinh", 12),
    ("Giới tính", 9),
    ("Đơn vị", 30),
    ("Lớp", 16),
    ("Ngày cấp", 12),
    ("Điểm", 8),
    ("Xếp loại", 12),
    ("Tình trạng", 26),
    ("Ghi chú", 36),
)


def _xlsx(f: Filters, rows: list[Row]) -> bytes:
    book = xlsx.Book()
    sheet = book.sheet(f"Sổ {f.year}", XLSX_COLUMNS)
    cell = sheet.cell
    sheet.line("SỔ CẤP GIẤY CHỨNG NHẬN", bold=True, size=14)
    sheet.line(f.issuer.name, bold=True)
    sheet.line(f"Năm {f.year}")
    sheet.line()
    sheet.header()
    for row in rows:
        sheet.sheet.append(
            [
                cell(row.register_no, number_format="0"),
                cell(row.number_label),
                cell(row.serial),
                cell(row.kind),
                cell(row.full_name),
                cell(row.birth_date, number_format="DD/MM/YYYY"),
                cell(row.sex),
                cell(row.unit, wrap=True),
                cell(row.class_code),
                cell(row.issued_on, number_format="DD/MM/YYYY"),
                cell(float(row.score) if row.score is not None else None, number_format="0.00"),
                cell(row.band),
                cell(row.status),
                cell(row.note, wrap=True),
            ]
        )
    return book.save()


@bp.get("/export.xlsx")
@role_required(Role.admin, Role.hr, Role.trainer)
def export_xlsx():
    f = _filters(request.args)
    data = _xlsx(f, _all_rows(f))
    return _download(
        data,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{_file_stem(f)}.xlsx",
    )


@bp.get("/export.pdf")
@role_required(Role.admin, Role.hr, Role.trainer)
def export_pdf():
    f = _filters(request.args)
    stmt = _statement(f)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if total > PDF_MAX_ROWS:
        flash(
            _(
                "Sổ có %(n)s dòng, quá %(max)s dòng để in PDF. Hãy thu hẹp bộ lọc (lớp, tình "
                "trạng, tên) hoặc tải tệp XLSX.",
                n=total,
                max=PDF_MAX_ROWS,
            ),
            "warning",
        )
        return redirect(url_for("register.index", **f.args()))
    rows = _all_rows(f)
    summary = []
    with force_locale("vi"):
        if f.klass:
            summary.append(f"Lớp: {f.klass}")
        if f.kind:
            summary.append(f"Loại giấy: {KIND_LABELS[Kind(f.kind)]}")
        if f.status:
            summary.append(f"Tình trạng: {STATUS_LABELS[f.status]}")
        if f.q:
            summary.append(f"Tìm: {f.q}")
    try:
        data = pdf.render(
            "certificates/register_pdf.html",
            f=document_frame(f.issuer, kind="register", copies=()),
            year=str(f.year),
            summary=" · ".join(summary),
            printed_on=format_date(today()),
            rows=[row.strings() for row in rows],
        )
    except pdf.RenderTimeout:
        current_app.logger.warning("register PDF timed out: %s rows", len(rows))
        flash(_("Tạo tệp PDF quá lâu. Hãy thu hẹp bộ lọc hoặc tải tệp XLSX."), "warning")
        return redirect(url_for("register.index", **f.args()))
    return _download(data, "application/pdf", f"{_file_stem(f)}.pdf")
