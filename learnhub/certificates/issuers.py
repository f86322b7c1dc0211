"""Issuing units and their signers (admins): the header, the signer block, signature and seal."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select, update
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from learnhub import db
from learnhub.accounts.auth import current_actor, fresh_auth_required, role_required
from learnhub.accounts.models import Role, nfc
from learnhub.audit.services import changes, record
from learnhub.certificates.models import AUTHORITIES, Issuer
from learnhub.certificates.services import default_issuer
from learnhub.forms import LearnHubForm, choices
from learnhub.orgunits import services as units

bp = Blueprint("issuers", __name__, url_prefix="/admin/issuers")

#: PNG images (signature, seal) up to this size.
MAX_IMAGE = 512 * 1024
PNG = b"\x89PNG\r\n\x1a\n"


class IssuerForm(LearnHubForm):
    code = StringField(
        _l("Ký hiệu trong số vào sổ"),
        validators=[InputRequired(), Length(max=20), Regexp(r"^[A-Z0-9]+$")],
        description=_l("Chữ in hoa và số, ví dụ SNV (số vào sổ 015/2026/GCN-SNV)."),
    )
    parent_name = StringField(_l("Cơ quan chủ quản"), validators=[Length(max=200)])
    name = StringField(_l("Tên cơ quan cấp"), validators=[InputRequired(), Length(max=200)])
    place = StringField(_l("Địa danh"), validators=[InputRequired(), Length(max=100)])
    unit = SelectField(_l("Đơn vị trong cây tổ chức"))
    signer_authority = SelectField(
        _l("Thẩm quyền ký"), choices=choices([(a, a or "—") for a in AUTHORITIES])
    )
    signer_for = StringField(
        _l("Ký thay cho"), validators=[Length(max=200)], description=_l("Ví dụ: GIÁM ĐỐC")
    )
    signer_title = StringField(
        _l("Chức vụ người ký"), validators=[InputRequired(), Length(max=200)]
    )
    signer_name = StringField(_l("Họ và tên người ký"), validators=[Length(max=200)])
    signature = FileField(_l("Ảnh chữ ký (PNG nền trong suốt, tối đa 512 KB)"))
    seal = FileField(_l("Ảnh con dấu (PNG nền trong suốt, tối đa 512 KB)"))
    remove_images = BooleanField(_l("Xóa ảnh chữ ký và con dấu"))
    is_default = BooleanField(_l("Đơn vị cấp mặc định"))


def _png(field) -> tuple[bytes | None, str | None]:
    """The uploaded PNG of a file field, or an error message."""
    storage = field.data
    if not storage or not getattr(storage, "filename", ""):
        return None, None
    data = storage.read(MAX_IMAGE + 1)
    if len(data) > MAX_IMAGE:
        return None, _("Ảnh quá lớn (tối đa 512 KB).")
    if not data.startswith(PNG):
        return None, _("Ảnh phải là tệp PNG.")
    return data, None


def _unit_choices(form: IssuerForm) -> None:
    form.unit.choices = choices(
        [("", "—"), *((u.code, f"{'· ' * u.depth}{u.name}") for u in units.current_tree())]
    )


def _values(issuer: Issuer) -> dict:
    return {
        "code": issuer.code,
        "name": issuer.name,
        "parent_name": issuer.parent_name,
        "place": issuer.place,
        "unit_id": issuer.unit_id,
        "signer_authority": issuer.signer_authority,
        "signer_for": issuer.signer_for,
        "signer_title": issuer.signer_title,
        "signer_name": issuer.signer_name,
        "signature": bool(issuer.signature_png),
        "seal": bool(issuer.seal_png),
        "is_default": issuer.is_default,
    }


@bp.get("/")
@role_required(Role.admin)
def index():
    default_issuer()  # the configured one exists, so there is always something to edit
    db.session.commit()
    rows = db.session.scalars(select(Issuer).order_by(Issuer.code)).all()
    return render_template("certificates/issuers.html", issuers=rows)


@bp.route("/new", methods=["GET", "POST"], defaults={"issuer_id": None})
@bp.route("/<int:issuer_id>", methods=["GET", "POST"])
@role_required(Role.admin)
@fresh_auth_required
def edit(issuer_id: int | None):
    issuer = db.session.get(Issuer, issuer_id) if issuer_id is not None else None
    if issuer_id is not None and issuer is None:
        abort(404)
    form = IssuerForm(obj=issuer)
    _unit_choices(form)
    if request.method == "GET" and issuer is not None:
        form.unit.data = issuer.unit.code if issuer.unit else ""
    if form.validate_on_submit():
        signature, problem = _png(form.signature)
        seal, problem2 = _png(form.seal)
        clash = db.session.scalar(select(Issuer).where(Issuer.code == form.code.data))
        if problem or problem2:
            flash(problem or problem2, "error")
        elif clash is not None and clash is not issuer:
            flash(_("Ký hiệu này đã được dùng cho đơn vị cấp khác."), "error")
        else:
            before = _values(issuer) if issuer else {}
            # Look the unit up first: the query would autoflush a new issuer still without a code.
            unit = units.by_code(form.unit.data) if form.unit.data else None
            if issuer is None:
                issuer = Issuer()
                db.session.add(issuer)
            issuer.code = form.code.data
            issuer.name = nfc(form.name.data.strip()).upper()
            issuer.parent_name = nfc((form.parent_name.data or "").strip()).upper()
            issuer.place = nfc(form.place.data.strip())
            issuer.unit_id = unit.id if unit else None
            issuer.signer_authority = form.signer_authority.data
            issuer.signer_for = nfc((form.signer_for.data or "").strip()).upper()
            issuer.signer_title = nfc(form.signer_title.data.strip()).upper()
            issuer.signer_name = nfc((form.signer_name.data or "").strip())
            if form.remove_images.data:
                issuer.signature_png = issuer.seal_png = None
            issuer.signature_png = signature or issuer.signature_png
            issuer.seal_png = seal or issuer.seal_png
            if form.is_default.data:
                db.session.execute(update(Issuer).values(is_default=False))
            issuer.is_default = bool(form.is_default.data)
            db.session.flush()
            old, new = changes(before, _values(issuer))
            record(current_actor(), "issuer.save", "issuer", issuer.code, before=old, after=new)
            db.session.commit()
            flash(
                _("Đã lưu. Giấy cấp từ nay dùng thông tin mới; giấy đã cấp giữ nguyên."), "success"
            )
            return redirect(url_for(".index"))
    return render_template("certificates/issuer_edit.html", form=form, issuer=issuer)
