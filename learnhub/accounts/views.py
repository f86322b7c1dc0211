"""Sign in, sign out, re-authentication and the user's own password."""

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from learnhub import db, signals
from learnhub.accounts import services, twofactor
from learnhub.accounts.auth import client_ip, current_actor, remember_roles, safe_next
from learnhub.accounts.forms import ChangePasswordForm, LoginForm, ReauthForm
from learnhub.timeutil import utcnow

bp = Blueprint("accounts", __name__)

BAD_LOGIN = _l("Tên đăng nhập hoặc mật khẩu không đúng.")
THROTTLED = _l("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(s)s giây.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.login.data, form.password.data, client_ip(), current_app.config, utcnow()
            )
        except services.Throttled as exc:
            db.session.rollback()
            flash(THROTTLED % {"s": exc.seconds}, "error")
            return render_template("accounts/login.html", form=form), 429
        db.session.commit()
        if user is not None:
            target = safe_next(request.args.get("next"))
            if twofactor.is_enabled(user):
                # The password is right; the session starts only after the second step.
                session["two_factor"] = {
                    "user": user.get_id(),
                    "at": int(time.time()),
                    "next": target,
                }
                return redirect(url_for("twofactor.challenge"))
            return start_session(user, target)
        flash(BAD_LOGIN, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


def start_session(user, target: str):
    """Sign *user* in with a new session: nothing set before it survives (fixation)."""
    lang = session.get("lang")
    scan = session.get("checkin_scan")
    session.clear()
    login_user(user)
    remember_roles(user)  # the first page after sign-in need not read the grants
    session["auth_at"] = session["seen_at"] = int(time.time())
    if lang:
        session["lang"] = lang
    if scan:
        session["checkin_scan"] = scan
    signals.signed_in.send(user)
    db.session.commit()
    return redirect(target)


@bp.post("/logout")
@login_required
def logout():
    services.end_sessions(current_actor(), current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    form = ReauthForm()
    status = 200
    if form.validate_on_submit():
        try:
            ok = services.reauthenticate(
                current_user, form.password.data, client_ip(), current_app.config, utcnow()
            )
        except services.Throttled as exc:
            db.session.rollback()
            flash(THROTTLED % {"s": exc.seconds}, "error")
            return render_template("accounts/reauth.html", form=form), 429
        db.session.commit()
        if ok:
            session["auth_at"] = int(time.time())
            return redirect(safe_next(request.args.get("next")))
        flash(_("Mật khẩu không đúng."), "error")
        status = 401
    return render_template("accounts/reauth.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_actor(), current_user, form.current.data, form.new.data
            )
        except services.AccountError as exc:
            form.new.errors = [*form.new.errors, str(exc)]
        else:
            db.session.commit()
            # Other sessions ended with the version bump; this one carries on.
            login_user(current_user)
            session["auth_at"] = session["seen_at"] = int(time.time())
            flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất."), "success")
            return redirect(url_for("core.dashboard"))
    return render_template("accounts/change_password.html", form=form)
