"""Browse and edit the organisational-unit tree (admins)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from learnhub import db
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.models import Role, User
from learnhub.forms import choices
from learnhub.orgunits import services
from learnhub.orgunits.forms import UnitForm
from learnhub.orgunits.models import OrgUnit, UnitKind

bp = Blueprint("orgunits", __name__, url_prefix="/admin/units")


@bp.get("/")
@role_required(Role.admin)
def index():
    show_all = request.args.get("all") == "1"
    units = services.tree() if show_all else services.current_tree()
    members = dict(
        db.session.execute(select(User.unit_id, func.count()).group_by(User.unit_id)).all()
    )
    return render_template("orgunits/index.html", units=units, members=members, show_all=show_all)


def _form(unit: OrgUnit | None) -> UnitForm:
    form = UnitForm(obj=unit)
    pairs = [(u.code, f"{'· ' * u.depth}{u.name}") for u in services.tree()]
    options = choices([("", "— Không có —"), *pairs])
    form.parent.choices = form.successor.choices = options
    if unit is not None and request.method == "GET":
        form.parent.data = unit.parent.code if unit.parent else ""
        form.successor.data = unit.successor.code if unit.successor else ""
        form.kind.data = str(unit.kind)
    return form


def _save(form: UnitForm, unit: OrgUnit | None):
    data = services.UnitData(
        code=form.code.data,
        name=form.name.data,
        kind=UnitKind(form.kind.data),
        parent_code=form.parent.data,
        valid_from=form.valid_from.data,
        valid_to=form.valid_to.data,
        successor_code=form.successor.data,
        former_district=unit.former_district or "" if unit else "",
        note=form.note.data or "",
    )
    if unit is None and services.by_code(data.code) is not None:
        raise services.UnitError("Mã đơn vị này đã được dùng.")
    if unit is not None and data.code != unit.code and services.by_code(data.code) is not None:
        raise services.UnitError("Mã đơn vị này đã được dùng.")
    return services.save_unit(current_actor(), data, unit)[0]


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.admin)
def new():
    form = _form(None)
    if form.validate_on_submit():
        try:
            unit = _save(form, None)
        except services.UnitError as exc:
            db.session.rollback()
            form.code.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã thêm đơn vị."), "success")
            return redirect(url_for(".edit", unit_id=unit.id))
    return render_template("orgunits/edit.html", form=form, unit=None)


@bp.route("/<int:unit_id>", methods=["GET", "POST"])
@role_required(Role.admin)
def edit(unit_id: int):
    unit = db.get_or_404(OrgUnit, unit_id)
    form = _form(unit)
    if form.validate_on_submit():
        try:
            _save(form, unit)
        except services.UnitError as exc:
            db.session.rollback()
            form.parent.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã lưu đơn vị."), "success")
            return redirect(url_for(".edit", unit_id=unit.id))
    return render_template("orgunits/edit.html", form=form, unit=unit)
