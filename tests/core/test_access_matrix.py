"""Every route, every role: the status each must get (a new route without an entry fails)."""

import random
from datetime import date, time
from decimal import Decimal

import pytest

from learnhub import db
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.classes import services as classes
from learnhub.quizzes import services as quiz_services
from learnhub.timeutil import utcnow
from tests.support import csrf_token

ROLES = ("anonymous", "learner", "trainer", "hr", "admin")
A, L, T, H, D = ROLES

# (endpoint, method) -> status per role, in the order of ROLES.
# 302 for anonymous on protected pages is the redirect to /login.
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    ("static", "GET"): (200, 200, 200, 200, 200),
    ("core.index", "GET"): (302, 302, 302, 302, 302),
    ("core.dashboard", "GET"): (302, 200, 200, 200, 200),
    ("core.healthz", "GET"): (200, 200, 200, 200, 200),
    ("core.set_language", "POST"): (302, 302, 302, 302, 302),
    ("accounts.login", "GET"): (200, 302, 302, 302, 302),
    ("accounts.login", "POST"): (400, 302, 302, 302, 302),
    ("accounts.logout", "POST"): (302, 302, 302, 302, 302),
    ("accounts.reauth", "GET"): (302, 200, 200, 200, 200),
    ("accounts.reauth", "POST"): (302, 200, 200, 200, 200),
    ("accounts.change_password", "GET"): (302, 200, 200, 200, 200),
    ("accounts.change_password", "POST"): (302, 200, 200, 200, 200),
    # Two-factor sign-in: the second step exists only right after a right password; the set-up
    # page is for staff (learners are not offered it).
    ("twofactor.challenge", "GET"): (302, 302, 302, 302, 302),
    ("twofactor.challenge", "POST"): (302, 302, 302, 302, 302),
    ("twofactor.setup", "GET"): (302, 403, 200, 200, 200),
    ("twofactor.start", "POST"): (302, 403, 302, 302, 302),
    ("twofactor.confirm", "POST"): (302, 403, 302, 302, 302),
    ("twofactor.turn_off", "POST"): (302, 403, 302, 302, 302),
    ("admin_users.index", "GET"): (302, 403, 403, 403, 200),
    ("admin_users.new", "GET"): (302, 403, 403, 403, 200),
    ("admin_users.new", "POST"): (302, 403, 403, 403, 200),
    ("admin_users.show", "GET"): (302, 403, 403, 403, 200),
    ("admin_users.update", "POST"): (302, 403, 403, 403, 400),
    ("admin_users.roles", "POST"): (302, 403, 403, 403, 400),
    ("admin_users.reset_password", "POST"): (302, 403, 403, 403, 400),
    ("admin_users.set_enabled", "POST"): (302, 403, 403, 403, 302),
    ("admin_users.end_sessions", "POST"): (302, 403, 403, 403, 302),
    ("admin_users.reset_two_factor", "POST"): (302, 403, 403, 403, 302),
    ("roster.upload", "GET"): (302, 403, 403, 403, 200),
    ("roster.upload", "POST"): (302, 403, 403, 403, 400),
    ("roster.confirm", "POST"): (302, 403, 403, 403, 404),
    ("orgunits.index", "GET"): (302, 403, 403, 403, 200),
    ("orgunits.new", "GET"): (302, 403, 403, 403, 200),
    ("orgunits.new", "POST"): (302, 403, 403, 403, 200),
    ("orgunits.edit", "GET"): (302, 403, 403, 403, 200),
    ("orgunits.edit", "POST"): (302, 403, 403, 403, 200),
    ("audit.index", "GET"): (302, 403, 403, 403, 200),
    ("catalog.index", "GET"): (302, 200, 200, 200, 200),
    ("catalog.show", "GET"): (302, 200, 200, 200, 200),
    ("catalog.lesson", "GET"): (302, 200, 200, 200, 200),
    ("catalog.mark_read", "POST"): (302, 302, 302, 302, 302),
    ("catalog.asset", "GET"): (302, 404, 404, 404, 404),
    ("references.index", "GET"): (302, 200, 200, 200, 200),
    ("manage.index", "GET"): (302, 403, 200, 403, 200),
    ("manage.new", "GET"): (302, 403, 200, 403, 200),
    ("manage.new", "POST"): (302, 403, 200, 403, 200),
    ("manage.module", "GET"): (302, 403, 200, 403, 200),
    ("manage.update", "POST"): (302, 403, 400, 403, 400),
    ("manage.completion_rule", "POST"): (302, 403, 400, 403, 400),
    ("manage.lesson", "GET"): (302, 403, 200, 403, 200),
    ("manage.lesson", "POST"): (302, 403, 302, 403, 302),
    ("manage.new_lesson", "GET"): (302, 403, 200, 403, 200),
    ("manage.new_lesson", "POST"): (302, 403, 200, 403, 200),
    ("manage.move", "POST"): (302, 403, 302, 403, 302),
    ("manage.upload", "POST"): (302, 403, 302, 403, 302),
    ("manage.publish", "POST"): (302, 403, 302, 403, 302),
    ("manage.versions", "GET"): (302, 403, 200, 403, 200),
    ("manage.diff", "GET"): (302, 403, 200, 403, 200),
    ("manage.restore", "GET"): (302, 403, 200, 403, 200),
    ("manage.restore", "POST"): (302, 403, 302, 403, 302),
    ("quizzes.show", "GET"): (302, 200, 200, 200, 200),
    ("quizzes.start", "POST"): (302, 302, 302, 302, 302),
    # The attempt is the learner's: for everyone else it does not exist.
    ("quizzes.attempt", "GET"): (302, 200, 404, 404, 404),
    ("quizzes.save", "POST"): (302, 400, 404, 404, 404),
    ("quizzes.submit", "POST"): (302, 302, 404, 404, 404),
    ("quizzes.review", "GET"): (302, 200, 404, 404, 404),
    ("quiz_manage.bank", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.import_gift", "POST"): (302, 403, 400, 403, 400),
    ("quiz_manage.export_gift", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.export_xml", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.question", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.question", "POST"): (302, 403, 200, 403, 200),
    ("quiz_manage.new_question", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.new_question", "POST"): (302, 403, 200, 403, 200),
    ("quiz_manage.question_gift", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.question_gift", "POST"): (302, 403, 200, 403, 200),
    ("quiz_manage.settings", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.settings", "POST"): (302, 403, 200, 403, 200),
    ("quiz_manage.results", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.attempt_review", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.grade", "GET"): (302, 403, 404, 403, 404),
    ("quiz_manage.grade", "POST"): (302, 403, 404, 403, 404),
    ("quiz_manage.override", "POST"): (302, 403, 302, 403, 302),
    ("quiz_manage.regrade", "GET"): (302, 403, 200, 403, 200),
    ("quiz_manage.regrade", "POST"): (302, 403, 302, 403, 302),
    ("quiz_manage.item_analysis", "GET"): (302, 403, 200, 403, 200),
    ("classes.manage_index", "GET"): (302, 403, 200, 403, 200),
    ("classes.new", "GET"): (302, 403, 200, 403, 200),
    ("classes.new", "POST"): (302, 403, 200, 403, 200),
    ("classes.manage", "GET"): (302, 403, 200, 403, 200),
    ("classes.document", "GET"): (302, 403, 200, 403, 200),
    ("classes.add_sessions", "POST"): (302, 403, 302, 403, 302),
    ("classes.enrol", "POST"): (302, 403, 302, 403, 302),
    ("classes.enrol_unit", "POST"): (302, 403, 400, 403, 400),
    ("classes.enrol_file", "POST"): (302, 403, 302, 403, 302),
    ("classes.edit", "POST"): (302, 403, 302, 403, 302),
    # Correcting the schedule and roster: a form or a confirmation page, then the POST. The
    # matrix class's session holds a record, so cancelling it is refused (302 with a message).
    ("classes.edit_session", "GET"): (302, 403, 200, 403, 200),
    ("classes.edit_session", "POST"): (302, 403, 200, 403, 200),
    ("classes.delete_session", "GET"): (302, 403, 200, 403, 200),
    ("classes.delete_session", "POST"): (302, 403, 302, 403, 302),
    ("classes.withdraw", "GET"): (302, 403, 200, 403, 200),
    ("classes.withdraw", "POST"): (302, 403, 302, 403, 302),
    ("classes.evaluate", "POST"): (302, 403, 302, 403, 302),
    ("classes.mine", "GET"): (302, 200, 200, 200, 200),
    # A class page exists for its learners and those who manage it.
    ("classes.show", "GET"): (302, 200, 200, 404, 200),
    # The learners' evaluation: the form for the class's learners (others who see the class get
    # the page that says it is not for them; a POST from them is refused with a redirect); the
    # anonymous summary for those who run the class and HR who may download its dossier.
    ("classes.feedback_form", "GET"): (302, 200, 200, 404, 200),
    ("classes.feedback_form", "POST"): (302, 200, 302, 404, 302),
    ("classes.feedback_summary", "GET"): (302, 404, 200, 404, 200),
    ("attendance.roll_call", "GET"): (302, 403, 200, 403, 200),
    ("attendance.roll_call", "POST"): (302, 403, 302, 403, 302),
    ("attendance.projector", "GET"): (302, 403, 200, 403, 200),
    ("attendance.check_in", "GET"): (400, 400, 400, 400, 400),
    ("attendance.check_in", "POST"): (400, 400, 400, 400, 400),
    ("attendance.code", "GET"): (302, 200, 404, 404, 404),
    ("attendance.code", "POST"): (302, 200, 404, 404, 404),
    ("attendance.session_sheet", "GET"): (302, 403, 200, 403, 200),
    ("attendance.class_sheet", "GET"): (302, 403, 200, 403, 200),
    ("attendance.paper", "GET"): (302, 403, 200, 403, 200),
    ("attendance.paper", "POST"): (302, 403, 302, 403, 302),
    # Certificates: the holder, the class's managers, HR whose scope covers the holder; for
    # everyone else a certificate does not exist (404, never 403).
    ("certificates.mine", "GET"): (302, 200, 200, 200, 200),
    ("certificates.show", "GET"): (302, 200, 200, 200, 200),
    ("certificates.download", "GET"): (302, 200, 200, 200, 200),
    ("certificates.revoke", "POST"): (302, 404, 302, 302, 302),
    ("certificates.reissue", "POST"): (302, 404, 302, 302, 302),
    ("certificates.confirmation", "POST"): (302, 404, 302, 302, 302),
    ("certificates.review", "GET"): (302, 404, 200, 200, 200),
    ("certificates.issue_class", "POST"): (302, 404, 302, 302, 302),
    ("certificates.job", "GET"): (302, 404, 200, 200, 200),
    ("certificates.resume", "POST"): (302, 404, 302, 302, 302),
    ("certificates.class_zip", "GET"): (302, 404, 200, 200, 200),
    # Public verification: anyone, signed in or not (rate-limited per address).
    ("verify.form", "GET"): (200, 200, 200, 200, 200),
    ("verify.key", "GET"): (200, 200, 200, 200, 200),
    ("verify.offline", "GET"): (200, 200, 200, 200, 200),
    ("verify.show", "GET"): (200, 200, 200, 200, 200),
    ("register.index", "GET"): (302, 403, 200, 200, 200),
    ("register.export_xlsx", "GET"): (302, 403, 200, 200, 200),
    ("register.export_pdf", "GET"): (302, 403, 200, 200, 200),
    # Read-only API: a browser session is not a token.
    ("api.openapi_document", "GET"): (200, 200, 200, 200, 200),
    ("api.unit_tree", "GET"): (401, 401, 401, 401, 401),
    ("api.completions", "GET"): (401, 401, 401, 401, 401),
    ("api.certificate_list", "GET"): (401, 401, 401, 401, 401),
    ("api_tokens.index", "GET"): (302, 403, 403, 200, 200),
    ("api_tokens.create", "POST"): (302, 403, 403, 400, 400),
    ("api_tokens.revoke", "POST"): (302, 403, 403, 400, 400),
    # HR reports: the unit report for HR; a person's history for the person, HR in scope and
    # admins; a class dossier for those who run the class and unscoped HR.
    ("reports.records_page", "GET"): (302, 403, 403, 200, 200),
    ("reports.records_csv", "GET"): (302, 403, 403, 200, 200),
    ("reports.records_xlsx", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.units_report", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.units_xlsx", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.units_pdf", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.annual_report", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.annual_xlsx", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.annual_pdf", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.people", "GET"): (302, 403, 403, 200, 200),
    ("unit_reports.person_history", "GET"): (302, 200, 404, 200, 200),
    ("unit_reports.person_history_pdf", "GET"): (302, 200, 404, 200, 200),
    ("unit_reports.class_dossier", "GET"): (302, 404, 200, 404, 200),
    ("unit_reports.stylesheet", "GET"): (200, 200, 200, 200, 200),
    ("issuers.index", "GET"): (302, 403, 403, 403, 200),
    ("issuers.edit", "GET"): (302, 403, 403, 403, 200),
    ("issuers.edit", "POST"): (302, 403, 403, 403, 200),
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_expectation(app):
    missing = [
        f"{rule.endpoint} {method} {rule.rule}"
        for rule, method in _routes(app)
        if (rule.endpoint, method) not in EXPECTED
    ]
    assert missing == [], "routes without an access-matrix entry"
    stale = set(EXPECTED) - {(rule.endpoint, method) for rule, method in _routes(app)}
    assert stale == set(), "entries for routes that no longer exist"


@pytest.fixture
def people(learner, trainer, hr, admin):
    return {L: learner, T: trainer, H: hr, D: admin}


@pytest.fixture
def matrix_class(people):
    """A class run by the trainer, with one session and the learner enrolled."""
    training_class = classes.open_class(
        Actor(people[T]),
        by_slug("doi-ngoai-nhan-dan"),
        classes.ClassData(
            code="MATRIX-1",
            title="Lớp ma trận",
            starts_on=date(2026, 12, 1),
            ends_on=date(2026, 12, 2),
        ),
        [people[T]],
    )
    classes.add_sessions(
        Actor(people[T]), training_class, date(2026, 12, 1), 1, time(8), time(11), 4
    )
    classes.enrol(Actor(people[T]), training_class, [people[L]])
    # A record on the session (so cancelling it is refused and later routes still find it).
    db.session.add(
        AttendanceRecord(
            session_id=training_class.sessions[0].id,
            user_id=people[L].id,
            status=Status.present,
            method=Method.rollcall,
        )
    )
    db.session.flush()
    return training_class


@pytest.fixture
def matrix_certificate(people, matrix_class):
    """The learner's certificate of the matrix class, and a finished issue job."""
    db.session.add(
        Completion(
            class_id=matrix_class.id,
            user_id=people[L].id,
            completed_at=utcnow(),
            rule={},
            score=Decimal("8"),
            attendance_share=Decimal(1),
        )
    )
    db.session.flush()
    cert = certificates.issue(Actor(people[T]), matrix_class, people[L], utcnow())
    job = jobs.start(Actor(people[T]), matrix_class, utcnow())
    return cert, job


@pytest.fixture
def learner_attempt(people):
    """An attempt of the learner, questions in bank order (the first is single choice)."""
    quiz = quiz_services.ensure_quiz(by_slug("doi-ngoai-nhan-dan"))
    quiz.shuffle_questions = False
    return quiz_services.start_attempt(quiz, people[L], utcnow(), random.Random(1))


def _url(rule, people, unit, attempt, training_class, certificate=None):
    module = by_slug("doi-ngoai-nhan-dan")
    values = {
        "filename": "css/app.css",
        "user_id": people[L].id,
        "unit_id": unit("CM-SNV").id,
        "token": "A" * 24,
        "slug": module.slug,
        "lesson_slug": module.published_version.lessons[0].slug,
        "name": "khong-co.png",
        "module_id": module.id,
        "old": 1,
        "new": 1,
        "quiz_id": attempt.quiz_id,
        "attempt_id": attempt.id,
        "position": 1,
        "question_id": attempt.items[0].question_id,
        "class_id": training_class.id,
        "session_id": training_class.sessions[0].id,
        "cert_id": certificate[0].id if certificate else 0,
        "job_id": certificate[1].id if certificate else 0,
        "issuer_id": certificate[0].issuer_id if certificate else 0,
        "kind": "quyet-dinh-mo-lop",
        "fmt": "pdf",
        "code": certificate[0].code if certificate else "X",
    }
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(
    app, login, people, unit, role, learner_attempt, matrix_class, matrix_certificate
):
    failures = []
    for rule, method in _routes(app):
        client = app.test_client()
        if role != A:
            login(people[role], c=client)
        token = csrf_token(client, "/login" if role == A else "/dashboard")
        url = _url(rule, people, unit, learner_attempt, matrix_class, matrix_certificate)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        response.close()
        expected = EXPECTED[(rule.endpoint, method)][ROLES.index(role)]
        if response.status_code != expected:
            failures.append(
                f"{method} {url} as {role}: {response.status_code}, expected {expected}"
            )
    assert failures == []
