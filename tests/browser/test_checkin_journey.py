"""Step 4 journey, two browser contexts: the trainer's projector shows a QR code; a learner's phone
opens the scanned URL, signs in, confirms and is checked in; an expired code is refused."""

import shutil
import subprocess
import time
import uuid
from datetime import time as dtime

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.attendance import checkin
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.timeutil import today
from tests.browser.conftest import BROWSER_PASSWORD, expect
from tests.support import require

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def _scan(page, shot) -> str:
    """What a phone's camera reads from the projector's QR code (a screenshot, zbarimg)."""
    page.locator(".qr").screenshot(path=str(shot))
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(shot)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()


def test_scan_sign_in_checked_in_and_expired_refused(app, live_server, browser, tmp_path):
    require(
        shutil.which("zbarimg") is not None, "zbarimg is not installed (apt-get install zbar-tools)"
    )
    with app.app_context():
        trainer = accounts.find_by_login("browser-trainer")
        learner = accounts.find_by_login("browser-learner")
        training_class = classes.open_class(
            Actor(trainer),
            catalog.by_slug("hanh-trang-trinh-duyet"),
            classes.ClassData(
                code=f"QR-{uuid.uuid4().hex[:6]}",
                title="Lớp quét mã",
                starts_on=today(),
                ends_on=today(),
            ),
            [trainer],
        )
        (session,) = classes.add_sessions(
            SYSTEM, training_class, today(), 1, dtime(0, 0), dtime(23, 59), 4
        )
        classes.enrol(SYSTEM, training_class, [learner])
        db.session.commit()
        session_id = session.id
        secret = app.config["SECRET_KEY"].encode()
        db.session.remove()

    projector = browser.new_context(viewport={"width": 1280, "height": 900})
    page = projector.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill("browser-trainer")
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/manage/sessions/{session_id}/qr")
    expect(page.locator(".qr svg")).to_be_visible()
    decoded = _scan(page, tmp_path / "qr.png")
    assert "/checkin/" in decoded
    scanned = live_server + decoded[decoded.index("/checkin/") :]
    # On a phone held up to the class (360 px) the code is scaled down whole, not clipped.
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    box = page.locator(".qr svg").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The drawn modules (the path) lie inside the SVG's box: scaled, not cut off at its edge.
    inside = page.evaluate(
        """() => {
            const svg = document.querySelector('.qr svg').getBoundingClientRect();
            const code = document.querySelector('.qr svg path').getBoundingClientRect();
            return [code.left >= svg.left, code.right <= svg.right + 0.5,
                    code.bottom <= svg.bottom + 0.5, code.width > 200];
        }"""
    )
    assert inside == [True, True, True, True]
    assert "/checkin/" in _scan(page, tmp_path / "qr-360.png")
    projector.close()

    phone = browser.new_context(viewport={"width": 360, "height": 740})
    mobile = phone.new_page()
    mobile.goto(scanned)
    mobile.get_by_label("Tên đăng nhập hoặc email").fill("browser-learner")
    mobile.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    mobile.get_by_role("button", name="Đăng nhập").click()
    mobile.wait_for_url("**/checkin/**")
    expect(mobile.get_by_text("Đã điểm danh")).to_be_visible()  # landed checked in, no extra tap

    expired = checkin.make_token(
        secret, session_id, time.time() - 600, app.config["CHECKIN_STEP_SECONDS"]
    )
    mobile.goto(f"{live_server}/checkin/{expired}")
    expect(mobile.get_by_text("Mã QR đã hết hạn")).to_be_visible()
    phone.close()
