"""Public verification: what a valid, expired, revoked or superseded certificate shows; unknown
and malformed codes look alike; the per-address rate limit; the public key; never a PDF."""

import base64
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest

from learnhub import db, pdf, ratelimit
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.certificates import signing
from learnhub.certificates import verify as verify_views
from learnhub.certificates.models import REVOKE_LABELS, RevokeReason
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete
from tests.support import freeze_clock

CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]+(")')


def _issue(klass, user):
    complete(klass, user)
    return certificates.issue(Actor(None), klass, user, utcnow())


def _ip() -> str:
    """A fresh client address per test: hits committed by other tests cannot count against it."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _get(client, path: str, ip: str | None = None):
    response = client.get(path, environ_base={"REMOTE_ADDR": ip or _ip()})
    body = response.get_data(as_text=True)
    response.close()
    return response, body


def utc(*args: int) -> datetime:
    """A naive UTC datetime, as stored."""
    return datetime(*args, tzinfo=UTC).replace(tzinfo=None)


def _random_code() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


@pytest.fixture
def no_pdf(monkeypatch):
    """Call it once the certificates are issued: any PDF rendering after that fails the test."""

    def _refuse(*args, **kwargs):
        raise AssertionError("the verification pages must never render a PDF")

    return lambda: monkeypatch.setattr(pdf, "render", _refuse)


def test_valid_certificate_shows_the_minimum(client, klass, create_user, unit, no_pdf):
    learner = create_user(
        "nhung.nguyen",
        full_name="Nguyễn Thị Hồng Nhung",
        email="nhung.nguyen@camau.gov.vn",
        unit=unit("X-CAI-NUOC"),
        position="Chuyên viên phòng Hợp tác quốc tế",
    )
    cert = _issue(klass, learner)
    no_pdf()
    response, body = _get(client, f"/verify/{cert.code}")
    assert response.status_code == 200
    assert learner.full_name in body
    assert cert.number_label in body
    assert cert.serial in body
    assert cert.issued_on.strftime("%d/%m/%Y") in body
    assert cert.data["module_title"] in body
    assert cert.data["issuer"]["name"] in body
    assert "đang có hiệu lực" in body
    assert 'href="/verify/offline"' in body
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    # Nothing that identifies the account or the workplace.
    assert learner.unit.name not in body
    assert learner.email not in body
    assert "nhung.nguyen" not in body
    assert learner.position not in body
    assert f"/certificates/{cert.id}" not in body


def test_finding9_public_page_hides_the_birth_date(client, klass, create_user, no_pdf):
    """Minimum personal data (Luật Bảo vệ dữ liệu cá nhân 2025, Nghị định 13/2023/NĐ-CP): name,
    certificate, course, dates and status, never the holder's date of birth."""
    user = create_user(full_name="Trần Hồng Quân", birth_date=date(1990, 3, 7))
    cert = _issue(klass, user)
    no_pdf()
    _, body = _get(client, f"/verify/{cert.code}")
    assert "Trần Hồng Quân" in body
    assert cert.data["module_title"] in body
    assert cert.issued_on.strftime("%d/%m/%Y") in body
    assert "07/03/1990" not in body
    assert "1990" not in body
    assert "Ngày sinh" not in body
    _, offline = _get(client, "/verify/offline")
    assert "Ngày sinh" not in offline


def test_finding9_serial_and_register_number_as_printed_find_it(client, klass, learner, no_pdf):
    cert = _issue(klass, learner)
    no_pdf()
    serial = cert.serial  # "WJYDY-SH4YE" as printed
    label = cert.number_label  # "001/2026/GCN-…"
    typed = [
        serial,
        serial.lower(),
        serial.replace("-", " "),
        f"  {serial.replace('-', '')}  ",
        label,
        label.lower(),
        label.replace("/", " / "),
        cert.code,
    ]
    for text in typed:
        response, _ = _get(client, f"/verify?code={quote(text, safe='')}")
        assert response.status_code == 302, text
        assert response.headers["Location"] == f"/verify/{cert.code}", text


def test_finding9_unknown_printed_number_is_not_found(client, klass, learner, no_pdf):
    _issue(klass, learner)
    no_pdf()
    for text in ("AAAAA-AAAAA", "999/1999/GCN-XYZ"):
        response, body = _get(client, f"/verify?code={quote(text, safe='')}")
        assert response.status_code == 404, text
        assert text not in body


def test_expired_certificate(client, klass, learner, no_pdf):
    cert = _issue(klass, learner)
    no_pdf()
    cert.valid_until = date(2020, 1, 31)
    db.session.flush()
    response, body = _get(client, f"/verify/{cert.code}")
    assert response.status_code == 200
    assert "Hết thời hạn" in body
    assert "31/01/2020" in body
    assert "đang có hiệu lực" not in body


def test_revoked_shows_date_and_reason_category_never_the_note(client, klass, learner, no_pdf):
    cert = _issue(klass, learner)
    note = "Ghi chú nội bộ: học viên nhờ người thi hộ"
    certificates.revoke(Actor(None), cert, RevokeReason.fraud, note, utc(2026, 2, 3, 3, 0))
    db.session.flush()
    no_pdf()
    response, body = _get(client, f"/verify/{cert.code}")
    assert response.status_code == 200
    assert "đã bị thu hồi" in body
    assert "03/02/2026" in body
    assert str(REVOKE_LABELS[RevokeReason.fraud]) in body
    assert "thi hộ" not in body
    assert "đang có hiệu lực" not in body


def test_superseded_names_the_reissued_certificate(client, klass, learner, no_pdf):
    cert = _issue(klass, learner)
    new = certificates.reissue(Actor(None), cert, utcnow(), "Sai ngày sinh")
    db.session.flush()
    no_pdf()
    response, body = _get(client, f"/verify/{cert.code}")
    assert response.status_code == 200
    assert "đã được thay thế" in body
    assert new.number_label in body
    assert new.code not in body  # the new certificate's key stays with its holder
    _, new_body = _get(client, f"/verify/{new.code}")
    assert "đang có hiệu lực" in new_body


def test_lower_case_code_with_dashes_and_spaces_still_finds_it(client, klass, learner):
    cert = _issue(klass, learner)
    typed = "-".join(cert.code[i : i + 4] for i in range(0, len(cert.code), 4)).lower()
    response, body = _get(client, f"/verify/{typed}")
    assert response.status_code == 200
    assert cert.number_label in body
    for query in (typed.replace("-", "+"), quote(certificates.qr_text(cert), safe="")):
        response, _ = _get(client, f"/verify?code={query}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/verify/{cert.code}"


def test_form(client):
    response, body = _get(client, "/verify")
    assert response.status_code == 200
    assert 'name="code"' in body
    response, body = _get(client, "/verify?code=")
    assert response.status_code == 200
    assert "Vui lòng nhập mã tra cứu" in body


def _generic(body: str) -> str:
    return CSRF_VALUE.sub(r"\1-\2", body)


def test_unknown_and_malformed_codes_look_the_same(client, klass, learner, no_pdf):
    _issue(klass, learner)  # the register is not empty
    no_pdf()
    codes = [
        _random_code(),
        "x",
        "' OR 1=1 --",
        "%27%20OR%201%3D1%20--",
        "A" * 5000,
        '"><img src=x onerror=alert(1)>',
        "ĐÂY-LÀ-MÃ",
    ]
    bodies = set()
    for code in codes:
        response, body = _get(client, f"/verify/{code}")
        assert response.status_code == 404, code
        assert "Không tìm thấy giấy chứng nhận" in body
        bodies.add(_generic(body))
    assert len(bodies) == 1
    # A slash cannot be part of a code: the path is simply not a verification page.
    response, _ = _get(client, "/verify/AB/CD")
    assert response.status_code == 404


def test_rate_limit_per_address(app, client, monkeypatch, no_pdf):
    no_pdf()
    # A fixed clock: the loop must not cross into the next one-minute window.
    monkeypatch.setattr(verify_views, "utcnow", lambda: utc(2026, 5, 4, 10, 30, 15))
    limit = app.config["VERIFY_RATE_LIMIT"]
    ip = _ip()
    statuses = []
    for _ in range(1000):
        response, body = _get(client, f"/verify/{_random_code()}", ip)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "45"
            assert "quá nhiều lần" in body
    assert statuses == [404] * limit + [429] * (1000 - limit)
    response, _ = _get(client, f"/verify/{_random_code()}", _ip())
    assert response.status_code == 404  # another address is not limited


def test_rate_limit_follows_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", 3)  # restored after the test
    freeze_clock(monkeypatch, utcnow())  # on a running clock a minute can turn in between
    ip = _ip()
    statuses = [_get(client, f"/verify/{_random_code()}", ip)[0].status_code for _ in range(5)]
    assert statuses == [404] * 3 + [429] * 2


def test_rate_window_resets_and_a_lagging_clock_does_not_reset_it(db_session):
    key = f"test:{secrets.token_hex(4)}"
    minute = timedelta(minutes=1)
    t0 = utc(2026, 5, 4, 10, 30, 5)
    assert [ratelimit.hit(key, 2, minute, t0) for _ in range(3)] == [True, True, False]
    later = t0 + minute
    assert ratelimit.hit(key, 2, minute, later)
    assert ratelimit.hit(key, 2, minute, t0)  # a server whose clock lags counts into the new one
    assert not ratelimit.hit(key, 2, minute, later)
    row = db_session.get(ratelimit.RateWindow, key)
    db_session.refresh(row)
    assert row.hits == 3
    assert row.window_start == utc(2026, 5, 4, 10, 31)
    assert ratelimit.retry_after(minute, utc(2026, 5, 4, 10, 31, 59, 500)) == 1
    assert ratelimit.purge(utc(2026, 5, 4, 10, 32)) >= 1
    assert db_session.get(ratelimit.RateWindow, key) is None


def test_public_key_verifies_the_qr_payload(client, klass, learner, no_pdf):
    cert = _issue(klass, learner)
    no_pdf()
    response, pem = _get(client, "/verify/key")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    public = signing.load_public_key(pem)
    checked = signing.verify(public, certificates.qr_text(cert))
    assert checked.valid
    assert checked.claims["c"] == cert.code
    assert checked.claims["n"] == learner.full_name
    token = signing.token_from(certificates.qr_text(cert))
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{sig}"
    assert not signing.verify(public, tampered).valid


def test_offline_page_embeds_the_key_and_no_inline_script(client, no_pdf):
    no_pdf()
    response, body = _get(client, "/verify/offline")
    assert response.status_code == 200
    raw = signing.public_raw(certificates.signing_key())
    assert f'data-key="{raw}"' in body
    assert '<script src="/static/js/verify-offline.js' in body
    assert "<script>" not in body
    assert " style=" not in body
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "chỉ kiểm tra chữ ký số" in body


def test_a_new_signing_key_is_announced_once(tmp_path, caplog):
    """A key created on first use is logged loudly (every server must share the same file);
    loading it again says nothing and gives the same key."""
    path = tmp_path / "keys" / "signing.pem"
    with caplog.at_level("WARNING", logger="learnhub.certificates.signing"):
        first = signing.load_private_key(path)
        again = signing.load_private_key(path)
    created = [r for r in caplog.records if "new certificate signing key" in r.getMessage()]
    assert len(created) == 1
    assert str(path) in created[0].getMessage()
    assert signing.public_pem(first) == signing.public_pem(again)
    assert path.stat().st_mode & 0o777 == 0o600
