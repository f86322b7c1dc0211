"""Home, the per-role dashboard, the health check and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from learnhub import db
from learnhub.accounts.auth import safe_next
from learnhub.accounts.forms import ConfirmForm
from learnhub.accounts.models import Role
from learnhub.core import home
from learnhub.reports.periodic import default_period
from learnhub.timeutil import today, utcnow

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(".dashboard"))
    return redirect(url_for("accounts.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    user, now = current_user, utcnow()
    return render_template(
        "core/dashboard.html",
        now=now,
        today=today(),
        learner=home.learner_home(user, now) if user.has_role(Role.learner) else None,
        teaching=home.trainer_home(user, now) if user.has_role(Role.trainer) else None,
        hr=home.hr_home(user, today()) if user.has_role(Role.hr) else None,
        period=default_period() if user.has_role(Role.hr) else None,
        admin=home.admin_home() if user.is_admin else None,
    )


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", never a 500 page
        current_app.logger.exception("health check: database unreachable")
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/lang")
def set_language():
    form = ConfirmForm()
    lang = request.form.get("lang", "")
    if form.validate() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for(".index")))
