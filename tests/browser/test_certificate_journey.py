"""Step 5 journey: a trainer reviews a class, issues its certificates in the background and
watches the progress, downloads them as a ZIP; the learner downloads their own PDF on a phone."""

import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.attendance.models import Completion
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog import services as catalog
from learnhub.certificates.models import Issuer
from learnhub.classes import services as classes
from learnhub.timeutil import today, utcnow
from tests.browser.conftest import BROWSER_PASSWORD, expect

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def _sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/dashboard")


def test_issue_watch_and_download(app, live_server, browser, tmp_path):
    with app.app_context():
        trainer = accounts.find_by_login("browser-trainer")
        learner = accounts.find_by_login("browser-learner")
        tag = uuid.uuid4().hex[:6].upper()
        issuer = Issuer(
            code=f"B{tag}",
            name="SỞ NỘI VỤ",
            parent_name="UBND TỈNH CÀ MAU",
            place="Cà Mau",
            signer_title="GIÁM ĐỐC",
            signer_name="Nguyễn Văn Mẫu",
        )
        db.session.add(issuer)
        db.session.flush()
        training_class = classes.open_class(
            Actor(trainer),
            catalog.by_slug("hanh-trang-trinh-duyet"),
            classes.ClassData(
                code=f"GCN-{tag}",
                title="Lớp cấp giấy trên trình duyệt",
                # A class that ended last week, whatever the date the suite runs on.
                starts_on=today() - timedelta(days=8),
                ends_on=today() - timedelta(days=7),
            ),
            [trainer],
        )
        training_class.issuer_id = issuer.id
        others = [
            accounts.create_user(
                SYSTEM, full_name=f"Trần Thị Lớp {i}", login=f"gcn-{tag}-{i}", password=None
            )
            for i in range(4)
        ]
        classes.enrol(SYSTEM, training_class, [learner, *others])
        for user in [learner, *others[:3]]:  # the fourth has not completed
            db.session.add(
                Completion(
                    class_id=training_class.id,
                    user_id=user.id,
                    completed_at=utcnow(),
                    rule={},
                    score=Decimal("9"),
                    attendance_share=Decimal(1),
                )
            )
        db.session.commit()
        class_id = training_class.id
        db.session.remove()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = desk.new_page()
    _sign_in(page, live_server, "browser-trainer")
    page.goto(f"{live_server}/classes/{class_id}/certificates")
    expect(page.get_by_text("Trần Thị Lớp 3")).to_be_visible()
    expect(page.get_by_text("chưa đủ").first).to_be_visible()  # and why
    page.get_by_role("button", name="Cấp 4 giấy chứng nhận").click()
    page.wait_for_url("**/certificates/jobs/**")
    # The page refreshes itself; rendering four PDFs on a loaded machine takes its time.
    expect(page.get_by_text("Đã xong")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("4/4")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tất cả (ZIP)").click()
    path = tmp_path / "all.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == 4
        assert all(archive.read(n).startswith(b"%PDF") for n in names)
        year = today().year
        assert sorted(names) == [f"GCN/{n:03d}-{year}-GCN-B{tag}.pdf" for n in range(1, 5)]
    desk.close()

    phone = browser.new_context(viewport={"width": 360, "height": 740}, accept_downloads=True)
    mobile = phone.new_page()
    _sign_in(mobile, live_server, "browser-learner")
    mobile.goto(f"{live_server}/certificates/")
    with mobile.expect_download() as download:
        mobile.get_by_role("link", name="Tải PDF").first.click()
    assert download.value.suggested_filename.endswith(f"-GCN-B{tag}.pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    phone.close()
