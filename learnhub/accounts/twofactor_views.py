"""Two-factor sign-in pages: the second sign-in step, and a staff member's own set-up."""

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from learnhub import db, qrcodes
from learnhub.accounts import services, twofactor
from learnhub.accounts.auth import (
    client_ip,
    current_actor,
    fresh_auth_required,
    load_user,
    role_required,
)
from learnhub.accounts.forms import ConfirmForm, TwoFactorCodeForm
from learnhub.accounts.models import Role
from learnhub.accounts.views import THROTTLED, start_session
from learnhub.timeutil import utcnow

bp = Blueprint("twofactor", __name__)

#: Seconds between a right password and the code that completes the sign-in.
PENDING_SECONDS = 300


def _pending():
    """The user whose password was right in this browser a moment ago, and where they go next."""
    pending = session.get("two_factor")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    return load_user(str(pending.get("user", ""))), pending.get("next")


@bp.route("/login/two-factor", methods=["GET", "POST"])
def challenge():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    user, target = _pending()
    if user is None:
        session.pop("two_factor", None)
        flash(_("Vui lòng đăng nhập lại."), "info")
        return redirect(url_for("accounts.login"))
    form = TwoFactorCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            ok = twofactor.verify(user, form.code.data, client_ip(), current_app.config, utcnow())
        except services.Throttled as exc:
            db.session.rollback()
            flash(THROTTLED % {"s": exc.seconds}, "error")
            return render_template("accounts/two_factor_challenge.html", form=form), 429
        db.session.commit()
        if ok:
            return start_session(user, target or url_for("core.dashboard"))
        flash(_("Mã xác thực không đúng hoặc đã được dùng."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/two_factor_challenge.html", form=form), status


@bp.get("/account/two-factor")
@role_required(Role.trainer, Role.hr)
def setup():
    cfg = current_app.config
    pending = twofactor.enrolment(current_user, cfg)
    qr = None
    if pending is not None:
        qr = qrcodes.svg(pending[1], omitsize=True, dark="#000", light="#fff")
    return render_template(
        "accounts/two_factor.html",
        enabled=twofactor.is_enabled(current_user),
        required=twofactor.is_required(current_user, cfg),
        secret=pending[0] if pending else None,
        qr=qr,
        codes_left=twofactor.recovery_codes_left(current_user),
        form=TwoFactorCodeForm(),
        confirm=ConfirmForm(),
    )


@bp.post("/account/two-factor/start")
@role_required(Role.trainer, Role.hr)
def start():
    if not ConfirmForm().validate():
        abort(400)
    try:
        twofactor.start(current_actor(), current_user, current_app.config)
    except twofactor.TwoFactorError as exc:
        flash(str(exc), "info")
    else:
        db.session.commit()
    return redirect(url_for(".setup"))


@bp.post("/account/two-factor/confirm")
@role_required(Role.trainer, Role.hr)
def confirm():
    form = TwoFactorCodeForm()
    if not form.validate():
        flash(_("Hãy nhập mã 6 chữ số đang hiện trong ứng dụng xác thực."), "error")
        return redirect(url_for(".setup"))
    try:
        codes = twofactor.confirm(
            current_actor(), current_user, form.code.data, current_app.config, utcnow()
        )
    except twofactor.TwoFactorError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".setup"))
    db.session.commit()
    flash(_("Đã bật xác thực hai bước."), "success")
    # Shown once, in this response only (not cached): they are stored hashed.
    response = make_response(render_template("accounts/two_factor_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/two-factor/off")
@role_required(Role.trainer, Role.hr)
@fresh_auth_required
def turn_off():
    if not ConfirmForm().validate():
        abort(400)
    try:
        twofactor.turn_off(current_actor(), current_user, current_app.config)
    except twofactor.TwoFactorError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã tắt xác thực hai bước."), "success")
    return redirect(url_for(".setup"))
