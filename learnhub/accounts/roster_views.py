"""Roster import in the browser: upload, preview with every problem, then confirm."""

import re
import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from learnhub import db
from learnhub.accounts import roster
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.forms import ConfirmForm, RosterUploadForm
from learnhub.accounts.models import Role

bp = Blueprint("roster", __name__, url_prefix="/admin/users/import")

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


def _upload_dir() -> Path:
    path = Path(current_app.config["STORAGE_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(token: str) -> Path:
    if not TOKEN.match(token):
        abort(404)
    path = _upload_dir() / f"{token}.bin"
    if not path.exists():
        abort(404)
    return path


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.admin)
def upload():
    form = RosterUploadForm()
    if form.validate_on_submit():
        file = form.file.data
        data = file.read() if file else b""
        if not data:
            flash(_("Hãy chọn một tệp CSV hoặc XLSX."), "error")
            return render_template("admin/roster/upload.html", form=form), 400
        try:
            plan = roster.plan_import(data, file.filename or "")
        except roster.RosterError as exc:
            flash(str(exc), "error")
            return render_template("admin/roster/upload.html", form=form), 400
        token = secrets.token_urlsafe(18)
        (_upload_dir() / f"{token}.bin").write_bytes(data)
        db.session.rollback()
        return render_template(
            "admin/roster/preview.html",
            plan=plan,
            token=token,
            filename=file.filename,
            confirm=ConfirmForm(),
        ), (200 if plan.ok else 422)
    return render_template("admin/roster/upload.html", form=form)


@bp.post("/<token>")
@role_required(Role.admin)
def confirm(token: str):
    path = _stored(token)
    if not ConfirmForm().validate():
        abort(400)
    try:
        plan = roster.plan_import(path.read_bytes())
        roster.apply_plan(current_actor(), plan)
    except roster.RosterError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".upload"))
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(
        _(
            "Đã nhập: %(c)s tài khoản mới, %(u)s cập nhật, %(s)s không đổi.",
            c=len(plan.create),
            u=len(plan.update),
            s=plan.unchanged,
        ),
        "success",
    )
    return redirect(url_for("admin_users.index"))
