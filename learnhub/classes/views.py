"""Class pages: trainers open classes, schedule sessions and build rosters; learners see theirs.

These pages show attendance and completion too, so they read the attendance domain (the one
place where classes looks to its right; attendance never imports these views).
"""

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from learnhub import db, policy
from learnhub.accounts.auth import current_actor, role_required
from learnhub.accounts.models import Role, User
from learnhub.attendance import schedule
from learnhub.attendance import services as attendance
from learnhub.attendance.models import STATUS_LABELS, Completion
from learnhub.catalog.models import Module
from learnhub.classes import feedback, matching, services
from learnhub.classes.forms import (
    ClassEditForm,
    ClassForm,
    ConfirmForm,
    EnrolForm,
    EnrolUnitForm,
    FeedbackForm,
    SessionEditForm,
    SessionsForm,
)
from learnhub.classes.models import ClassFormat, ClassSession, TrainingClass
from learnhub.forms import choices
from learnhub.orgunits import services as units
from learnhub.reports import class_documents
from learnhub.textutil import collation_key
from learnhub.timeutil import today, utcnow

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
        "classes/manage_index.html",
        classes=[c for c in rows if policy.may_manage_class(current_user, c)],
    )


@bp.route("/manage/classes/new", methods=["GET", "POST"])
@role_required(Role.trainer)
def new():
    form = ClassForm()
    modules = [
        m
        for m in db.session.scalars(select(Module).order_by(Module.slug))
        if m.published_version is not None and policy.may_edit_module(current_user, m)
    ]
    modules.sort(key=lambda m: collation_key(m.published_version.title))
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
        except services.ClassDatesError as exc:
            form.ends_on.errors = [str(exc)]
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
        confirm_form=ConfirmForm(),
        ended=attendance.class_has_ended(training_class, utcnow()),
        documents=class_documents.LABELS,
    )


#: The query argument narrowing a document to one learner, unit or session.
DOCUMENT_ARGS = {
    "giay-trieu-tap": "hoc_vien",
    "giay-trieu-tap-don-vi": "don_vi",
    "danh-sach-ky-ten": "buoi",
}
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@bp.get("/manage/classes/<int:class_id>/documents/<kind>.<fmt>")
@role_required(Role.trainer)
def document(class_id: int, kind: str, fmt: str):
    """A document of the class's life (decisions, summons, lists) as PDF or editable DOCX."""
    training_class = _managed(class_id)
    if fmt not in DOCUMENT_TYPES:
        abort(404)
    arg = request.args.get(DOCUMENT_ARGS.get(kind, ""), type=int)
    try:
        doc = class_documents.build(training_class, kind, arg)
    except class_documents.UnknownDocument:
        abort(404)
    data = class_documents.pdf_bytes(doc) if fmt == "pdf" else class_documents.docx_bytes(doc)
    db.session.commit()  # the default issuer, created on first use
    name = f"{kind}-{training_class.code}{f'-{arg}' if arg is not None else ''}.{fmt}"
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(
        data, mimetype=DOCUMENT_TYPES[fmt], headers={"Content-Disposition": disposition}
    )


def _completions(training_class: TrainingClass) -> dict[int, object]:
    rows = db.session.scalars(select(Completion).where(Completion.class_id == training_class.id))
    return {r.user_id: r for r in rows}


def _managed_session(class_id: int, session_id: int) -> ClassSession:
    session = db.get_or_404(ClassSession, session_id)
    if session.class_id != class_id:
        abort(404)
    _managed(class_id)
    return session


@bp.route("/manage/classes/<int:class_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(Role.trainer)
def edit_session(class_id: int, session_id: int):
    """Move a session (date, times, periods, topic); its attendance records move with it."""
    session = _managed_session(class_id, session_id)
    form = SessionEditForm(
        data={
            "on": session.on,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "periods": session.periods,
            "topic": session.topic,
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            data = schedule.SessionData(
                form.on.data,
                form.starts_at.data,
                form.ends_at.data,
                form.periods.data,
                form.topic.data or "",
            )
            schedule.move_session(current_actor(), session, data, utcnow())
        except services.ClassError as exc:
            db.session.rollback()
            form.on.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Đã lưu buổi học."), "success")
            return redirect(url_for(".manage", class_id=class_id))
    return render_template(
        "classes/session_edit.html",
        s=session,
        c=session.training_class,
        form=form,
        records=schedule.record_count(session),
    )


@bp.route(
    "/manage/classes/<int:class_id>/sessions/<int:session_id>/delete", methods=["GET", "POST"]
)
@role_required(Role.trainer)
def delete_session(class_id: int, session_id: int):
    """Cancel a session typed by mistake: a confirmation page, then the POST."""
    session = _managed_session(class_id, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            schedule.cancel_session(current_actor(), session)
        except services.ClassError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Đã hủy buổi học."), "success")
        return redirect(url_for(".manage", class_id=class_id))
    return render_template(
        "classes/session_delete.html",
        s=session,
        c=session.training_class,
        form=form,
        records=schedule.record_count(session),
    )


@bp.route("/manage/classes/<int:class_id>/learners/<int:user_id>/withdraw", methods=["GET", "POST"])
@role_required(Role.trainer)
def withdraw(class_id: int, user_id: int):
    """Un-enrol a learner (records kept): a confirmation page, then the POST."""
    training_class = _managed(class_id)
    person = db.get_or_404(User, user_id)
    if not services.is_enrolled(training_class, person):
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.withdraw(current_actor(), training_class, person, utcnow())
        db.session.commit()
        flash(_("Đã rút %(p)s khỏi danh sách lớp.", p=person.full_name), "success")
        return redirect(url_for(".manage", class_id=class_id))
    return render_template("classes/withdraw.html", c=training_class, person=person, form=form)


@bp.post("/manage/classes/<int:class_id>/evaluate")
@role_required(Role.trainer)
def evaluate(class_id: int):
    """Record the completions of a class that has ended (nothing else may have triggered them)."""
    training_class = _managed(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    added = attendance.evaluate_class(training_class, utcnow())
    db.session.commit()
    flash(_("Đã ghi nhận %(n)s học viên hoàn thành.", n=added), "success")
    return redirect(url_for(".manage", class_id=class_id))


@bp.post("/manage/classes/<int:class_id>/sessions")
@role_required(Role.trainer)
def add_sessions(class_id: int):
    training_class = _managed(class_id)
    form = SessionsForm()
    try:
        if not form.validate():
            problems = [f"{form[name].label.text}: {errs[0]}" for name, errs in form.errors.items()]
            raise services.ClassError(" ".join([_("Lịch học không hợp lệ."), *problems]))
        services.add_sessions(
            current_actor(),
            training_class,
            form.first.data,
            form.count.data,
            form.starts_at.data,
            form.ends_at.data,
            form.periods.data,
            form.every_days.data,
        )
    except services.ClassError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Đã thêm buổi học."), "success")
    return redirect(url_for(".manage", class_id=training_class.id))


def _enrol_listed(training_class: TrainingClass, read) -> None:
    """Match a list to existing accounts and enrol them, all or none (flashes the outcome)."""
    try:
        found = read()
        added = services.enrol_matched(current_actor(), training_class, found)
    except (matching.MatchError, services.ClassError) as exc:
        db.session.rollback()
        flash(_("Không ghi danh ai: %(e)s", e=str(exc)), "error")
        return
    db.session.commit()
    flash(_("Đã ghi danh %(n)s học viên.", n=added), "success")
    if found.repeated:
        shown = "; ".join(str(p) for p in found.repeated[:20])
        if len(found.repeated) > 20:
            shown += " " + _("… và %(n)s dòng khác.", n=len(found.repeated) - 20)
        flash(_("Bỏ qua %(n)s dòng trùng: %(rows)s.", n=len(found.repeated), rows=shown), "info")
    if found.ignored:
        flash(
            _(
                "Không dùng các cột %(c)s: ghi danh không thay đổi thông tin hay vai trò của "
                "tài khoản nào.",
                c=", ".join(found.ignored),
            ),
            "info",
        )


@bp.post("/manage/classes/<int:class_id>/enrol")
@role_required(Role.trainer)
def enrol(class_id: int):
    training_class = _managed(class_id)
    form = EnrolForm()
    if not form.validate():
        flash(_("Hãy nhập ít nhất một tên đăng nhập."), "error")
    else:
        _enrol_listed(training_class, lambda: matching.match_pasted(form.logins.data))
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
        completion=_completions(training_class).get(current_user.id),
    )


@bp.post("/manage/classes/<int:class_id>/enrol-file")
@role_required(Role.trainer)
def enrol_file(class_id: int):
    """Enrol the existing accounts a CSV/XLSX list names; it never creates or changes one."""
    training_class = _managed(class_id)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    if not data:
        flash(_("Hãy chọn một tệp CSV hoặc XLSX."), "error")
    else:
        _enrol_listed(training_class, lambda: matching.match_file(data, upload.filename or ""))
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


# -- the learners' evaluation of a class (phiếu đánh giá khóa học) ---------------------------


@bp.route("/classes/<int:class_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback_form(class_id: int):
    training_class = db.get_or_404(TrainingClass, class_id)
    policy.require(
        policy.may_see_class(current_user, training_class), "class", class_id, current_user
    )
    open_ = policy.may_give_feedback(current_user, training_class, utcnow())
    done = feedback.given(current_user, training_class)
    form = FeedbackForm()
    if request.method == "POST":
        if not open_ or done:
            flash(_("Bạn không thể gửi phiếu đánh giá cho lớp này."), "warning")
            return redirect(url_for(".feedback_form", class_id=class_id))
        if form.validate():
            data = feedback.FeedbackData(
                content=int(form.content.data),
                trainers=int(form.trainers.data),
                organisation=int(form.organisation.data),
                comment=form.comment.data or "",
            )
            try:
                feedback.submit(current_user, training_class, data)
            except feedback.AlreadyGiven:
                flash(_("Bạn đã gửi phiếu đánh giá cho lớp này."), "info")
                return redirect(url_for(".show", class_id=class_id))
            db.session.commit()
            flash(_("Đã ghi nhận phiếu đánh giá. Cảm ơn bạn."), "success")
            return redirect(url_for(".show", class_id=class_id))
    return render_template(
        "classes/feedback_form.html", c=training_class, form=form, open=open_, done=done
    )


@bp.get("/manage/classes/<int:class_id>/feedback")
@login_required
def feedback_summary(class_id: int):
    training_class = db.get_or_404(TrainingClass, class_id)
    policy.require(
        policy.may_see_feedback(current_user, training_class), "class", class_id, current_user
    )
    return render_template(
        "classes/feedback_summary.html",
        c=training_class,
        may_manage=policy.may_manage_class(current_user, training_class),
        summary=feedback.summary(training_class),
        minimum=feedback.MIN_RESPONSES,
    )
