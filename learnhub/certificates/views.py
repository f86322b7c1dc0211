"""Certificate pages: a learner's certificates, one certificate (download, revoke, re-issue,
confirmation of a lost one), a class's review-and-issue page with its background job, and the
class's certificates as a ZIP."""

import io
import zipfile

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from learnhub import db, policy
from learnhub.accounts.auth import current_actor
from learnhub.accounts.forms import ConfirmForm
from learnhub.certificates import jobs, services
from learnhub.certificates.models import (
    REVOKE_LABELS,
    STATUS_LABELS,
    Certificate,
    IssueJob,
    JobState,
    Kind,
    RevokeReason,
    Status,
)
from learnhub.classes.models import TrainingClass
from learnhub.forms import LearnHubForm, choices
from learnhub.timeutil import today, utcnow

bp = Blueprint("certificates", __name__)


class RevokeForm(LearnHubForm):
    reason = SelectField(
        _l("Lý do thu hồi"),
        choices=choices([(str(k), v) for k, v in REVOKE_LABELS.items()]),
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Ghi chú (không công khai)"),
        validators=[Length(max=2000)],
        description=_l("Chỉ người quản lý thấy ghi chú này; trang tra cứu chỉ nêu loại lý do."),
    )


class ReissueForm(LearnHubForm):
    reason = TextAreaField(
        _l("Lý do cấp lại"),
        validators=[DataRequired(_l("Hãy ghi lý do cấp lại.")), Length(max=2000)],
        description=_l("Ghi vào nhật ký; ví dụ: sai ngày sinh, đã xét lại và đủ điều kiện."),
    )


def _visible(cert_id: int) -> Certificate:
    """The certificate if the signed-in user may see it; 404 otherwise (never 403: the
    existence of someone else's certificate is not disclosed)."""
    cert = db.get_or_404(Certificate, cert_id)
    allowed = services.can_view(current_user, cert)
    policy.require(allowed, "certificate", cert_id, current_user)
    return cert


def _managed_class(class_id: int) -> TrainingClass:
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = services.can_manage(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user)
    return training_class


def _shown_learners(training_class: TrainingClass) -> set[int] | None:
    """Ids of the learners whose names and results the user sees on the class's certificate
    pages; None: all of them (an HR officer sees only their scope, issue 13 finding 5)."""
    ids = policy.class_learner_ids(current_user, training_class)
    return None if ids is None else set(db.session.scalars(ids))


def _managed_cert(cert_id: int) -> Certificate:
    cert = _visible(cert_id)
    allowed = services.can_manage(current_user, cert.training_class)
    policy.require(allowed, "certificate", cert_id, current_user)
    return cert


@bp.app_context_processor
def _labels() -> dict:
    return {"CERT_STATUS_LABELS": STATUS_LABELS, "REVOKE_LABELS": REVOKE_LABELS}


@bp.get("/certificates/")
@login_required
def mine():
    rows = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == current_user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ).all()
    return render_template("certificates/mine.html", certificates=rows, today=today())


@bp.get("/certificates/<int:cert_id>")
@login_required
def show(cert_id: int):
    cert = _visible(cert_id)
    manage = services.can_manage(current_user, cert.training_class)
    related = db.session.scalars(
        select(Certificate)
        .where((Certificate.supersedes_id == cert.id) | (Certificate.refers_to_id == cert.id))
        .order_by(Certificate.id)
    ).all()
    replaced = any(r.supersedes_id == cert.id for r in related)
    return render_template(
        "certificates/show.html",
        cert=cert,
        related=related,
        manage=manage,
        state=cert.state(today()),
        revoke_form=RevokeForm(),
        reissue_form=ReissueForm(),
        # A revoked certificate is re-issued only from here, with a reason (never in bulk).
        may_reissue=manage
        and cert.kind == Kind.certificate
        and cert.status != Status.superseded
        and not replaced,
        form=ConfirmForm(),
        verify_url=services.verify_url(cert.code),
    )


@bp.get("/certificates/<int:cert_id>/pdf")
@login_required
def download(cert_id: int):
    """The stored PDF, exactly as issued; never rendered again."""
    cert = _visible(cert_id)
    try:
        data = services.read_pdf(cert)
    except (OSError, services.CertificateError):
        current_app.logger.exception("stored PDF of certificate %s unreadable", cert.id)
        abort(503)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=cert.file_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/certificates/<int:cert_id>/revoke")
@login_required
def revoke(cert_id: int):
    cert = _managed_cert(cert_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Hãy chọn lý do thu hồi."), "error")
        return redirect(url_for(".show", cert_id=cert.id))
    try:
        services.revoke(
            current_actor(), cert, RevokeReason(form.reason.data), form.note.data or "", utcnow()
        )
    except services.CertificateError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", cert_id=cert.id))
    db.session.commit()
    flash(_("Đã thu hồi giấy %(n)s.", n=cert.number_label), "success")
    return redirect(url_for(".show", cert_id=cert.id))


def _issue_from(cert: Certificate, action, message: str):
    """Re-issue or confirm: a new document from an existing certificate, then its page (the
    same one again for a second submit)."""
    try:
        new = action()
    except services.CertificateError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", cert_id=cert.id))
    db.session.commit()
    flash(message % {"n": new.number_label}, "success")
    return redirect(url_for(".show", cert_id=new.id))


@bp.post("/certificates/<int:cert_id>/reissue")
@login_required
def reissue(cert_id: int):
    cert = _managed_cert(cert_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        flash(_("Hãy ghi lý do cấp lại."), "error")
        return redirect(url_for(".show", cert_id=cert.id))
    return _issue_from(
        cert,
        lambda: services.reissue(current_actor(), cert, utcnow(), form.reason.data),
        _("Đã cấp lại: giấy mới số %(n)s."),
    )


@bp.post("/certificates/<int:cert_id>/confirmation")
@login_required
def confirmation(cert_id: int):
    cert = _managed_cert(cert_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _issue_from(
        cert,
        lambda: services.confirm_lost(current_actor(), cert, utcnow()),
        _("Đã cấp giấy xác nhận hoàn thành số %(n)s."),
    )


# -- a class: review, issue in the background, download all ---------------------------------


@bp.get("/classes/<int:class_id>/certificates")
@login_required
def review(class_id: int):
    training_class = _managed_class(class_id)
    candidates = services.review(training_class)
    shown = _shown_learners(training_class)
    if shown is not None:
        candidates = [c for c in candidates if c.user.id in shown]
    latest = db.session.scalar(
        select(IssueJob)
        .where(IssueJob.class_id == training_class.id)
        .order_by(IssueJob.id.desc())
        .limit(1)
    )
    return render_template(
        "certificates/review.html",
        training_class=training_class,
        candidates=candidates,
        to_issue=sum(1 for c in candidates if c.will_issue),
        issued=sum(1 for c in candidates if c.certificate is not None),
        settings=services.certificate_settings(training_class),
        issuer=services.issuer_for(training_class),
        latest=latest,
        form=ConfirmForm(),
        today=today(),
    )


@bp.post("/classes/<int:class_id>/certificates/issue")
@login_required
def issue_class(class_id: int):
    training_class = _managed_class(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.issuer_for(training_class)  # the default issuer exists before the job starts
    job = jobs.start(current_actor(), training_class, utcnow())
    db.session.commit()
    if job.state == JobState.queued and job.started_at is None:
        jobs.dispatch(job)
    elif job.state == JobState.done and job.total == 0:
        flash(_("Không có ai cần cấp giấy."), "info")
        return redirect(url_for(".review", class_id=training_class.id))
    return redirect(url_for(".job", job_id=job.id))


def _job(job_id: int) -> IssueJob:
    job = db.get_or_404(IssueJob, job_id)
    allowed = services.can_manage(current_user, job.training_class)
    policy.require(allowed, "issue_job", job_id, current_user)
    return job


@bp.get("/certificates/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    job = _job(job_id)
    return render_template(
        "certificates/job.html",
        job=job,
        stale=jobs.is_stale(job, utcnow()),
        form=ConfirmForm(),
    )


@bp.post("/certificates/jobs/<int:job_id>/resume")
@login_required
def resume(job_id: int):
    job = _job(job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not jobs.is_stale(job, utcnow()):
        flash(_("Công việc này đang chạy hoặc đã xong."), "info")
        return redirect(url_for(".job", job_id=job.id))
    job.state = JobState.queued
    job.heartbeat_at = utcnow()
    db.session.commit()
    jobs.dispatch(job)
    flash(_("Đã cho chạy tiếp; những giấy đã cấp không bị cấp lần nữa."), "success")
    return redirect(url_for(".job", job_id=job.id))


@bp.get("/classes/<int:class_id>/certificates.zip")
@login_required
def class_zip(class_id: int):
    """Every valid certificate and confirmation of the class, from storage, in one ZIP."""
    training_class = _managed_class(class_id)
    stmt = select(Certificate).where(
        Certificate.class_id == training_class.id, Certificate.effective_status == Status.valid
    )
    shown = policy.class_learner_ids(current_user, training_class)
    if shown is not None:
        stmt = stmt.where(Certificate.user_id.in_(shown))
    rows = db.session.scalars(stmt.order_by(Certificate.year, Certificate.register_no)).all()
    if not rows:
        flash(_("Lớp chưa có giấy chứng nhận nào để tải về."), "info")
        return redirect(url_for(".review", class_id=training_class.id))
    buffer = io.BytesIO()
    # PDFs are compressed already: store them.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for cert in rows:
            prefix = "GXN" if cert.kind == Kind.confirmation else "GCN"
            archive.writestr(f"{prefix}/{cert.file_name}", services.read_pdf(cert))
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"giay-chung-nhan-{training_class.code}.zip",
    )
