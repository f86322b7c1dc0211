"""The read-only JSON API (/api/v1/…) and the page where HR officers manage their API tokens.

Every /api/v1 request except the OpenAPI document needs `Authorization: Bearer <token>`; the
token acts as its owner and sees what the owner's HR scope covers (admins: everything). The API
never reads or writes the browser session: a signed-in browser without a token gets 401, never a
redirect, and no cookie is ever set. Errors are JSON objects {"error": "…"}.

Lists use keyset pagination: `?limit=1..500&after=<cursor>`, where the cursor is the opaque,
signed `next` value of the previous page (bound to the resource and the filters).
"""

import hashlib
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSession, SessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Select, func, or_, select
from werkzeug.exceptions import HTTPException
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Optional

from learnhub import db, policy, ratelimit
from learnhub.accounts.auth import client_ip, current_actor, fresh_auth_required, role_required
from learnhub.accounts.models import Role, User
from learnhub.api import (
    API_PREFIX,
    CERTIFICATE_STATUSES,
    COMPLETION_STATUSES,
    DEFAULT_LIMIT,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_LIMIT,
    openapi,
    tokens,
)
from learnhub.api.models import ApiToken
from learnhub.catalog.models import Module
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Certificate
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.errors import MESSAGES
from learnhub.forms import DateField, LearnHubForm, TextField
from learnhub.orgunits import services as units
from learnhub.orgunits.models import OrgUnit
from learnhub.reports import records
from learnhub.timeutil import to_local, today, utcnow

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
#: The API's spelling of a record's status (COMPLETION_STATUSES) and the records' own.
RECORD_STATUS = {
    "completed": records.COMPLETED,
    "in_progress": records.IN_PROGRESS,
    "not_completed": records.NOT_COMPLETED,
}
API_STATUS = {value: key for key, value in RECORD_STATUS.items()}
tokens_bp = Blueprint("api_tokens", __name__)

RATE_WINDOW = timedelta(minutes=1)
#: Requests per user per minute, and refused tokens per address per minute (config overrides).
DEFAULT_RATE_LIMIT = 600
DEFAULT_FAILURE_LIMIT = 60


# -- the API never touches the browser session -------------------------------------------------


class _ApiSessions:
    """The app's session interface, except that API requests get an empty session that is never
    saved: a session cookie neither signs anyone in on /api/v1 nor is refreshed or set there
    (and the sign-in checks that run before every request see nobody, so never redirect)."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def __getattr__(self, name: str):
        # Everything else (null sessions, the signing serializer, cookie settings) is the wrapped
        # interface's.
        return getattr(self.inner, name)

    def open_session(self, app: Flask, request):
        if request.path.startswith(API_PREFIX + "/"):
            return SecureCookieSession()
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.path.startswith(API_PREFIX + "/"):
            return None
        return self.inner.save_session(app, session, response)


@bp.record_once
def _isolate_sessions(state) -> None:
    app = state.app
    if not isinstance(app.session_interface, _ApiSessions):
        app.session_interface = _ApiSessions(app.session_interface)
    from learnhub.security import csrf

    csrf.exempt(bp)  # GET only, and a bearer token is not sent by browsers on their own


# -- answers -----------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = status
        self.message = message


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _unauthorized(message: str, invalid: bool) -> Response:
    challenge = 'Bearer realm="learnhub"' + (', error="invalid_token"' if invalid else "")
    return _error(401, message, {"WWW-Authenticate": challenge})


def _too_many(now: datetime) -> Response:
    wait = ratelimit.retry_after(RATE_WINDOW, now)
    return _error(
        429,
        _("Quá nhiều yêu cầu. Vui lòng thử lại sau %(s)s giây.", s=wait),
        {"Retry-After": str(wait)},
    )


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _error(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = exc.code or 500
    return _error(code, MESSAGES.get(code, (exc.name, ""))[0])


@bp.after_request
def _no_store(response: Response) -> Response:
    # Personal data, different for every token: never cached by a proxy or the client.
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("Authorization")
    return response


# -- authentication ----------------------------------------------------------------------------


def _limit_for(key: str, default: int) -> int:
    return int(current_app.config.get(key, default))


def _count_refusal(now: datetime) -> bool:
    """Count a refused token against the client's address; False when over the limit."""
    db.write_transaction()
    allowed = ratelimit.hit(
        f"api-refused:{client_ip()}",
        _limit_for("API_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT),
        RATE_WINDOW,
        now,
    )
    db.session.commit()
    return allowed


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "api.openapi_document":
        return None  # public
    now = utcnow()
    scheme, _sep, presented = request.headers.get("Authorization", "").strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        current_app.logger.info("api: no bearer token ip=%s path=%s", client_ip(), request.path)
        return _unauthorized(_("Cần khóa API: gửi tiêu đề Authorization: Bearer <khóa>."), False)
    try:
        token = tokens.authenticate(presented, today())
    except tokens.Rejected as exc:
        current_app.logger.warning(
            "api: token refused (%s) ip=%s path=%s", exc.reason, client_ip(), request.path
        )
        if exc.status == 403:
            return _error(403, _("Chủ khóa API này không còn quyền cán bộ tổ chức."))
        if not _count_refusal(now):
            return _too_many(now)
        return _unauthorized(_("Khóa API không hợp lệ, đã hết hạn hoặc đã bị thu hồi."), True)
    token_id, user_id = token.id, token.user_id
    db.write_transaction()  # a GET request has no write transaction of its own
    allowed = ratelimit.hit(
        f"api:user:{user_id}", _limit_for("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), RATE_WINDOW, now
    )
    tokens.touch(db.session.get(ApiToken, token_id), now)
    db.session.commit()
    if not allowed:
        current_app.logger.warning("api: rate limit user=%s ip=%s", user_id, client_ip())
        return _too_many(now)
    g.api_user = db.session.get(User, user_id)
    return None


# -- query parameters --------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,6}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _text(name: str, max_length: int = 100) -> str | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise ApiError(400, _("Tham số %(p)s quá dài.", p=name))
    return value


def _int(name: str, low: int, high: int) -> int | None:
    value = _text(name, 12)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise ApiError(
            400, _("Tham số %(p)s phải là số nguyên từ %(a)s đến %(b)s.", p=name, a=low, b=high)
        )
    return int(value)


def _date(name: str) -> date | None:
    value = _text(name, 10)
    if value is None:
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, _("Tham số %(p)s phải là ngày dạng YYYY-MM-DD.", p=name)) from None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(name, 40)
    if value is not None and value not in allowed:
        raise ApiError(400, _("Tham số %(p)s chỉ nhận: %(v)s.", p=name, v=", ".join(allowed)))
    return value


def _limit() -> int:
    found = _int("limit", 1, MAX_LIMIT)
    return DEFAULT_LIMIT if found is None else found


# -- keyset cursors ----------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="learnhub.api.cursor")


def _fingerprint(filters: dict) -> str:
    text = "&".join(f"{k}={'' if v is None else v}" for k, v in sorted(filters.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _cursor(resource: str, filters: dict, last_id: int) -> str:
    return _serializer().dumps([resource, _fingerprint(filters), last_id])


def _after(resource: str, filters: dict) -> int:
    """The id after which this page starts (0: the first page); 400 for a bad cursor."""
    value = request.args.get("after", "")
    if not value:
        return 0
    bad = ApiError(400, _("Tham số after không hợp lệ: hãy dùng giá trị next của trang trước."))
    if len(value) > 200:
        raise bad
    try:
        payload = _serializer().loads(value)
    except BadData:
        raise bad from None
    if not (
        isinstance(payload, list)
        and len(payload) == 3
        and payload[0] == resource
        and payload[1] == _fingerprint(filters)
        and isinstance(payload[2], int)
        and not isinstance(payload[2], bool)
        and payload[2] >= 0
    ):
        raise bad
    return payload[2]


def _page(resource: str, filters: dict, stmt: Select, id_column, render) -> Response:
    limit = _limit()
    after = _after(resource, filters)
    rows = db.session.execute(stmt.where(id_column > after).order_by(id_column).limit(limit + 1))
    rows = rows.all()
    more = len(rows) > limit
    rows = rows[:limit]
    following = _cursor(resource, filters, rows[-1].id) if more else None
    return jsonify(items=[render(row) for row in rows], next=following)


# -- shared pieces -----------------------------------------------------------------------------


def _owner() -> User:
    return g.api_user


def _iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat(timespec="seconds") if value is not None else None


def _number(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def _login(username: str | None, email: str | None) -> str:
    return username or email or ""


def _check_unit(code: str | None) -> None:
    if code is not None and units.by_code(code) is None:
        raise ApiError(400, _("Không có đơn vị với mã đã cho (tham số unit)."))


def _class_id(code: str | None) -> int | None:
    if code is None:
        return None
    found = db.session.scalar(select(TrainingClass.id).where(TrainingClass.code == code))
    if found is None:
        raise ApiError(400, _("Không có lớp với mã đã cho (tham số class)."))
    return found


def _check_class(code: str | None) -> None:
    """Like the records' class filter, the code is matched ignoring case."""
    wanted = func.lower(TrainingClass.code) == (code or "").lower()
    if (
        code is not None
        and db.session.scalar(select(TrainingClass.id).where(wanted).limit(1)) is None
    ):
        raise ApiError(400, _("Không có lớp với mã đã cho (tham số class)."))


def _check_module(slug: str | None) -> None:
    if slug is not None and db.session.scalar(select(Module.id).where(Module.slug == slug)) is None:
        raise ApiError(400, _("Không có chuyên đề với mã đã cho (tham số module)."))


# -- endpoints ---------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/units")
def unit_tree():
    ids = {u.id: u for u in units.tree()}

    def code(unit_id: int | None) -> str | None:
        return ids[unit_id].code if unit_id in ids else None

    items = [
        {
            "code": u.code,
            "name": u.name,
            "kind": str(u.kind),
            "parent": code(u.parent_id),
            "valid_from": u.valid_from.isoformat() if u.valid_from else None,
            "valid_to": u.valid_to.isoformat() if u.valid_to else None,
            "successor": code(u.successor_id),
        }
        for u in ids.values()
    ]
    return jsonify(items=items)


@bp.get("/completions")
def completions():
    filters = {
        "unit": _text("unit", 40),
        "from": _date("from"),
        "to": _date("to"),
        "module": _text("module"),
        "class": _text("class", 40),
        "status": _choice("status", COMPLETION_STATUSES),
        "q": _text("q"),
    }
    start, end = filters["from"], filters["to"]
    if start and end and end < start:
        raise ApiError(400, _("Ngày 'to' phải từ ngày 'from' trở đi."))
    _check_unit(filters["unit"])
    _check_module(filters["module"])
    _check_class(filters["class"])
    # The one definition of a completion record (reports.records): the same rows, statuses
    # and period as the records page and its exports; here they only become JSON.
    stmt = records.statement(
        records.Filters(
            unit=filters["unit"] or "",
            date_from=start,
            date_to=end,
            module=filters["module"] or "",
            klass=filters["class"] or "",
            status=RECORD_STATUS[filters["status"]] if filters["status"] else "",
            q=filters["q"] or "",
        ),
        _owner(),
    ).order_by(None)

    def render(row) -> dict:
        return {
            "id": row.id,
            "full_name": row.full_name,
            "login": row.login,
            "unit": row.unit_code,
            "class": row.class_code,
            "module": row.module_slug,
            "status": API_STATUS[row.status],
            "completed_at": _iso(row.completed_at),
            "score": _number(row.score),
            "attendance_share": _number(row.attendance_share),
            "certificate_number": row.certificate_no,
        }

    return _page("completions", filters, stmt, Enrolment.id, render)


@bp.get("/certificates")
def certificate_list():
    filters = {
        "year": _int("year", FIRST_YEAR, LAST_YEAR),
        "status": _choice("status", CERTIFICATE_STATUSES),
        "class": _text("class", 40),
    }
    on = today()
    stmt = (
        select(
            Certificate.id,
            Certificate.number_label,
            Certificate.serial,
            Certificate.code,
            Certificate.kind,
            # A confirmation's status is its certificate's.
            Certificate.effective_status.label("status"),
            Certificate.year,
            Certificate.issued_on,
            Certificate.valid_until,
            Certificate.revoked_at,
            User.full_name,
            User.username,
            User.email,
            OrgUnit.code.label("unit_code"),
            TrainingClass.code.label("class_code"),
            Module.slug,
        )
        .select_from(Certificate)
        .join(User, User.id == Certificate.user_id)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
        .join(TrainingClass, TrainingClass.id == Certificate.class_id)
        .join(Module, Module.id == TrainingClass.module_id)
    )
    stmt = stmt.where(policy.certificate_filter(_owner()))
    if filters["year"] is not None:
        stmt = stmt.where(Certificate.year == filters["year"])
    if (class_id := _class_id(filters["class"])) is not None:
        stmt = stmt.where(Certificate.class_id == class_id)
    lasting = or_(Certificate.valid_until.is_(None), Certificate.valid_until >= on)
    match filters["status"]:
        case "valid":
            stmt = stmt.where(Certificate.effective_status == CertStatus.valid, lasting)
        case "expired":
            stmt = stmt.where(Certificate.effective_status == CertStatus.valid, ~lasting)
        case "revoked" | "superseded":
            stmt = stmt.where(Certificate.effective_status == filters["status"])

    def state(row) -> str:
        if row.status != CertStatus.valid:
            return str(row.status)
        return "expired" if row.valid_until is not None and on > row.valid_until else "valid"

    def render(row) -> dict:
        return {
            "id": row.id,
            "number": row.number_label,
            "serial": row.serial,
            "kind": str(row.kind),
            "status": state(row),
            "year": row.year,
            "issued_on": row.issued_on.isoformat(),
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "revoked_at": _iso(row.revoked_at),
            "full_name": row.full_name,
            "login": _login(row.username, row.email),
            "unit": row.unit_code,
            "class": row.class_code,
            "module": row.slug,
            "verify_url": certificates.verify_url(row.code),
        }

    return _page("certificates", filters, stmt, Certificate.id, render)


# -- the token page (/account/tokens) ----------------------------------------------------------


class TokenForm(LearnHubForm):
    name = TextField(
        _l("Tên khóa"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Để nhận ra khóa sau này, ví dụ: Phần mềm quản lý cán bộ của Sở."),
    )
    expires_on = DateField(
        _l("Hết hạn sau ngày (dd/mm/yyyy, không bắt buộc)"),
        validators=[Optional()],
        description=_l("Để trống nếu khóa dùng đến khi bị thu hồi."),
    )


class RevokeForm(LearnHubForm):
    token_id = HiddenField(validators=[DataRequired()])


STATE_LABELS = {
    "active": _l("Đang dùng"),
    "expired": _l("Hết hạn"),
    "revoked": _l("Đã thu hồi"),
}


def _token_page(form: TokenForm, created: ApiToken | None = None, secret: str = ""):
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.tokens_of(current_user),
        today=today(),
        STATE_LABELS=STATE_LABELS,
        created=created,
        secret=secret,
        api_base=current_app.config["BASE_URL"].rstrip("/") + API_PREFIX,
    )


@tokens_bp.get("/account/tokens")
@role_required(Role.hr)
def index():
    return _token_page(TokenForm())


@tokens_bp.post("/account/tokens")
@role_required(Role.hr)
@fresh_auth_required
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create(
                current_actor(), current_user, form.name.data, form.expires_on.data, today()
            )
        except tokens.TokenError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            current_app.logger.info("api token %s created by user %s", token.id, current_user.id)
            # Shown in this answer only (never flashed: the session cookie is readable).
            return _token_page(TokenForm(formdata=None), created=token, secret=secret)
    return _token_page(form), 400


@tokens_bp.post("/account/tokens/revoke")
@role_required(Role.hr)
def revoke():
    form = RevokeForm()
    raw = (form.token_id.data or "").strip() if form.validate_on_submit() else ""
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        return _token_page(TokenForm(formdata=None)), 400
    token = tokens.revoke(current_actor(), current_user, int(raw), utcnow())
    if token is None:
        db.session.rollback()
        return _token_page(TokenForm(formdata=None)), 404
    db.session.commit()
    flash(_("Đã thu hồi khóa API “%(name)s”.", name=token.name), "success")
    return redirect(url_for(".index"))
