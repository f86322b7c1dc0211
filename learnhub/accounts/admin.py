"""Account administration: list, create, edit, roles, passwords, disabling, sessions."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from learnhub import db
from learnhub.accounts import services, twofactor
from learnhub.accounts.auth import current_actor, fresh_auth_required, role_required
from learnhub.accounts.forms import (
    ConfirmForm,
    NewUserForm,
    ResetPasswordForm,
    RolesForm,
    UserForm,
)
from learnhub.accounts.models import ROLE_LABELS, Role, RoleGrant, User
from learnhub.forms import choices
from learnhub.orgunits import services as units
from learnhub.orgunits.models import OrgUnit
from learnhub.pagination import Page

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")


def _unit_choices(blank: str = "— Chưa chọn —") -> list:
    pairs = [(u.code, f"{'· ' * u.depth}{u.name}") for u in units.current_tree()]
    return choices([("", blank), *pairs])


def _unit(code: str | None) -> OrgUnit | None:
    return units.by_code(code) if code else None


def _unit_ids(codes: list[str] | None) -> list[int]:
    return [unit.id for unit in map(_unit, codes or []) if unit is not None]


def _hr_unit_choices() -> list:
    return choices([(u.code, f"{'· ' * u.depth}{u.name}") for u in units.current_tree()])


def _role_lines(user: User) -> list[str]:
    """The user's roles as the page shows them, each with its units or "every unit"."""
    lines = []
    for role in Role:
        grants = [g for g in user.grants if g.role == role]
        if not grants:
            continue
        label = str(ROLE_LABELS[role])
        if role in (Role.trainer, Role.hr):
            names = sorted(g.unit.name for g in grants if g.unit is not None)
            if any(g.unit is None for g in grants):
                names = [_("Mọi đơn vị (toàn tỉnh)")]
            label = f"{label}: {', '.join(names)}"
        lines.append(label)
    return lines


@bp.get("/")
@role_required(Role.admin)
def index():
    q = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    stmt = services.search_users(q)
    if role in Role.__members__:
        stmt = stmt.where(User.grants.any(RoleGrant.role == role))
    page = Page.of(stmt, request.args)
    return render_template("admin/users/index.html", page=page, q=q, role=role, roles=list(Role))


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.admin)
@fresh_auth_required
def new():
    form = NewUserForm()
    form.unit.choices = _unit_choices()
    form.hr_units.choices = _hr_unit_choices()
    if form.validate_on_submit():
        grants = services.grants_for(
            [Role(r) for r in form.roles.data],
            hr_unit_ids=_unit_ids(form.hr_units.data),
            hr_every_unit=form.hr_every_unit.data,
        )
        try:
            user = services.create_user(
                current_actor(),
                full_name=form.full_name.data,
                login=form.login.data,
                email=form.email.data or None,
                password=form.password.data,
                roles=grants,
                unit=_unit(form.unit.data),
                birth_date=form.birth_date.data,
                sex=form.sex.data or None,
                position=form.position.data or "",
                rank=form.rank.data or "",
                must_change_password=True,
            )
        except services.WeakPassword as exc:
            form.password.errors = [str(exc)]
        except services.ScopeRequired as exc:
            form.hr_units.errors = [str(exc)]
        except services.BadBirthDate as exc:
            form.birth_date.errors = [str(exc)]
        except services.AccountError as exc:
            form.login.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã tạo tài khoản %(login)s.", login=user.login), "success")
            return redirect(url_for(".show", user_id=user.id))
    return render_template("admin/users/new.html", form=form)


@bp.get("/<int:user_id>")
@role_required(Role.admin)
def show(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(
        obj=user, login=user.login, unit=user.unit.code if user.unit else "", sex=user.sex or ""
    )
    form.unit.choices = _unit_choices()
    return _show_page(user, form)


def _show_page(user: User, form: UserForm):
    """The account page: profile form, roles, password and session actions."""
    return render_template(
        "admin/users/show.html",
        user=user,
        form=form,
        role_lines=_role_lines(user),
        roles_form=_roles_form(user),
        reset_form=ResetPasswordForm(),
        confirm=ConfirmForm(),
        two_factor=twofactor.is_enabled(user),
    )


def _roles_form(user: User, formdata=None) -> RolesForm:
    form = RolesForm(formdata=formdata)
    form.trainer_unit.choices = _unit_choices("Toàn tỉnh (không giới hạn)")
    form.hr_units.choices = _hr_unit_choices()
    if formdata is None:
        form.hr_units.data = []
        for grant in user.grants:
            getattr(form, grant.role).data = True
            if grant.role == Role.trainer and grant.unit:
                form.trainer_unit.data = grant.unit.code
            elif grant.role == Role.hr and grant.unit:
                form.hr_units.data.append(grant.unit.code)
            elif grant.role == Role.hr:
                form.hr_every_unit.data = True
    return form


@bp.post("/<int:user_id>")
@role_required(Role.admin)
@fresh_auth_required
def update(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm()
    form.unit.choices = _unit_choices()
    if form.validate():
        try:
            services.update_profile(
                current_actor(),
                user,
                full_name=form.full_name.data,
                login=form.login.data,
                email=form.email.data or None,
                birth_date=form.birth_date.data,
                sex=form.sex.data or None,
                position=form.position.data or "",
                rank=form.rank.data or "",
                unit=_unit(form.unit.data),
            )
        except services.BadBirthDate as exc:
            form.birth_date.errors = [str(exc)]
        except services.AccountError as exc:
            form.login.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã lưu thông tin tài khoản."), "success")
            return redirect(url_for(".show", user_id=user.id))
    db.session.rollback()
    return _show_page(user, form), 400


@bp.post("/<int:user_id>/roles")
@role_required(Role.admin)
@fresh_auth_required
def roles(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _roles_form(user, request.form)
    if not form.validate():
        abort(400)
    trainer_unit = _unit(form.trainer_unit.data)
    grants = services.grants_for(
        [role for role in Role if getattr(form, role.value).data],
        trainer_unit_id=trainer_unit.id if trainer_unit else None,
        hr_unit_ids=_unit_ids(form.hr_units.data),
        hr_every_unit=form.hr_every_unit.data,
    )
    try:
        services.set_roles(current_actor(), user, grants)
    except services.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", user_id=user.id))
    db.session.commit()
    if user.id == current_user.id:
        # A change of roles bumps the session version (ending the user's sessions, which
        # remember their roles); an admin changing their own carries on in this one.
        login_user(user)
    flash(_("Đã cập nhật vai trò."), "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/password")
@role_required(Role.admin)
@fresh_auth_required
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if not form.validate():
        abort(400)
    try:
        services.reset_password(current_actor(), user, form.password.data)
    except services.WeakPassword as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", user_id=user.id))
    db.session.commit()
    flash(_("Đã đặt mật khẩu tạm thời; người dùng phải đổi ở lần đăng nhập tới."), "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/enabled")
@role_required(Role.admin)
@fresh_auth_required
def set_enabled(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate():
        abort(400)
    enable = request.form.get("enable") == "1"
    if not enable and request.form.get("confirm") != "on":
        flash(_("Hãy đánh dấu ô xác nhận trước khi khóa tài khoản."), "error")
        return redirect(url_for(".show", user_id=user.id))
    try:
        services.set_enabled(current_actor(), user, enable)
    except services.AccountError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã mở khóa tài khoản.") if enable else "Đã khóa tài khoản.", "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/sessions")
@role_required(Role.admin)
@fresh_auth_required
def end_sessions(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate():
        abort(400)
    services.end_sessions(current_actor(), user)
    db.session.commit()
    flash(_("Đã đăng xuất mọi phiên của người dùng này."), "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/two-factor/reset")
@role_required(Role.admin)
@fresh_auth_required
def reset_two_factor(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate():
        abort(400)
    if request.form.get("confirm") != "on":
        flash(_("Hãy đánh dấu ô xác nhận trước khi đặt lại xác thực hai bước."), "error")
        return redirect(url_for(".show", user_id=user.id))
    twofactor.reset(current_actor(), user)
    db.session.commit()
    flash(_("Đã đặt lại xác thực hai bước; người dùng sẽ thiết lập lại khi đăng nhập."), "success")
    return redirect(url_for(".show", user_id=user.id))
