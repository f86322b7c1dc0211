"""Error pages: friendly, generic, never a traceback; a correlation id ties them to the log."""

import secrets

from flask import Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from learnhub import db
from learnhub.i18n import select_locale

#: Each status's page title and message, in the reader's language (lazy: read per request).
MESSAGES = {
    400: (
        _l("Yêu cầu không hợp lệ"),
        _l("Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và thử lại."),
    ),
    401: (_l("Cần đăng nhập"), _l("Vui lòng đăng nhập để tiếp tục.")),
    403: (_l("Không có quyền"), _l("Bạn không có quyền truy cập trang này.")),
    404: (_l("Không tìm thấy"), _l("Trang hoặc dữ liệu bạn tìm không tồn tại.")),
    405: (_l("Phương thức không được hỗ trợ"), _l("Thao tác này không được hỗ trợ ở địa chỉ này.")),
    409: (
        _l("Xung đột"),
        _l("Dữ liệu đã thay đổi trong lúc bạn thao tác. Vui lòng tải lại trang."),
    ),
    413: (_l("Tệp quá lớn"), _l("Tệp hoặc dữ liệu gửi lên vượt quá giới hạn cho phép.")),
    429: (_l("Quá nhiều yêu cầu"), _l("Bạn thao tác quá nhanh. Vui lòng đợi một lát rồi thử lại.")),
    503: (
        _l("Hệ thống tạm thời gián đoạn"),
        _l(
            "Cơ sở dữ liệu đang khởi động lại hoặc quá tải. Dữ liệu đã lưu không bị mất; "
            "vui lòng thử lại sau ít giây."
        ),
    ),
    500: (_l("Lỗi hệ thống"), _l("Đã có lỗi xảy ra. Chúng tôi đã ghi nhận; vui lòng thử lại sau.")),
}


def _page(code: int, title: str, message: str, ref: str = ""):
    title, message = str(title), str(message)  # lazy strings: in the request's language
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": title, "message": message, "ref": ref}, code
    return render_template(
        "errors/error.html", code=code, title=title, message=message, ref=ref
    ), code


def _http_error(exc: HTTPException):
    code = exc.code or 500
    # A status without its own words gets its class's (never werkzeug's English name).
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return _page(code, title, message)


def _csrf_error(exc: CSRFError):
    return _page(
        400,
        _l("Phiên biểu mẫu đã hết hạn"),
        _l(
            "Trang đã mở quá lâu hoặc phiên đăng nhập đã thay đổi. Hãy tải lại trang và gửi "
            "lại; các câu trả lời đã lưu trước đó không bị mất."
        ),
    )


def discard_transaction() -> None:
    """End whatever the failed request left in the session (a failed flush leaves it unusable:
    every later query, the page's own included, would raise PendingRollbackError)."""
    try:
        db.session.rollback()
    except DBAPIError:  # the connection died with its transaction: let the pool replace it
        db.session.invalidate()


def _server_error(exc: Exception):
    ref = secrets.token_hex(6)
    original = getattr(exc, "original_exception", None) or exc
    current_app.logger.error("unhandled error ref=%s path=%s", ref, request.path, exc_info=original)
    discard_transaction()  # before rendering: the page reads the signed-in user
    title, message = MESSAGES[500]
    return _page(500, title, message, ref)


#: SQLite errors that mean "try again later" rather than a bug (its OperationalError also
#: covers mistakes such as "no such column", which stay 500s).
SQLITE_TRANSIENT = (
    "database is locked",
    "unable to open database",
    "disk i/o error",
    "database or disk is full",
)


def unavailable(exc: DBAPIError) -> bool:
    """Whether *exc* means the database is out of reach for now (a 503 to retry), not a bug."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(text in str(exc.orig).lower() for text in SQLITE_TRANSIENT)
    return True  # psycopg: OperationalError is a connection or server-state failure


def _database_unavailable(exc: DBAPIError):
    """The database went away (restart, failover, network): a 503 the client may retry, not a
    500. The session's transaction is rolled back; the pool has already dropped the dead
    connection (pool_pre_ping replaces the others on their next checkout)."""
    if not unavailable(exc):
        raise exc  # a bug, not an outage: Flask's usual 500 handling (and logging) applies
    discard_transaction()
    ref = secrets.token_hex(6)
    current_app.logger.warning("database unavailable ref=%s path=%s: %s", ref, request.path, exc)
    title, message = MESSAGES[503]
    headers = {"Retry-After": "5"}
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": title, "message": message, "ref": ref}, 503, headers
    # Rendered without the context processors: Flask-Login's would load the user again, from
    # the database that is not there.
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(
        title=title, message=message, ref=ref, path=request.path, current_lang=select_locale()
    )
    return page, 503, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
