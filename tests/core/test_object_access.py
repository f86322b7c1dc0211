"""Object-level access: every route that takes an id (or a code), asked for objects that belong to
another learner, another class and another unit, by each role that should not have them; the API
with tokens; the exports. The answers are the ones docs/access.md writes down.

A new route with a converter fails test_every_route_with_an_id_has_an_entry until it has one.
"""

import io
import logging
import random
import unicodedata
import zipfile
from datetime import date, time
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.api import tokens
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.classes import services as classes
from learnhub.quizzes import services as quiz_services
from learnhub.timeutil import today, utcnow
from tests.api import api_get, new_token
from tests.support import csrf_token

#: The learner whose objects everyone below asks for: of another unit (Xã Thới Bình), in a class
#: nobody below runs. Their name and date of birth must appear nowhere they are refused.
VICTIM_NAME = "Lê Thị Bí Mật"
VICTIM_BORN = date(1987, 6, 5)
VICTIM_BORN_TEXT = "05/06/1987"

ROLES = ("learner", "trainer", "hr", "admin")

# (endpoint, method) -> the status for: a learner (not in the class); a trainer who does not run
# the class (trainer rights limited to another unit); an HR officer of another unit (Sở Nội vụ,
# which is the class's issuing unit); an admin. 302 from a POST is a redirect after a refusal
# message or after success (admin); 400 is a POST without its form. Routes of public or
# non-object pages (verification by code, catalogue by slug, static files) are listed too, so
# that every route with a converter is decided.
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("static", "GET"): (200, 200, 200, 200),
    # Administration: admins only (403 for staff pages by role, before any object is read).
    ("admin_users.show", "GET"): (403, 403, 403, 200),
    ("admin_users.update", "POST"): (403, 403, 403, 400),
    ("admin_users.roles", "POST"): (403, 403, 403, 400),
    ("admin_users.reset_password", "POST"): (403, 403, 403, 400),
    ("admin_users.set_enabled", "POST"): (403, 403, 403, 302),
    ("admin_users.end_sessions", "POST"): (403, 403, 403, 302),
    ("admin_users.reset_two_factor", "POST"): (403, 403, 403, 302),
    ("roster.confirm", "POST"): (403, 403, 403, 404),
    ("orgunits.edit", "GET"): (403, 403, 403, 200),
    ("orgunits.edit", "POST"): (403, 403, 403, 200),
    ("issuers.edit", "GET"): (403, 403, 403, 200),
    ("issuers.edit", "POST"): (403, 403, 403, 200),
    # The catalogue: published modules are for every signed-in user.
    ("catalog.show", "GET"): (200, 200, 200, 200),
    ("catalog.lesson", "GET"): (200, 200, 200, 200),
    ("catalog.mark_read", "POST"): (302, 302, 302, 302),
    ("catalog.asset", "GET"): (404, 404, 404, 404),
    # Authoring: a module's editors only (403: authoring pages are staff pages).
    ("manage.module", "GET"): (403, 403, 403, 200),
    ("manage.update", "POST"): (403, 403, 403, 400),
    ("manage.lesson", "GET"): (403, 403, 403, 200),
    ("manage.lesson", "POST"): (403, 403, 403, 302),
    ("manage.new_lesson", "GET"): (403, 403, 403, 200),
    ("manage.new_lesson", "POST"): (403, 403, 403, 200),
    ("manage.move", "POST"): (403, 403, 403, 302),
    ("manage.upload", "POST"): (403, 403, 403, 302),
    ("manage.publish", "POST"): (403, 403, 403, 302),
    ("manage.completion_rule", "POST"): (403, 403, 403, 400),
    ("manage.versions", "GET"): (403, 403, 403, 200),
    ("manage.diff", "GET"): (403, 403, 403, 200),
    ("manage.restore", "GET"): (403, 403, 403, 200),
    ("manage.restore", "POST"): (403, 403, 403, 302),
    ("quiz_manage.bank", "GET"): (403, 403, 403, 200),
    ("quiz_manage.import_gift", "POST"): (403, 403, 403, 400),
    ("quiz_manage.export_gift", "GET"): (403, 403, 403, 200),
    ("quiz_manage.export_xml", "GET"): (403, 403, 403, 200),
    ("quiz_manage.question", "GET"): (403, 403, 403, 200),
    ("quiz_manage.question", "POST"): (403, 403, 403, 200),
    ("quiz_manage.new_question", "GET"): (403, 403, 403, 200),
    ("quiz_manage.new_question", "POST"): (403, 403, 403, 200),
    ("quiz_manage.question_gift", "GET"): (403, 403, 403, 200),
    ("quiz_manage.question_gift", "POST"): (403, 403, 403, 200),
    ("quiz_manage.settings", "GET"): (403, 403, 403, 200),
    ("quiz_manage.settings", "POST"): (403, 403, 403, 200),
    ("quiz_manage.results", "GET"): (403, 403, 403, 200),
    ("quiz_manage.attempt_review", "GET"): (403, 403, 403, 200),
    ("quiz_manage.grade", "GET"): (403, 403, 403, 404),
    ("quiz_manage.grade", "POST"): (403, 403, 403, 404),
    ("quiz_manage.override", "POST"): (403, 403, 403, 302),
    ("quiz_manage.regrade", "GET"): (403, 403, 403, 200),
    ("quiz_manage.regrade", "POST"): (403, 403, 403, 302),
    ("quiz_manage.item_analysis", "GET"): (403, 403, 403, 200),
    # A quiz of a published module is open to all; an attempt is its learner's alone.
    ("quizzes.show", "GET"): (200, 200, 200, 200),
    ("quizzes.start", "POST"): (302, 302, 302, 302),
    ("quizzes.attempt", "GET"): (404, 404, 404, 404),
    ("quizzes.save", "POST"): (404, 404, 404, 404),
    ("quizzes.submit", "POST"): (404, 404, 404, 404),
    ("quizzes.review", "GET"): (404, 404, 404, 404),
    # A class: its learners and those who run it; management pages 403 for other staff.
    ("classes.show", "GET"): (404, 404, 404, 200),
    ("classes.feedback_form", "GET"): (404, 404, 404, 200),
    ("classes.feedback_form", "POST"): (404, 404, 404, 302),
    ("classes.feedback_summary", "GET"): (404, 404, 404, 200),
    ("classes.manage", "GET"): (403, 403, 403, 200),
    ("classes.document", "GET"): (403, 403, 403, 200),
    ("classes.add_sessions", "POST"): (403, 403, 403, 302),
    ("classes.enrol", "POST"): (403, 403, 403, 302),
    ("classes.enrol_unit", "POST"): (403, 403, 403, 400),
    ("classes.enrol_file", "POST"): (403, 403, 403, 302),
    ("classes.edit", "POST"): (403, 403, 403, 302),
    ("classes.edit_session", "GET"): (403, 403, 403, 200),
    ("classes.edit_session", "POST"): (403, 403, 403, 200),
    ("classes.delete_session", "GET"): (403, 403, 403, 200),
    ("classes.delete_session", "POST"): (403, 403, 403, 302),
    ("classes.withdraw", "GET"): (403, 403, 403, 200),
    ("classes.withdraw", "POST"): (403, 403, 403, 302),
    ("classes.evaluate", "POST"): (403, 403, 403, 302),
    ("attendance.roll_call", "GET"): (403, 403, 403, 200),
    ("attendance.roll_call", "POST"): (403, 403, 403, 302),
    ("attendance.projector", "GET"): (403, 403, 403, 200),
    ("attendance.session_sheet", "GET"): (403, 403, 403, 200),
    ("attendance.class_sheet", "GET"): (403, 403, 403, 200),
    ("attendance.paper", "GET"): (403, 403, 403, 200),
    ("attendance.paper", "POST"): (403, 403, 403, 302),
    ("attendance.check_in", "GET"): (400, 400, 400, 400),
    ("attendance.check_in", "POST"): (400, 400, 400, 400),
    ("attendance.code", "GET"): (404, 404, 404, 404),
    ("attendance.code", "POST"): (404, 404, 404, 404),
    # Certificates: someone else's does not exist (404). The HR officer of the issuing unit
    # manages the class's certificates (200) but sees only learners in scope there (finding 5),
    # and not this holder's own certificate pages.
    ("certificates.show", "GET"): (404, 404, 404, 200),
    ("certificates.download", "GET"): (404, 404, 404, 200),
    ("certificates.revoke", "POST"): (404, 404, 404, 302),
    ("certificates.reissue", "POST"): (404, 404, 404, 302),
    ("certificates.confirmation", "POST"): (404, 404, 404, 302),
    ("certificates.review", "GET"): (404, 404, 200, 200),
    ("certificates.issue_class", "POST"): (404, 404, 302, 302),
    ("certificates.job", "GET"): (404, 404, 200, 200),
    ("certificates.resume", "POST"): (404, 404, 302, 302),
    ("certificates.class_zip", "GET"): (404, 404, 302, 200),
    ("verify.show", "GET"): (200, 200, 200, 200),
    # A person's history: the person, HR in scope, admins; a class dossier: those who run the
    # class and HR of every unit.
    ("unit_reports.person_history", "GET"): (404, 404, 404, 200),
    ("unit_reports.person_history_pdf", "GET"): (404, 404, 404, 200),
    ("unit_reports.class_dossier", "GET"): (404, 404, 404, 200),
}

#: Answers whose body may show the victim's name (the admin sees everything; public verification
#: shows the holder by design).
MAY_NAME = {"verify.show"}


def _routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_with_an_id_has_an_entry(app):
    routes = {(rule.endpoint, method) for rule, method in _routes_with_ids(app)}
    assert sorted(routes - set(EXPECTED)) == [], "routes with an id and no object-access entry"
    assert sorted(set(EXPECTED) - routes) == [], "entries for routes that no longer exist"


@pytest.fixture
def world(create_user, unit):
    """The victim's objects (another learner, another class, another unit) and the actors."""
    runner = create_user("gv-lop-khac", roles=(Role.trainer, Role.learner), unit=unit("CM-LHHN"))
    victim = create_user(
        "bi-mat", full_name=VICTIM_NAME, unit=unit("X-THOI-BINH"), birth_date=VICTIM_BORN
    )
    module = by_slug("doi-ngoai-nhan-dan")
    klass = classes.open_class(
        Actor(runner),
        module,
        classes.ClassData(
            code="OBJ-KHAC",
            title="Lớp của người khác",
            starts_on=date(2026, 12, 1),
            ends_on=date(2026, 12, 2),
        ),
        [runner],
    )
    classes.add_sessions(Actor(runner), klass, date(2026, 12, 1), 1, time(8), time(11), 4)
    classes.enrol(Actor(runner), klass, [victim])
    # A record on the session: cancelling it is refused, so later routes still find it.
    db.session.add(
        AttendanceRecord(
            session_id=klass.sessions[0].id,
            user_id=victim.id,
            status=Status.present,
            method=Method.rollcall,
        )
    )
    db.session.add(
        Completion(
            class_id=klass.id,
            user_id=victim.id,
            completed_at=utcnow(),
            rule={},
            score=Decimal("8"),
            attendance_share=Decimal(1),
        )
    )
    db.session.flush()
    cert = certificates.issue(Actor(runner), klass, victim, utcnow())
    job = jobs.start(Actor(runner), klass, utcnow())
    quiz = quiz_services.ensure_quiz(module)
    quiz.shuffle_questions = False
    attempt = quiz_services.start_attempt(quiz, victim, utcnow(), random.Random(1))
    actors = {
        "learner": create_user("hv-khac", unit=unit("CM-SNV")),
        # Trainer rights limited to their own unit: runs no class of this module.
        "trainer": create_user(
            "gv-khac",
            roles=(Role.trainer, Role.learner),
            unit=unit("CM-LHHN"),
            scope=unit("CM-LHHN"),
        ),
        "hr": create_user("tc-khac", roles=(Role.hr,), unit=unit("CM-SNV"), scope=unit("CM-SNV")),
        "admin": create_user("qt-khac", roles=(Role.admin,), unit=unit("CM-SNV")),
    }
    return {
        "victim": victim,
        "runner": runner,
        "class": klass,
        "cert": cert,
        "job": job,
        "attempt": attempt,
        "module": module,
        "actors": actors,
        "unit": unit("X-THOI-BINH"),
    }


def _url(rule, w) -> str:
    module = w["module"]
    values = {
        "filename": "css/app.css",
        "user_id": w["victim"].id,
        "unit_id": w["unit"].id,
        "token": "A" * 24,
        "slug": module.slug,
        "lesson_slug": module.published_version.lessons[0].slug,
        "name": "khong-co.png",
        "module_id": module.id,
        "old": 1,
        "new": 1,
        "quiz_id": w["attempt"].quiz_id,
        "attempt_id": w["attempt"].id,
        "position": 1,
        "question_id": w["attempt"].items[0].question_id,
        "class_id": w["class"].id,
        "session_id": w["class"].sessions[0].id,
        "cert_id": w["cert"].id,
        "job_id": w["job"].id,
        "issuer_id": w["cert"].issuer_id,
        "kind": "quyet-dinh-mo-lop",
        "fmt": "pdf",
        "code": w["cert"].code,
    }
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def _text(response) -> str:
    """The answer as text to search for the victim: HTML, PDF or the cells of an XLSX/ZIP."""
    data = response.get_data()
    if data.startswith(b"%PDF"):
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    elif data.startswith(b"PK"):
        parts = []
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                parts.append(name)
                if name.endswith(".xlsx"):
                    parts.append(_xlsx_text(archive.read(name)))
        text = "\n".join(parts)
    else:
        text = data.decode("utf-8", "replace")
    return " ".join(unicodedata.normalize("NFC", text).split())


def _xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return "\n".join(
            str(c)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for c in row
            if c is not None
        )
    finally:
        book.close()


@pytest.mark.parametrize("role", ROLES)
def test_objects_of_another_learner_class_and_unit(app, login, world, role, caplog):
    failures = []
    user = world["actors"][role]
    client = app.test_client()
    login(user, c=client)
    token = csrf_token(client, "/dashboard")
    caplog.set_level(logging.WARNING, logger="learnhub.access")
    # Every address is built before any request (an admin's POST may change the objects).
    for rule, method, url in [(r, m, _url(r, world)) for r, m in _routes_with_ids(app)]:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        expected = EXPECTED[(rule.endpoint, method)][ROLES.index(role)]
        if response.status_code != expected:
            failures.append(f"{method} {url} as {role}: {response.status_code}, not {expected}")
        elif (
            role != "admin"
            and rule.endpoint not in MAY_NAME
            and response.status_code == 200
            and VICTIM_NAME in _text(response)
        ):
            failures.append(f"{method} {url} as {role}: shows {VICTIM_NAME}")
        response.close()
    assert failures == []
    if role != "admin":
        # Each refusal of an object is in the log: who, which route, which object.
        cert = world["cert"]
        assert (
            f"actor={user.id} route=GET /certificates/{cert.id} object=certificate:{cert.id}"
            in (caplog.text)
        )


# -- finding 5 and the dates of birth --------------------------------------------------------


def test_finding_5_hr_sees_only_in_scope_learners_on_class_certificate_pages(
    app, login, world, create_user, unit
):
    """HR of Sở Nội vụ (the issuing unit) on /classes/<id>/certificates: learners of Xã Thới Bình
    are not shown (as /reports/people/<id> refuses them), learners of their own unit are."""
    own = create_user("hv-snv", full_name="Trần Văn Trong Phạm Vi", unit=unit("CM-SNV"))
    classes.enrol(Actor(world["runner"]), world["class"], [own])
    client = login(world["actors"]["hr"], c=app.test_client())
    with client.get(f"/classes/{world['class'].id}/certificates") as response:
        assert response.status_code == 200
        page = _text(response)
    assert "Trần Văn Trong Phạm Vi" in page
    assert VICTIM_NAME not in page
    assert "Xã Thới Bình" not in page
    with client.get(f"/reports/people/{world['victim'].id}") as response:
        assert response.status_code == 404
    # The ZIP of the class's certificates holds none of the out-of-scope learner's either.
    with client.get(f"/classes/{world['class'].id}/certificates.zip") as response:
        assert response.status_code == 302  # nothing of theirs to download
    # Whoever runs the class still sees every learner.
    runner = login(world["runner"], c=app.test_client())
    with runner.get(f"/classes/{world['class'].id}/certificates") as response:
        assert VICTIM_NAME in _text(response)


def test_finding_7_trainer_sees_no_dates_of_birth_in_the_certificate_register(app, login, world):
    """The class's own trainer sees the register rows of their class, but no dates of birth, on
    the page, in the XLSX and in the PDF; an admin (and HR in scope) sees them."""
    year = world["cert"].year
    query = f"?issuer={world['cert'].issuer_id}&year={year}"
    trainer = login(world["runner"], c=app.test_client())
    admin = login(world["actors"]["admin"], c=app.test_client())
    for path in ("/register/", "/register/export.xlsx", "/register/export.pdf"):
        with trainer.get(path + query) as response:
            assert response.status_code == 200, path
            text = _text(response) if path.endswith("/") else _document_text(response)
        assert VICTIM_NAME in text, path
        assert VICTIM_BORN_TEXT not in text, path
        assert "1987-06-05" not in text, path
        with admin.get(path + query) as response:
            text = _text(response) if path.endswith("/") else _document_text(response)
        assert VICTIM_BORN_TEXT in text or "1987-06-05" in text, path


def _document_text(response) -> str:
    data = response.get_data()
    if data.startswith(b"%PDF"):
        return _text(response)
    book = load_workbook(io.BytesIO(data))
    try:
        cells = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            for c in row:
                if isinstance(c, date):
                    cells.append(c.strftime("%d/%m/%Y"))
                elif c is not None:
                    cells.append(str(c))
        return " ".join(unicodedata.normalize("NFC", " ".join(cells)).split())
    finally:
        book.close()


# -- the API, with tokens --------------------------------------------------------------------


def _every_item(client, url: str, secret: str) -> list[dict]:
    """Every page of a list (other tests' committed rows may fill the first pages)."""
    items, after = [], None
    while True:
        joined = "&" if "?" in url else "?"
        page_url = f"{url}{joined}limit=500" + (f"&after={after}" if after else "")
        status, body, _h = api_get(client, page_url, secret)
        assert status == 200, page_url
        items += body["items"]
        after = body["next"]
        if not after:
            return items


def test_api_with_tokens_shows_no_object_outside_scope(client, world, create_user):
    """HR of another unit: neither the victim's completion nor certificate, also when asking for
    the class or the unit by name; admins see both. Learners' and trainers' tokens (should one
    exist) are refused."""
    klass = world["class"]
    hr = new_token(world["actors"]["hr"])
    admin = new_token(world["actors"]["admin"])
    for url in (
        "/api/v1/completions",
        f"/api/v1/completions?class={klass.code}",
        "/api/v1/completions?unit=X-THOI-BINH",
        "/api/v1/certificates",
        f"/api/v1/certificates?class={klass.code}",
    ):
        assert all(item.get("full_name") != VICTIM_NAME for item in _every_item(client, url, hr))
        assert any(item.get("full_name") == VICTIM_NAME for item in _every_item(client, url, admin))
    for role in ("learner", "trainer"):
        user = world["actors"][role]
        _row, secret = tokens.create(Actor(user), user, "khóa", None, today())
        db.session.flush()
        status, _body, _h = api_get(client, "/api/v1/completions", secret)
        assert status in (401, 403), role


def test_someone_elses_api_token_cannot_be_revoked(app, login, world):
    victim_hr = world["actors"]["admin"]
    row, _secret = tokens.create(Actor(victim_hr), victim_hr, "khóa của quản trị", None, today())
    db.session.flush()
    client = login(world["actors"]["hr"], c=app.test_client())
    token = csrf_token(client, "/account/tokens")
    with client.post(
        "/account/tokens/revoke", data={"csrf_token": token, "token_id": str(row.id)}
    ) as response:
        assert response.status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None


# -- exports without an id in the path --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/reports/records.csv",
        "/reports/records.xlsx",
        "/register/export.xlsx",
        "/register/export.pdf",
        "/register/",
        "/reports/records",
    ],
)
def test_exports_of_hr_of_another_unit_leave_out_the_victim(app, login, world, path):
    year = world["cert"].year
    query = f"?issuer={world['cert'].issuer_id}&year={year}"
    if path.startswith("/reports/records"):
        # The class's own code: other tests' committed records must not fill the first page.
        query += f"&klass={world['class'].code}"
    client = login(world["actors"]["hr"], c=app.test_client())
    with client.get(path + query) as response:
        assert response.status_code == 200, path
        assert VICTIM_NAME not in _text(response) + _maybe_xlsx(response)
    client = login(world["actors"]["admin"], c=app.test_client())
    with client.get(path + query) as response:
        assert response.status_code == 200, path
        assert VICTIM_NAME in _text(response) + _maybe_xlsx(response)


def _maybe_xlsx(response) -> str:
    data = response.get_data()
    return _xlsx_text(data) if data.startswith(b"PK") else ""
