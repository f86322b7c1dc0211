"""axe-core (from the npm registry, see the Makefile) finds no serious or critical violation on
the main pages of each role, in Vietnamese, at phone width and on a desktop."""

from pathlib import Path

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.audit.services import SYSTEM
from learnhub.catalog import services as catalog
from learnhub.orgunits import services as units
from tests.browser.conftest import BROWSER_PASSWORD
from tests.support import require

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

AXE = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules" / "axe-core"
AXE_JS = AXE / "axe.min.js"

PAGES = {
    None: ["/login", "/verify", "/verify/offline"],
    "browser-learner": [
        "/dashboard",
        "/modules/",
        "/modules/hanh-trang-trinh-duyet",
        "/modules/hanh-trang-trinh-duyet/lessons/bai-mot",
        "/classes/",
        "/certificates/",
        "/account/password",
    ],
    "browser-trainer": ["/dashboard", "/manage/modules/", "/manage/classes/", "/register/"],
    "browser-hr": ["/dashboard", "/reports/records", "/reports/units", "/reports/people"],
    "browser-admin": ["/admin/users/", "/admin/units/", "/admin/audit/", "/admin/issuers/"],
}


@pytest.fixture
def hr_user(app):
    with app.app_context():
        if accounts.find_by_login("browser-hr") is None:
            accounts.create_user(
                SYSTEM,
                full_name="Phạm Thị Tổ Chức",
                login="browser-hr",
                password=BROWSER_PASSWORD,
                roles=[accounts.Grant(Role.hr, units.by_code("CM-SNV").id)],
                unit=units.by_code("CM-SNV"),
            )
            db.session.commit()
        assert catalog.by_slug("hanh-trang-trinh-duyet") is not None
        db.session.remove()


@pytest.mark.parametrize("width", [360, 1280])
def test_no_serious_violations(live_server, browser, hr_user, width):
    require(AXE_JS.exists(), "axe-core is not installed (make test installs it with npm)")
    found = []
    for login, paths in PAGES.items():
        # The pages' CSP forbids injected scripts: only the checker's context bypasses it.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        if login:
            page.goto(f"{live_server}/login")
            page.get_by_label("Tên đăng nhập hoặc email").fill(login)
            page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url("**/dashboard")
        for path in paths:
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, f"{path} as {login}: {response.status}"
            page.add_script_tag(path=str(AXE_JS))
            violations = page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ["violations"]}))
                    .violations.filter(v => ["serious", "critical"].includes(v.impact))
                    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3)
                        .map(n => n.target.join(" ")).join(", ")}`)"""
            )
            found += [f"{width}px {path} as {login or 'anonymous'}: {v}" for v in violations]
        context.close()
    assert found == []
