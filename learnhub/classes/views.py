"""Class pages: trainers open classes, schedule sessions and build rosters; learners see theirs.

These pages show attendance and completion too, so they read the attendance domain (the one
place where classes looks to its right; attendance never imports these views).
"""

from datetime import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from learnhub import db, policy
from learnhub.accounts import roster
from learnhub.accounts import services as accounts
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.models import Role
from learnhub.attendance import services as attendance
from learnhub.attendance.models import STATUS_LABELS, Completion
from learnhub.catalog.models import Module
from learnhub.classes import services
from learnhub.classes.forms import ClassEditForm, ClassForm, EnrolForm, EnrolUnitForm, SessionsForm
from learnhub.classes.models import ClassFormat, TrainingClass
from learnhub.forms import choices
from learnhub.orgunits import services as units
from learnhub.timeutil import today

bp = Blueprint("classes", __name__)


def _managed(class_id: int) -> TrainingClass:
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = policy.may_manage_class(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user, 403)
    return training_class


@bp.get("/manage/classes/")
@role_required(Role.trainer)
def manage_index():
    rows = db.session.scalars(select(TrainingClass).order_by(TrainingClass.starts_on.desc())).all()
    return render_template(
        "classes/manage_index.html", classes=[c for c in rows if c.can_manage(current_user)]
    )


@bp.route("/manage/classes/new", methods=["GET", "POST"])
@role_required(Role.trainer)
def new():
    form = ClassForm()
    modules = [
        m
        for m in db.session.scalars(select(Module).order_by(Module.slug))
        if m.published_version is not None and m.can_edit(current_user)
    ]
    form.module.choices = choices([(m.slug, m.published_version.title) for m in modules])
    if form.validate_on_submit():
        module = next(m for m in modules if m.slug == form.module.data)
        data = services.ClassData(
            code=form.code.data,
            title=form.title.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            place=form.place.data or "",
            format=ClassFormat(form.format.data),
            organisers=form.organisers.data or "",
            decision_no=form.decision_no.data or "",
            decision_on=form.decision_on.data,
            capacity=form.capacity.data,
        )
        try:
            training_class = services.open_class(current_actor(), module, data, [current_user])
        except services.ClassError as exc:
            form.code.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã mở lớp. Hãy xếp lịch học và ghi danh học viên."), "success")
            return redirect(url_for(".manage", class_id=training_class.id))
    return render_template("classes/new.html", form=form)


def _unit_form() -> EnrolUnitForm:
    form = EnrolUnitForm()
    form.unit.choices = choices(
        [(u.code, f"{'· ' * u.depth}{u.name}") for u in units.current_tree()]
    )
    return form


@bp.get("/manage/classes/<int:class_id>")
@role_required(Role.trainer)
def manage(class_id: int):
    training_class = _managed(class_id)
    people = services.roster(training_class)
    checks = {u.id: attendance.checklist(training_class, u) for u in people}
    warn = attendance.below_threshold(training_class, people, today())
    preview_unit = units.by_code(request.args.get("unit", "")) if request.args.get("unit") else None
    preview = services.unit_learners(preview_unit) if preview_unit else None
    return render_template(
        "classes/manage.html",
        c=training_class,
        people=people,
        checks=checks,
        warn=warn,
        sessions_form=SessionsForm(),
        edit_form=ClassEditForm(obj=training_class, status=str(training_class.status)),
        enrol_form=EnrolForm(),
        unit_form=_unit_form(),
        preview_unit=preview_unit,
        preview=preview,
        completions=_completions(training_class),
    )


def _completions(training_class: TrainingClass) -> dict[int, object]:
    rows = db.session.scalars(select(Completion).where(Completion.class_id == training_class.id))
    return {r.user_id: r for r in rows}


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@bp.post("/manage/classes/<int:class_id>/sessions")
@role_required(Role.trainer)
def add_sessions(class_id: int):
    training_class = _managed(class_id)
    form = SessionsForm()
    try:
        if not form.validate():
            raise services.ClassError(_("Lịch học không hợp lệ."))
        services.add_sessions(
            current_actor(),
            training_class,
            form.first.data,
            form.count.data,
            _time(form.starts_at.data),
            _time(form.ends_at.data),
            form.periods.data,
            form.every_days.data,
        )
    except (services.ClassError, ValueError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã thêm buổi học."), "success")
    return redirect(url_for(".manage", class_id=training_class.id))


@bp.post("/manage/classes/<int:class_id>/enrol")
@role_required(Role.trainer)
def enrol(class_id: int):
    training_class = _managed(class_id)
    form = EnrolForm()
    if not form.validate():
        flash(_("Hãy nhập ít nhất một tên đăng nhập."), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    found, unknown = [], []
    for line in form.logins.data.splitlines()[:5000]:
        if line.strip():
            user = accounts.find_by_login(line)
            (found if user else unknown).append(user or line.strip())
    try:
        added = services.enrol(current_actor(), training_class, found)
    except services.ClassError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    db.session.commit()
    flash(_("Đã ghi danh %(n)s học viên.", n=added), "success")
    if unknown:
        flash(_("Không tìm thấy: %(x)s", x=", ".join(unknown[:20])), "error")
    return redirect(url_for(".manage", class_id=training_class.id))


@bp.post("/manage/classes/<int:class_id>/enrol-unit")
@role_required(Role.trainer)
def enrol_unit(class_id: int):
    training_class = _managed(class_id)
    form = _unit_form()
    unit = units.by_code(form.unit.data) if form.validate() else None
    if unit is None:
        abort(400)
    try:
        added = services.enrol(current_actor(), training_class, services.unit_learners(unit))
    except services.ClassError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    db.session.commit()
    flash(_("Đã ghi danh %(n)s học viên của %(u)s.", n=added, u=unit.name), "success")
    return redirect(url_for(".manage", class_id=training_class.id))


@bp.get("/classes/")
@login_required
def mine():
    return render_template("classes/mine.html", classes=services.classes_of(current_user))


@bp.get("/classes/<int:class_id>")
@login_required
def show(class_id: int):
    training_class = db.get_or_404(TrainingClass, class_id)
    policy.require(
        policy.may_see_class(current_user, training_class), "class", class_id, current_user
    )
    records = {s.id: attendance.record_of(s, current_user) for s in training_class.sessions}
    return render_template(
        "classes/show.html",
        c=training_class,
        records=records,
        labels=STATUS_LABELS,
        check=attendance.checklist(training_class, current_user),
    )


@bp.post("/manage/classes/<int:class_id>/enrol-file")
@role_required(Role.trainer)
def enrol_file(class_id: int):
    """Enrol from a roster file: the rules of the account roster import (all rows or none)."""
    training_class = _managed(class_id)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    if not data:
        flash(_("Hãy chọn một tệp CSV hoặc XLSX."), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    try:
        plan = roster.plan_import(data, upload.filename or "")
        if not plan.ok:
            raise roster.RosterError(
                "; ".join(
                    f"{_('Dòng')} {p.row}, {p.column}: {p.message}" for p in plan.problems[:20]
                )
            )
        roster.apply_plan(current_actor(), plan)
        people = [accounts.find_by_login(row.login) for row in plan.rows]
        added = services.enrol(current_actor(), training_class, people)
    except (roster.RosterError, services.ClassError) as exc:
        db.session.rollback()
        flash(_("Không ghi danh ai: %(e)s", e=str(exc)), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    db.session.commit()
    flash(_("Đã ghi danh %(n)s học viên từ tệp.", n=added), "success")
    return redirect(url_for(".manage", class_id=training_class.id))


@bp.post("/manage/classes/<int:class_id>/edit")
@role_required(Role.trainer)
def edit(class_id: int):
    training_class = _managed(class_id)
    form = ClassEditForm()
    if not form.validate():
        flash(_("Dữ liệu không hợp lệ."), "error")
        return redirect(url_for(".manage", class_id=training_class.id))
    try:
        services.update_class(
            current_actor(),
            training_class,
            title=form.title.data,
            place=form.place.data or "",
            organisers=form.organisers.data or "",
            capacity=form.capacity.data,
            status=form.status.data,
        )
    except services.ClassError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã lưu thông tin lớp."), "success")
    return redirect(url_for(".manage", class_id=training_class.id))
