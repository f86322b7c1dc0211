"""Issue 13, Build 5: an admin (two-factor required) signs in with the password, is sent to enrol,
scans the QR code (decoded here with zbar), confirms with a code computed by the tests' own
RFC 6238 function, signs out, signs in with a code; a wrong and a replayed code are refused."""

import re
import shutil
import subprocess
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from werkzeug.serving import make_server

from learnhub import create_app, db
from learnhub.accounts import services
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.orgunits import services as units
from tests.browser.conftest import BROWSER_PASSWORD, expect
from tests.support import require, rfc6238

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


@pytest.fixture
def strict_server(app):
    """A server like production: admins must use two-factor sign-in."""
    strict = create_app({**app.config, "TOTP_REQUIRED_ROLES": ("admin",)})
    server = make_server("127.0.0.1", 0, strict, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    strict.extensions["learnhub.engine"].dispose()
    db.session.remove()
    db.session.configure(bind=app.extensions["learnhub.engine"])


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def _enter_code(page, code):
    page.get_by_label("Mã xác thực").fill(code)
    page.get_by_role("button", name="Tiếp tục").click()


def test_admin_enrols_by_qr_then_signs_in_with_a_code(app, strict_server, phone, tmp_path):
    require(
        shutil.which("zbarimg") is not None, "zbarimg is not installed (apt-get install zbar-tools)"
    )
    login = f"browser-2fa-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        services.create_user(
            SYSTEM,
            full_name="Phạm Thị Thu Hà",
            login=login,
            password=BROWSER_PASSWORD,
            roles=[services.Grant(Role.admin)],
            unit=units.by_code("CM-SNV"),
        )
        db.session.commit()
        db.session.remove()
    base = strict_server
    page = phone.new_page()

    # The password is right, but an admin goes nowhere before enrolling.
    _sign_in(page, base, login)
    page.wait_for_url(f"{base}/account/two-factor")
    page.goto(f"{base}/admin/users/")
    page.wait_for_url(f"{base}/account/two-factor")
    page.get_by_role("button", name="Bật xác thực hai bước").click()
    expect(page.locator(".qr svg")).to_be_visible()

    shot = tmp_path / "totp-qr.png"
    page.locator(".qr").screenshot(path=str(shot))
    uri = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(shot)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == f"/LearnHub:{login}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["issuer"] == "LearnHub"
    assert (query["algorithm"], query["digits"], query["period"]) == ("SHA1", "6", "30")
    secret = query["secret"]
    # The same secret is printed for typing it in by hand.
    spaced = re.compile(r"^\s*" + r"\s*".join(secret) + r"\s*$")
    expect(page.locator("#totp-secret")).to_have_text(spaced)

    page.get_by_label("Mã xác thực").fill(rfc6238(secret, time.time()))
    page.get_by_role("button", name="Xác nhận và bật").click()
    expect(page.get_by_role("heading", name="Mã khôi phục")).to_be_visible()
    expect(page.locator(".recovery-codes code")).to_have_count(10)
    page.get_by_role("link", name="Tôi đã lưu các mã, tiếp tục").click()
    page.wait_for_url(f"{base}/dashboard")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{base}/login")

    # Second sign-in: the password leads to the code step; a wrong code is refused.
    _sign_in(page, base, login)
    page.wait_for_url(f"{base}/login/two-factor")
    now = time.time()
    current = {rfc6238(secret, now + d) for d in (-30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in current)
    _enter_code(page, wrong)
    expect(page.get_by_text("Mã xác thực không đúng hoặc đã được dùng.")).to_be_visible()
    expect(page).to_have_url(f"{base}/login/two-factor")

    # The enrolment code's time step is spent: the next step's code (within the ±1 drift) works.
    code = rfc6238(secret, time.time() + 30)
    _enter_code(page, code)
    page.wait_for_url(f"{base}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Phạm Thị Thu Hà")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{base}/login")

    # The same code again (a replay) is refused.
    _sign_in(page, base, login)
    page.wait_for_url(f"{base}/login/two-factor")
    _enter_code(page, code)
    expect(page.get_by_text("Mã xác thực không đúng hoặc đã được dùng.")).to_be_visible()
    page.goto(f"{base}/dashboard")
    page.wait_for_url(f"{base}/login**")
