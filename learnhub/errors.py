"""Error pages: friendly, generic, never a traceback; a correlation id ties them to the log."""

import secrets

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và thử lại."),
    401: ("Cần đăng nhập", "Vui lòng đăng nhập để tiếp tục."),
    403: ("Không có quyền", "Bạn không có quyền truy cập trang này."),
    404: ("Không tìm thấy", "Trang hoặc dữ liệu bạn tìm không tồn tại."),
    405: ("Phương thức không được hỗ trợ", "Thao tác này không được hỗ trợ ở địa chỉ này."),
    409: ("Xung đột", "Dữ liệu đã thay đổi trong lúc bạn thao tác. Vui lòng tải lại trang."),
    413: ("Tệp quá lớn", "Tệp hoặc dữ liệu gửi lên vượt quá giới hạn cho phép."),
    429: ("Quá nhiều yêu cầu", "Bạn thao tác quá nhanh. Vui lòng đợi một lát rồi thử lại."),
    500: ("Lỗi hệ thống", "Đã có lỗi xảy ra. Chúng tôi đã ghi nhận; vui lòng thử lại sau."),
}


def _page(code: int, title: str, message: str, ref: str = ""):
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": title, "message": message, "ref": ref}, code
    return render_template(
        "errors/error.html", code=code, title=title, message=message, ref=ref
    ), code


def _http_error(exc: HTTPException):
    code = exc.code or 500
    title, message = MESSAGES.get(code, (exc.name, exc.description or ""))
    return _page(code, title, message)


def _csrf_error(exc: CSRFError):
    return _page(
        400,
        "Phiên biểu mẫu đã hết hạn",
        "Trang đã mở quá lâu hoặc phiên đăng nhập đã thay đổi. Hãy tải lại trang và gửi lại; "
        "các câu trả lời đã lưu trước đó không bị mất.",
    )


def _server_error(exc: Exception):
    ref = secrets.token_hex(6)
    original = getattr(exc, "original_exception", None) or exc
    current_app.logger.error("unhandled error ref=%s path=%s", ref, request.path, exc_info=original)
    title, message = MESSAGES[500]
    return _page(500, title, message, ref)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
