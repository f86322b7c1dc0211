"""The offline verifier on a phone: a QR code's token is checked in the browser (WebCrypto Ed25519)
with the key embedded in the page; a changed character fails; checking sends nothing anywhere."""

import base64
import json
import uuid
from datetime import date

import pytest

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.audit.services import SYSTEM, Actor
from learnhub.certificates import services as certificates
from learnhub.certificates import signing
from learnhub.certificates.models import Issuer
from learnhub.orgunits import services as units
from learnhub.timeutil import utcnow
from tests.browser.conftest import expect
from tests.certificates.conftest import complete, open_class

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

NAME = "Lê Thị Ánh Tuyết"
RESULT = "#verifier[data-result]"


@pytest.fixture
def issued(app, live_server):
    """A certificate issued and committed (the live server reads it): (code, QR text)."""
    with app.app_context():
        suffix = uuid.uuid4().hex[:8]
        trainer = accounts.find_by_login("browser-trainer")
        user = accounts.create_user(
            SYSTEM,
            full_name=NAME,
            login=f"verify-{suffix}",
            birth_date=date(1992, 11, 23),
            unit=units.by_code("CM-SNV"),
        )
        training_class = open_class(trainer, code=f"GCN-{suffix}")
        # Its own issuer, so that this committed certificate takes no number from the default
        # issuer's register (tests elsewhere count on that one). The configured default issuer
        # is made first, so that this one can never be taken for it.
        certificates.default_issuer()
        issuer = Issuer(
            code=f"V{suffix[:6].upper()}",
            name="SỞ NỘI VỤ",
            parent_name="UBND TỈNH CÀ MAU",
            place="Cà Mau",
            signer_title="GIÁM ĐỐC",
            signer_name="",
        )
        db.session.add(issuer)
        db.session.flush()
        training_class.issuer_id = issuer.id
        complete(training_class, user)
        cert = certificates.issue(Actor(None), training_class, user, utcnow())
        db.session.commit()
        found = cert.code, certificates.qr_text(cert)
        db.session.remove()
    return found


def _change_one(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def _forged(token: str) -> str:
    """The same signature over a payload whose name was changed."""
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["n"] = "Nguyễn Văn Giả Mạo"
    body = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    forged = base64.urlsafe_b64encode(body.encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


def _script_error(message) -> bool:
    # A missing /favicon.ico is reported as a console error too; it is not the page's fault.
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def _verify_pasted(page, text: str) -> str:
    """Paste *text*, check it, and return the verdict once the page shows one. (Submitting
    removes the previous verdict at once, in the form's submit handler; the check itself is
    asynchronous, so the new verdict is waited for.)"""
    page.get_by_label("Nội dung mã QR").fill(text)
    page.get_by_role("button", name="Kiểm tra chữ ký").click()
    page.wait_for_selector(RESULT, state="attached")
    return page.locator("#verifier").get_attribute("data-result")


def test_offline_verification_in_the_browser(live_server, phone, issued):
    code, qr = issued
    token = signing.token_from(qr)
    page = phone.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if _script_error(m) else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # The QR code's URL opened on the offline page: checked at load.
    page.goto(f"{live_server}/verify/offline#{token}")
    expect(page.locator("#verifier")).to_have_attribute("data-result", "valid")
    expect(page.get_by_text("Chữ ký số hợp lệ")).to_be_visible()
    claims = page.locator("dl.verify-facts")
    expect(claims).to_be_visible()
    expect(claims).to_contain_text(NAME)
    expect(claims).not_to_contain_text("23/11/1992")  # minimum personal data (finding 9)
    expect(page.locator("[data-online-link]")).to_have_attribute("href", f"/verify/{code}")
    expect(page.get_by_text("chỉ kiểm tra chữ ký số")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # From here on, checking must not reach the network at all.
    sent = []
    page.on("request", lambda request: sent.append(request.url))

    head, payload, sig = token.split(".")
    assert _verify_pasted(page, f"{head}.{payload}.{_change_one(sig, 20)}") == "invalid"
    expect(page.get_by_text("KHÔNG HỢP LỆ").first).to_be_visible()
    expect(page.locator("dl.verify-facts")).not_to_be_visible()

    assert _verify_pasted(page, _forged(token)) == "invalid"
    expect(page.get_by_text("Giả Mạo")).not_to_be_visible()

    broken = _verify_pasted(page, f"{head}.{_change_one(payload, 10)}.{sig}")
    assert broken in ("invalid", "malformed")
    expect(page.get_by_text("KHÔNG HỢP LỆ").first).to_be_visible()

    assert _verify_pasted(page, "https://example.org/not-a-certificate") == "malformed"

    # The whole QR text (URL and fragment) pasted: valid again.
    assert _verify_pasted(page, qr) == "valid"
    expect(page.locator("dl.verify-facts")).to_contain_text(NAME)

    assert sent == []
    assert problems == []  # no CSP violation, no script error


def test_online_page_checks_the_qr_fragment(live_server, phone, issued):
    code, qr = issued
    token = signing.token_from(qr)
    page = phone.new_page()
    page.goto(f"{live_server}/verify/{code}#{token}")
    expect(page.get_by_text(NAME)).to_be_visible()
    expect(page.locator("#verifier")).to_have_attribute("data-result", "valid")
    expect(page.locator("[data-show=valid]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    head, payload, sig = token.split(".")
    page.goto(f"{live_server}/verify/{code}#{head}.{payload}.{_change_one(sig, 20)}")
    page.reload()  # a fragment-only change does not load the page again
    expect(page.locator("#verifier")).to_have_attribute("data-result", "invalid")
