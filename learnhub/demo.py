"""Demo accounts for a development instance (`flask demo`)."""

import random
from datetime import date, datetime, time, timedelta

from learnhub import db
from learnhub.accounts import services
from learnhub.accounts.models import Role, Sex
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.classes import services as classes
from learnhub.orgunits import services as units
from learnhub.quizzes import services as quizzes
from learnhub.timeutil import today, utcnow

#: login, full name, roles, unit code, password. Shown in README; development only. The names
#: are invented ("Mẫu" = sample) so that no demo person carries the name of a real official.
#: login, name, roles, unit, password, sex (invented people: each has one, so the register's
#: "Giới tính" column and the documents' "Ông" / "Bà" show on the demo data).
DEMO_USERS = [
    ("admin", "Quản Trị Viên", [Role.admin], "CM-SNV", "demo-quantri-2026", Sex.male),
    (
        "giangvien",
        "Giảng Viên Mẫu",
        [Role.trainer, Role.learner],
        "CM-LHHN",
        "demo-giangvien-2026",
        Sex.female,
    ),
    ("tochuc", "Tổ Chức Viên Mẫu", [Role.hr, Role.learner], "CM-SNV", "demo-tochuc-2026", Sex.male),
    ("hocvien1", "Học Viên Mẫu Một", [Role.learner], "CM-SNV", "demo-hocvien-2026", Sex.female),
    ("hocvien2", "Học Viên Mẫu Hai", [Role.learner], "X-THOI-BINH", "demo-hocvien-2026", Sex.male),
]

DEMO = Actor(None, "", "demo")


def create_demo() -> list[str]:
    """Create missing demo users; returns lines to print (logins of those just created)."""
    lines = []
    for login, name, roles, unit_code, password, sex in DEMO_USERS:
        existing = services.find_by_login(login)
        if existing is not None:
            existing.sex = existing.sex or sex
            continue
        unit = units.by_code(unit_code)
        scope = unit.id if unit is not None and Role.hr in roles else None
        services.create_user(
            DEMO,
            full_name=name,
            login=login,
            password=password,
            unit=unit,
            sex=sex,
            roles=[services.Grant(r, scope if r == Role.hr else None) for r in roles],
        )
        lines.append(f"  {login:<10} {password:<22} {', '.join(r.value for r in roles)}")
    _demo_reading()
    _demo_class()
    _demo_certificate()
    db.session.commit()
    if lines:
        lines.insert(0, "Demo accounts (login, password, roles):")
    else:
        lines.append("Demo accounts already exist (see README.md).")
    return lines


def _demo_reading() -> None:
    """hocvien1 has started the first module: two lessons read."""
    learner = services.find_by_login("hocvien1")
    module = catalog.by_slug("doi-ngoai-nhan-dan")
    if learner is None or module is None or module.published_version is None:
        return
    for lesson in module.published_version.lessons[:2]:
        catalog.mark_read(learner, module, lesson)


def _demo_class() -> None:
    """A class of the first module with three sessions, two learners, attendance and an attempt."""
    module = catalog.by_slug("doi-ngoai-nhan-dan")
    trainer = services.find_by_login("giangvien")
    learners = [services.find_by_login(x) for x in ("hocvien1", "hocvien2")]
    if module is None or trainer is None or None in learners or classes.by_code("DNND-2026-01"):
        return
    # Under way: its first session was yesterday (attendance is recorded only for sessions that
    # have started), the second is today and the third tomorrow.
    start = today() - timedelta(days=1)
    training_class = classes.open_class(
        DEMO,
        module,
        classes.ClassData(
            code="DNND-2026-01",
            title="Lớp bồi dưỡng kiến thức đối ngoại nhân dân năm 2026",
            starts_on=start,
            ends_on=start + timedelta(days=2),
            place="Hội trường Sở Nội vụ",
            organisers="Sở Nội vụ; Liên hiệp các tổ chức hữu nghị tỉnh",
            decision_no="01/QĐ-SNV",
            decision_on=start - timedelta(days=7),
        ),
        [trainer],
    )
    sessions = classes.add_sessions(DEMO, training_class, start, 3, time(7, 30), time(11, 0), 4)
    classes.enrol(DEMO, training_class, learners)
    now = utcnow()
    attendance.record(DEMO, sessions[0], learners[0], Status.present, Method.rollcall, now)
    attendance.record(DEMO, sessions[0], learners[1], Status.late, Method.rollcall, now)
    quiz = quizzes.ensure_quiz(module)
    attempt = quizzes.start_attempt(quiz, learners[0], now, random.Random(2026))  # noqa: S311 (demo data)
    for item in attempt.items[:10]:
        if item.kind == "truefalse":
            quizzes.save_answer(attempt, item.position, {"value": True}, now)
        elif item.kind == "single":
            quizzes.save_answer(attempt, item.position, {"choice": 0}, now)
    quizzes.submit_attempt(attempt, now)


def _demo_certificate() -> None:
    """A finished cohort of the second module: hocvien1 read every lesson, attended every
    session, passed the quiz, and holds a certificate (its PDF in the storage folder)."""
    from learnhub.certificates import services as certificates
    from learnhub.quizzes import grading

    module = catalog.by_slug("ky-nang-doi-ngoai")
    trainer = services.find_by_login("giangvien")
    learner = services.find_by_login("hocvien1")
    if module is None or trainer is None or learner is None or classes.by_code("KNDN-2026-01"):
        return
    issuer = certificates.default_issuer()
    if not issuer.signer_name:  # a sample signer, so the demo certificate looks complete
        issuer.signer_authority, issuer.signer_for = "KT.", "GIÁM ĐỐC"
        issuer.signer_title, issuer.signer_name = "PHÓ GIÁM ĐỐC", "Nguyễn Văn Mẫu"
    if learner.birth_date is None:
        learner.birth_date = date(1992, 3, 7)
    start = today() - timedelta(days=45)
    training_class = classes.open_class(
        DEMO,
        module,
        classes.ClassData(
            code="KNDN-2026-01",
            title="Lớp bồi dưỡng kỹ năng đối ngoại năm 2026 (khóa I)",
            starts_on=start,
            ends_on=start + timedelta(days=1),
            place="Hội trường Liên hiệp các tổ chức hữu nghị tỉnh",
            organisers="Sở Nội vụ; Liên hiệp các tổ chức hữu nghị tỉnh",
            decision_no="02/QĐ-SNV",
            decision_on=start - timedelta(days=10),
        ),
        [trainer],
    )
    sessions = classes.add_sessions(DEMO, training_class, start, 2, time(7, 30), time(11, 0), 4)
    classes.enrol(DEMO, training_class, [learner])
    when = datetime.combine(start + timedelta(days=1), time(4, 0))  # 11:00 in Cà Mau
    for lesson in module.published_version.lessons:
        catalog.mark_read(learner, module, lesson)
    for session in sessions:
        attendance.record(DEMO, session, learner, Status.present, Method.rollcall, when)
    quiz = quizzes.ensure_quiz(module)
    attempt = quizzes.start_attempt(quiz, learner, when, random.Random(72))  # noqa: S311 (demo data)
    for item in attempt.items:
        if item.position % 6:  # most answers right, a few left blank
            answer = grading.model_answer(item.snapshot, item.order)
            quizzes.save_answer(attempt, item.position, answer, when)
    quizzes.submit_attempt(attempt, when)
    if attendance.evaluate(training_class, learner, when) is not None:
        certificates.issue(Actor(trainer, via="demo"), training_class, learner, utcnow())
