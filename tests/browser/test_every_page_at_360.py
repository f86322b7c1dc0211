"""Every GET page each role can open (from the access matrix), at 360 px, in Vietnamese:
nothing wider than the screen, no English WTForms message, no number with a decimal point or in
scientific notation (issue 16, findings 1, 2 and 8).

The pages are those the access matrix (tests/core/test_access_matrix.py) expects to answer 200
to a role; their URLs are built by the matrix's own _url with real, committed objects (a class
the trainer runs, with the learner enrolled, a session with a record, a certificate, an issue
job and an attempt). Responses that are not HTML (PDF, XLSX, CSV, CSS, JSON, plain text) are
left out: they are files, not pages.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from random import Random

import pytest
import wtforms
from babel.messages.pofile import read_po

from learnhub import db
from learnhub.accounts import services as accounts
from learnhub.accounts.models import Role
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.services import SYSTEM, Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import Issuer
from learnhub.classes import services as classes
from learnhub.orgunits import services as units
from learnhub.quizzes import services as quiz_services
from learnhub.timeutil import utcnow
from tests.browser.conftest import BROWSER_PASSWORD
from tests.core.test_access_matrix import EXPECTED, ROLES, A, D, H, L, T, _url

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

WIDTH = 360

# -- what is looked for -----------------------------------------------------------------------


def _wtforms_messages() -> list[str]:
    """WTForms' English messages (validators and fields), from the catalogue template it ships,
    as the fixed text between their placeholders (the longest piece of each)."""
    pot = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"
    with pot.open("rb") as f:
        catalog = read_po(f)
    pieces = set()
    for message in catalog:
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            if not msgid:
                continue
            fixed = max(re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", msgid), key=len).strip()
            if len(fixed) >= 10:
                pieces.add(fixed)
    return sorted(pieces)


WTFORMS_ENGLISH = _wtforms_messages()

# Text that is written with dots or exponents by nature, removed before numbers are looked at:
EXCLUDED = [
    re.compile(r"\S+://\S+"),  # addresses (https://…/verify/…)
    re.compile(r"\S+@\S+"),  # e-mail addresses
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),  # IPv4 addresses in the audit log
    re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"),  # dates written with dots
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),  # times
    re.compile(r"\b[vV]\d+(?:\.\d+)+\b"),  # version numbers (v1.2.3)
    re.compile(r"\b\d+(?:\.\d+){2,}\b"),  # section or version numbers with two dots (1.2.3)
]
# A decimal point: digits, a dot, digits that are not a group of three (1.234 is Vietnamese for
# one thousand two hundred and thirty-four, so groups of three are thousands, not decimals).
DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.(?!\d{3}(?:\.\d{3})*(?![\d.]))\d+(?![\w.])")
# Scientific notation: 2E+1, 1.5e-3, 3e10, standing alone (not inside a code or a hash).
SCIENTIFIC = re.compile(r"(?<![\w.\-/])\d+(?:[.,]\d+)?[eE][+-]?\d+(?![\w.\-])")


def bad_numbers(text: str) -> list[str]:
    for pattern in EXCLUDED:
        text = pattern.sub(" ", text)
    return DECIMAL_POINT.findall(text) + SCIENTIFIC.findall(text)


def test_number_patterns():
    """The patterns find what issue 16 saw and leave dates, codes and thousands alone."""
    for text in ("5.0/10", "1.32/10", "8.57", "0.0 / 100.0", "(2E+1/20)", "Results: 2.93"):
        assert bad_numbers(text), text
    for text in (
        "8,57",
        "50,0%",
        "1.234 học viên",
        "12.345.678",
        "02/12/2026 08:30",
        "015/2026/GCN-SNV",
        "WJYDY-SH4YE",
        "127.0.0.1",
        "https://lms.camau.gov.vn/verify/ABC2E5",
        "nhung.nguyen@camau.gov.vn",
        "3e4f5a6b7c8d",
        "hv-47e392",  # a generated login
        "47E392-KH",  # a generated code
        "phiên bản v1.2",
        "Điều 1.2.3",
    ):
        assert bad_numbers(text) == [], text


# -- the pages --------------------------------------------------------------------------------


#: The controls people tap that are smaller than 24 x 24 CSS px (WCAG 2.2, 2.5.8): buttons,
#: fields, button-like links and the links that stand alone (the header's, a form's "no, go
#: back"); a checkbox or radio button counts with its label, which takes the tap too. Links
#: inside a sentence are exempt, as WCAG exempts them.
SMALL_TARGETS = """() => {
  const small = [];
  const wanted = 'button, select, textarea, input:not([type=hidden]), a.button, .tools a, form > a';
  for (const el of document.querySelectorAll(wanted)) {
    if (el.closest('.visually-hidden, .skip')) continue;
    let box = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      box = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    const r = box.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not shown
    if (r.width < 24 || r.height < 24) {
      const name = (el.innerText || el.value || el.name || el.type || '').trim().slice(0, 30);
      const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name}" ${size}`);
    }
  }
  return small;
}"""

PAGES = sorted(
    (role, endpoint)
    for (endpoint, method), statuses in EXPECTED.items()
    if method == "GET"
    for role, status in zip(ROLES, statuses, strict=True)
    if status == 200
)


@dataclass(frozen=True)
class Seen:
    url: str
    html: bool
    scroll_width: int = 0
    text: str = ""
    small_targets: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def world(app, live_server):
    """People of each role and the objects the matrix's URLs name, committed (the live server
    reads them): {role: (login, user)} and the matrix objects."""
    suffix = uuid.uuid4().hex[:6]
    with app.app_context():
        snv = units.by_code("CM-SNV")
        people = {}
        for role, name, grants, unit in (
            (L, "Nguyễn Thị Hồng Nhung", [accounts.Grant(Role.learner)], snv),
            (
                T,
                "Lê Văn Ửng",
                [
                    accounts.Grant(Role.trainer, None, every_unit=True),
                    accounts.Grant(Role.learner),
                ],
                units.by_code("CM-LHHN"),
            ),
            (H, "Phạm Thị Tổ Chức", [accounts.Grant(Role.hr, snv.id)], snv),
            (D, "Trần Hồng Quân", [accounts.Grant(Role.admin)], snv),
        ):
            people[role] = accounts.create_user(
                SYSTEM,
                full_name=name,
                login=f"w360-{role}-{suffix}",
                password=BROWSER_PASSWORD,
                roles=grants,
                unit=unit,
            )
        module = by_slug("doi-ngoai-nhan-dan")
        training_class = classes.open_class(
            Actor(people[T]),
            module,
            classes.ClassData(
                code=f"W360-{suffix}",
                title="Lớp bồi dưỡng đối ngoại nhân dân khóa II năm 2026",
                starts_on=date(2026, 3, 2),
                ends_on=date(2026, 3, 3),
                place="Hội trường Sở Nội vụ tỉnh Cà Mau",
            ),
            [people[T]],
        )
        classes.add_sessions(
            Actor(people[T]), training_class, date(2026, 3, 2), 2, time(7, 30), time(11), 4
        )
        classes.enrol(Actor(people[T]), training_class, [people[L]])
        db.session.add(
            AttendanceRecord(
                session_id=training_class.sessions[0].id,
                user_id=people[L].id,
                status=Status.present,
                method=Method.rollcall,
            )
        )
        db.session.add(
            Completion(
                class_id=training_class.id,
                user_id=people[L].id,
                completed_at=utcnow(),
                rule={},
                score=Decimal("8.57"),
                attendance_share=Decimal("0.875"),
            )
        )
        # Its own register: the default one stays as the rolled-back tests expect it.
        issuer = Issuer(
            code=f"W{suffix}"[:20].upper(),
            name="SỞ NỘI VỤ",
            place="Cà Mau",
            signer_title="GIÁM ĐỐC",
            signer_name="",
            unit_id=snv.id,  # HR of Sở Nội vụ manages the class's certificates
        )
        db.session.add(issuer)
        db.session.flush()
        training_class.issuer_id = issuer.id
        db.session.flush()
        cert = certificates.issue(Actor(people[T]), training_class, people[L], utcnow())
        job = jobs.start(Actor(people[T]), training_class, utcnow())
        quiz = quiz_services.ensure_quiz(module)
        attempt = quiz_services.start_attempt(quiz, people[L], utcnow(), Random(1))
        db.session.commit()
        urls = {}
        by_endpoint = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
        for _role, endpoint in PAGES:
            urls[endpoint] = _url(
                by_endpoint[endpoint],
                people,
                units.by_code,
                attempt,
                training_class,
                (cert, job),
            )
        logins = {role: user.login for role, user in people.items()}
        db.session.remove()
    return logins, urls


@pytest.fixture(scope="module")
def seen(browser, live_server, world):
    """Each (role, endpoint) page as a 360 px phone sees it, fetched once for every check."""
    logins, urls = world
    cache: dict[tuple[str, str], Seen] = {}
    contexts = {}

    def _context(role: str):
        if role not in contexts:
            context = browser.new_context(viewport={"width": WIDTH, "height": 740}, locale="vi-VN")
            page = context.new_page()
            if role != A:
                page.goto(f"{live_server}/login")
                page.get_by_label("Tên đăng nhập hoặc email").fill(logins[role])
                page.get_by_label("Mật khẩu").fill(BROWSER_PASSWORD)
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url("**/dashboard")
            contexts[role] = context, page
        return contexts[role][1]

    def _seen(role: str, endpoint: str) -> Seen:
        key = (role, endpoint)
        if key not in cache:
            page = _context(role)
            url = urls[endpoint]
            # Ask first: a PDF or a spreadsheet would start a download instead of a page.
            head = page.request.get(f"{live_server}{url}", max_redirects=0)
            kind = head.headers.get("content-type", "")
            head.dispose()
            if not kind.startswith("text/html"):
                cache[key] = Seen(url, html=False)
            else:
                response = page.goto(f"{live_server}{url}")
                assert response.status == 200, f"{url} as {role}: {response.status}"
                cache[key] = Seen(
                    url,
                    html=True,
                    scroll_width=page.evaluate("document.documentElement.scrollWidth"),
                    text=page.evaluate("document.body.innerText"),
                    small_targets=tuple(page.evaluate(SMALL_TARGETS)),
                )
        return cache[key]

    yield _seen
    for context, _page in contexts.values():
        context.close()


def _ids(pairs):
    return [f"{role}-{endpoint}" for role, endpoint in pairs]


@pytest.mark.parametrize(("role", "endpoint"), PAGES, ids=_ids(PAGES))
def test_finding8_nothing_wider_than_360(seen, role, endpoint):
    page = seen(role, endpoint)
    if page.html:
        assert page.scroll_width <= WIDTH, f"{page.url} as {role}: {page.scroll_width} px"


@pytest.mark.parametrize(("role", "endpoint"), PAGES, ids=_ids(PAGES))
def test_no_english_wtforms_message(seen, role, endpoint):
    page = seen(role, endpoint)
    found = [m for m in WTFORMS_ENGLISH if m in page.text]
    assert found == [], f"{page.url} as {role}"


@pytest.mark.parametrize(("role", "endpoint"), PAGES, ids=_ids(PAGES))
def test_no_decimal_point_or_scientific_notation(seen, role, endpoint):
    page = seen(role, endpoint)
    assert bad_numbers(page.text) == [], f"{page.url} as {role}"


@pytest.mark.parametrize(("role", "endpoint"), PAGES, ids=_ids(PAGES))
def test_controls_are_big_enough_to_tap(seen, role, endpoint):
    """Found walking at 360 px: the header's "English" and "Đăng xuất" 18 px tall, the lesson
    order arrows 8 px wide, number fields 21 px tall, checkboxes 13 px."""
    page = seen(role, endpoint)
    assert list(page.small_targets) == [], f"{page.url} as {role}"
