"""Roster import in the browser: upload, preview with every problem, then confirm."""

import json
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


def _stored_path(token: str) -> Path:
    """Where an upload of *token* is kept (.bin; .working while imported; .done afterwards)."""
    if not TOKEN.match(token):
        abort(404)
    return _upload_dir() / f"{token}.bin"


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


def _claim(token: str) -> Path | None:
    """Take the uploaded file for importing (an atomic rename, so a second click or a second
    tab cannot import it twice); None when it was taken already, 404 when it never existed."""
    path = _stored_path(token)
    working = path.with_suffix(".working")
    try:
        path.rename(working)
    except FileNotFoundError:
        if path.with_suffix(".done").exists() or working.exists():
            return None
        abort(404)
    return working


def _already(token: str) -> str:
    """What to say when the file was imported before (or is being imported right now)."""
    done = _stored_path(token).with_suffix(".done")
    if not done.exists():
        return _("Tệp này đang được nhập. Hãy chờ một lát rồi xem danh sách tài khoản.")
    result = json.loads(done.read_text())
    return _(
        "Tệp này đã được nhập rồi (không nhập lại): %(c)s tài khoản mới, %(u)s cập nhật, "
        "%(s)s không đổi.",
        c=result["created"],
        u=result["updated"],
        s=result["unchanged"],
    )


@bp.post("/<token>")
@role_required(Role.admin)
def confirm(token: str):
    if not ConfirmForm().validate():
        abort(400)
    path = _claim(token)
    if path is None:
        flash(_already(token), "info")
        return redirect(url_for("admin_users.index"))
    try:
        plan = roster.plan_import(path.read_bytes())
        roster.apply_plan(current_actor(), plan)
    except roster.RosterError as exc:
        db.session.rollback()
        path.rename(path.with_suffix(".bin"))  # nothing was imported: the file may be tried again
        flash(str(exc), "error")
        return redirect(url_for(".upload"))
    db.session.commit()
    result = {"created": len(plan.create), "updated": len(plan.update), "unchanged": plan.unchanged}
    path.with_suffix(".done").write_text(json.dumps(result))
    path.unlink(missing_ok=True)
    flash(
        _(
            "Đã nhập: %(c)s tài khoản mới, %(u)s cập nhật, %(s)s không đổi.",
            c=result["created"],
            u=result["updated"],
            s=result["unchanged"],
        ),
        "success",
    )
    return redirect(url_for("admin_users.index"))
