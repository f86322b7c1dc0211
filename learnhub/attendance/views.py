"""Attendance pages: roll call on a phone, the projector's rotating QR code, and check-in."""

import secrets
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from learnhub import db, policy, qrcodes, signals
from learnhub.accounts.auth import client_ip, current_actor, role_required
from learnhub.accounts.forms import ConfirmForm
from learnhub.accounts.models import Role
from learnhub.attendance import checkin, services
from learnhub.attendance.models import STATUS_LABELS, AttendanceRecord, Method, Status
from learnhub.audit.services import Actor
from learnhub.classes import services as classes
from learnhub.classes.forms import CodeForm
from learnhub.classes.models import ClassSession, TrainingClass
from learnhub.reports import class_documents
from learnhub.timeutil import utcnow

bp = Blueprint("attendance", __name__)

REFUSALS = {
    "invalid": _l("Mã điểm danh không hợp lệ. Hãy quét lại mã trên màn chiếu."),
    "expired": _l("Mã QR đã hết hạn (mã đổi sau vài giây). Hãy quét lại mã trên màn chiếu."),
    "not-yet": _l("Mã QR chưa có hiệu lực. Hãy kiểm tra giờ trên điện thoại rồi quét lại."),
    "other-class": _l("Bạn không có tên trong danh sách lớp này."),
    "already": _l("Bạn đã điểm danh buổi học này rồi."),
}
#: A QR scanned before signing in stays valid this long while the learner signs in.
SCAN_GRACE = timedelta(minutes=5)


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _step() -> int:
    return int(current_app.config["CHECKIN_STEP_SECONDS"])


def _timestamp(now: datetime) -> float:
    """Seconds since the epoch of a naive UTC *now* (tokens are built from one clock: utcnow)."""
    return now.replace(tzinfo=UTC).timestamp()


def _managed_session(session_id: int) -> ClassSession:
    class_session = db.get_or_404(ClassSession, session_id)
    allowed = policy.may_manage_class(current_user, class_session.training_class)
    policy.require(allowed, "session", session_id, current_user, 403)
    return class_session


@bp.route("/manage/sessions/<int:session_id>/roll-call", methods=["GET", "POST"])
@role_required(Role.trainer)
def roll_call(session_id: int):
    class_session = _managed_session(session_id)
    people = classes.roster(class_session.training_class)
    form = ConfirmForm()
    now = utcnow()
    problem = services.not_started(class_session, now)
    if request.method == "POST":
        if not form.validate():
            abort(400)
        statuses = {}
        for user in people:
            value = request.form.get(f"s-{user.id}", Status.present.value)
            if value not in Status.__members__:
                abort(400)
            statuses[user.id] = Status(value)
        try:
            changed = services.roll_call(current_actor(), class_session, statuses, now)
        except services.AttendanceError as exc:
            db.session.rollback()
            problem, status = exc, 400
        else:
            db.session.commit()
            flash(_("Đã lưu điểm danh (%(n)s thay đổi).", n=changed), "success")
            return redirect(url_for(".roll_call", session_id=class_session.id))
    else:
        status = 200
    by_cell = services.records_of_class(class_session.training_class)
    records = {u.id: by_cell.get((class_session.id, u.id)) for u in people}
    return render_template(
        "attendance/roll_call.html",
        s=class_session,
        people=people,
        records=records,
        labels=STATUS_LABELS,
        Status=Status,
        form=form,
        problem=problem,
    ), status


def _suspicious(class_session: ClassSession) -> list[tuple[str, int]]:
    """Devices and addresses from which several learners checked in to this session."""
    found = []
    for column, label in (
        (AttendanceRecord.device, _l("Thiết bị")),
        (AttendanceRecord.ip, _l("Địa chỉ")),
    ):
        stmt = (
            select(column, func.count())
            .where(
                AttendanceRecord.session_id == class_session.id,
                AttendanceRecord.method.in_([Method.qr, Method.code]),
                column != "",
            )
            .group_by(column)
            .having(func.count() > 1)
        )
        found += [(f"{label} {value[:12]}", n) for value, n in db.session.execute(stmt)]
    return found


DEVICE_COOKIE = "learnhub_device"


def _device_id() -> str:
    """A random id this browser keeps (a cookie): one phone checking in several people shows up."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if len(value) == 32 and value.isalnum() else secrets.token_hex(16)


@bp.get("/manage/sessions/<int:session_id>/qr")
@role_required(Role.trainer)
def projector(session_id: int):
    class_session = _managed_session(session_id)
    moment = utcnow()
    now = _timestamp(moment)
    token = checkin.make_token(_secret(), class_session.id, now, _step())
    url = current_app.config["BASE_URL"].rstrip("/") + url_for(".check_in", token=token)
    present = (
        db.session.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.session_id == class_session.id)
        )
        or 0
    )
    refresh = _step() - int(now % _step()) or _step()
    return render_template(
        "attendance/projector.html",
        s=class_session,
        # A viewBox and no fixed size (omitsize): the CSS sizes the code to the screen, a phone's
        # 360 px as well as a projector's (with width and height set it was clipped, not scaled).
        qr=qrcodes.svg(url, omitsize=True, dark="#000", light="#fff"),
        url=url,
        code=checkin.make_code(_secret(), class_session.id, now, _step()),
        refresh=refresh,
        present=present,
        total=len(classes.roster(class_session.training_class)),
        suspicious=_suspicious(class_session),
        problem=services.checkin_refusal(class_session, moment),
    )


def _resolve(token: str, now: datetime) -> tuple[ClassSession | None, str | None]:
    """The session a token checks in to, or why not (a scan before signing in still counts)."""
    try:
        window = checkin.verify_token(_secret(), token, _timestamp(now), _step())
    except checkin.CheckinRefused as exc:
        scanned = session.get("checkin_scan", {})
        at = scanned.get("at", 0) if scanned.get("token") == token else 0
        if str(exc) == "expired" and _timestamp(now) - at <= SCAN_GRACE.total_seconds():
            return db.session.get(ClassSession, int(token.split(".")[0])), None
        return None, str(exc)
    return db.session.get(ClassSession, window.session_id), None


@signals.signed_in.connect
def _check_in_after_sign_in(user, **_kw) -> None:
    """A QR scanned before signing in: the sign-in (a POST with its own CSRF token) completes it,
    so the learner lands on the check-in page already checked in (or told why not)."""
    scan = session.get("checkin_scan") or {}
    token = scan.get("token", "")
    now = utcnow()
    if not token or _timestamp(now) - scan.get("at", 0) > SCAN_GRACE.total_seconds():
        return
    db.write_transaction()
    class_session, problem = _resolve(token, now)
    if (
        class_session is None
        or problem
        or not classes.is_enrolled(class_session.training_class, user)
        or services.checkin_refusal(class_session, now) is not None  # told on the landing page
    ):
        return
    if services.record_of(class_session, user) is not None:
        return
    services.check_in(
        Actor(user, client_ip(), "web"),
        class_session,
        user,
        Method.qr,
        now,
        ip=client_ip(),
        device=_device_id(),
    )
    session.pop("checkin_scan", None)
    session["checkin_done"] = token


def _refuse(message, reason: str, status: int, class_session: ClassSession | None = None):
    """The refusal page for a signed-in learner's failed try, audited."""
    db.write_transaction()
    training_class = class_session.training_class if class_session is not None else None
    services.checkin_failed(current_actor(), reason, training_class, class_session)
    db.session.commit()
    return render_template("attendance/checkin.html", refused=message, s=class_session), status


@bp.route("/checkin/<token>", methods=["GET", "POST"])
def check_in(token: str):
    now = utcnow()
    if not current_user.is_authenticated:
        try:
            checkin.verify_token(_secret(), token, _timestamp(now), _step())
        except checkin.CheckinRefused as exc:
            return render_template(
                "attendance/checkin.html", refused=REFUSALS[str(exc)], s=None
            ), 400
        session["checkin_scan"] = {"token": token[:200], "at": int(_timestamp(now))}
        flash(_("Đăng nhập để điểm danh."), "info")
        return redirect(url_for("accounts.login", next=url_for(".check_in", token=token)))
    class_session, problem = _resolve(token, now)
    if class_session is None:
        problem = problem or "invalid"
        # A signed token names its session (expired, not yet valid); a forged one names nothing.
        named = (
            None
            if problem == "invalid"
            else db.session.get(ClassSession, int(token[:12].split(".")[0]))
        )
        return _refuse(REFUSALS[problem], problem, 400, named)
    return _check_in(class_session, Method.qr, now)


def _check_in(class_session: ClassSession, method: Method, now: datetime):
    if not classes.is_enrolled(class_session.training_class, current_user):
        return _refuse(REFUSALS["other-class"], "other-class", 403, class_session)
    existing = services.record_of(class_session, current_user)
    token = (request.view_args or {}).get("token")
    if existing is not None and token and session.get("checkin_done") == token:
        # Checked in by the sign-in that brought the learner here: show it done, once.
        session.pop("checkin_done", None)
        return render_template(
            "attendance/checkin.html",
            done=True,
            s=class_session,
            record=existing,
            labels=STATUS_LABELS,
        )
    if (
        existing is not None
        and existing.status in (Status.present, Status.late)
        and existing.method in (Method.qr, Method.code)
    ):
        return render_template(
            "attendance/checkin.html",
            refused=REFUSALS["already"],
            s=class_session,
            record=existing,
            labels=STATUS_LABELS,
        ), 409
    refusal = services.checkin_refusal(class_session, now)
    if refusal is not None:
        return _refuse(str(refusal), refusal.reason, 400, class_session)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        device = _device_id()
        services.check_in(
            current_actor(),
            class_session,
            current_user,
            method,
            now,
            ip=client_ip(),
            device=device,
        )
        db.session.commit()
        session.pop("checkin_scan", None)
        record = services.record_of(class_session, current_user)
        response = make_response(
            render_template(
                "attendance/checkin.html",
                done=True,
                s=class_session,
                record=record,
                labels=STATUS_LABELS,
            )
        )
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=3 * 365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["ENV"] == "production",
        )
        return response
    return render_template("attendance/checkin.html", s=class_session, form=form)


@bp.route("/classes/<int:class_id>/code", methods=["GET", "POST"])
def code(class_id: int):
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path))
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = policy.is_enrolled(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user)
    form = CodeForm()
    if form.validate_on_submit():
        now = utcnow()
        db.write_transaction()
        try:
            class_session = services.session_for_code(
                current_actor(),
                training_class,
                current_user,
                form.code.data.strip(),
                now,
                _secret(),
            )
        except services.CheckinThrottled as exc:
            db.session.commit()
            form.code.errors = [str(exc)]
            page = render_template("attendance/code.html", c=training_class, form=form)
            return page, 429, {"Retry-After": str(exc.wait)}
        except services.AttendanceError as exc:
            db.session.commit()
            form.code.errors = [str(exc)]
            status = 200 if isinstance(exc, services.WrongCode) else 400
            return render_template("attendance/code.html", c=training_class, form=form), status
        db.session.commit()
        return _check_in(class_session, Method.code, now)
    return render_template("attendance/code.html", c=training_class, form=form)


def _sheet(training_class: TrainingClass, number: int | None, name: str) -> Response:
    """The sign-in sheet (danh sách học viên ký tên) is the class document of that name, in the
    official frame: one page per session (or the one asked for), dated by its session."""
    try:
        doc = class_documents.build(training_class, "danh-sach-ky-ten", number)
    except class_documents.UnknownDocument:
        abort(404)
    data = class_documents.pdf_bytes(doc)
    db.session.commit()  # the default issuer, created on first use
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}.pdf"},
    )


@bp.get("/manage/sessions/<int:session_id>/sheet.pdf")
@role_required(Role.trainer)
def session_sheet(session_id: int):
    class_session = _managed_session(session_id)
    training_class = class_session.training_class
    return _sheet(
        training_class,
        class_session.number,
        f"danh-sach-ky-ten-{training_class.code}-buoi-{class_session.number}",
    )


@bp.get("/manage/classes/<int:class_id>/sheet.pdf")
@role_required(Role.trainer)
def class_sheet(class_id: int):
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = policy.may_manage_class(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user, 403)
    return _sheet(training_class, None, f"danh-sach-ky-ten-{training_class.code}")


@bp.route("/manage/classes/<int:class_id>/paper", methods=["GET", "POST"])
@role_required(Role.trainer)
def paper(class_id: int):
    """Enter the signed paper sheet afterwards: a grid (learners × sessions) or a CSV file."""
    training_class = db.get_or_404(TrainingClass, class_id)
    allowed = policy.may_manage_class(current_user, training_class)
    policy.require(allowed, "class", class_id, current_user, 403)
    people = classes.roster(training_class)
    form = ConfirmForm()
    problems: list[str] = []
    now = utcnow()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            marks, problems = services.read_sheet(training_class, upload.read(2 * 1024 * 1024))
            if not problems:
                try:
                    for class_session, user, status in marks:
                        services.record(
                            current_actor(), class_session, user, status, Method.sheet, now
                        )
                except services.AttendanceError as exc:
                    db.session.rollback()  # nothing half-done
                    problems = [str(exc)]
                else:
                    db.session.commit()
                    flash(_("Đã nhập %(n)s ô điểm danh từ tệp.", n=len(marks)), "success")
                    return redirect(url_for(".paper", class_id=training_class.id))
        else:
            # A cell left at "not recorded" stays unrecorded: saving the grid never marks a
            # learner present for a session the sheet does not cover (a future one, say).
            marks = []
            for class_session in training_class.sessions:
                for user in people:
                    value = request.form.get(f"c-{class_session.id}-{user.id}", "")
                    if value and value not in Status.__members__:
                        abort(400)
                    if value:
                        marks.append((class_session, user, Status(value)))
            changed = 0
            try:
                for class_session, user, status in marks:
                    existing = services.record_of(class_session, user)
                    if existing is None or existing.status != status:
                        services.record(
                            current_actor(), class_session, user, status, Method.sheet, now
                        )
                        changed += 1
            except services.AttendanceError as exc:
                db.session.rollback()  # nothing half-done
                problems = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã lưu điểm danh (%(n)s thay đổi).", n=changed), "success")
                return redirect(url_for(".paper", class_id=training_class.id))
    records = services.records_of_class(training_class)
    grid = {
        (s.id, u.id): records.get((s.id, u.id)) for s in training_class.sessions for u in people
    }
    return render_template(
        "attendance/paper.html",
        c=training_class,
        people=people,
        grid=grid,
        labels=STATUS_LABELS,
        Status=Status,
        form=form,
        problems=problems,
        not_started={s.id for s in training_class.sessions if services.not_started(s, now)},
    ), (400 if problems else 200)
