"""Issue 14, finding 3: a learner completed and was certified on 02/12 for a class running 08–10/12
(attendance entered for future sessions); the person page showed "20/0" and "4/0" periods;
sessions added by mistake (outside the class's dates) counted toward the attendance share and
printed "Số tiết: 20" for a 4-period module on the certificate.

The rules now: a class is complete for nobody before its last own session has ended; attendance
counts only the class's own sessions (within its dates) held so far; printed periods never
exceed the module's."""

import io
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from learnhub import db, signals
from learnhub.attendance import services as attendance
from learnhub.attendance.models import AttendanceRecord, Completion, Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.certificates import services as certificates
from learnhub.classes import services as classes
from learnhub.classes.models import ClassSession, class_end
from learnhub.quizzes import services as quizzes
from learnhub.quizzes.models import Attempt, AttemptState
from learnhub.reports import history
from tests.quizzes.test_curriculum import right_answer
from tests.support import statements


def _utc(*parts: int) -> datetime:
    """A stored (naive UTC) datetime."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)


#: 02/12/2026 09:00 in Cà Mau (UTC+7), before the class.
EARLY = _utc(2026, 12, 2, 2, 0)


@pytest.fixture
def december(trainer):
    """A class of a 8-period module running 08–10/12/2026, one 4-period session a day."""
    module = catalog.by_slug("doi-ngoai-nhan-dan")
    quizzes.ensure_quiz(module)
    training_class = classes.open_class(
        Actor(trainer),
        module,
        classes.ClassData(
            code="F3-2026-12",
            title="Lớp tháng 12",
            starts_on=date(2026, 12, 8),
            ends_on=date(2026, 12, 10),
        ),
        [trainer],
    )
    classes.add_sessions(
        Actor(trainer), training_class, date(2026, 12, 8), 3, time(7, 30), time(11), 4
    )
    return training_class


def _learn_everything(training_class, learner, now):
    module = training_class.module
    for lesson in module.published_version.lessons:
        catalog.mark_read(learner, module, lesson)
    quiz = quizzes.ensure_quiz(module)
    attempt = quizzes.start_attempt(quiz, learner, now, random.Random(1))
    for item in attempt.items:
        quizzes.save_answer(attempt, item.position, right_answer(item), now)
    quizzes.submit_attempt(attempt, now)


def _direct_records(training_class, learner, sessions):
    """Records written as old data has them (entered for sessions not held yet)."""
    for session in sessions:
        db.session.add(
            AttendanceRecord(
                session_id=session.id,
                user_id=learner.id,
                status=Status.present,
                method=Method.rollcall,
                recorded_at=EARLY,
            )
        )
    db.session.flush()


def test_finding3_no_completion_or_certificate_before_the_class_has_ended(
    december, learner, trainer, db_session
):
    classes.enrol(Actor(trainer), december, [learner])
    _learn_everything(december, learner, EARLY)
    _direct_records(december, learner, december.sessions)
    # Everything done on 02/12, a week before the class: not complete, nothing to certify.
    assert attendance.evaluate(december, learner, EARLY) is None
    last_start = december.sessions[-1].starts  # the last session has begun, not ended
    assert attendance.evaluate(december, learner, last_start) is None
    assert attendance.evaluate_class(december, last_start) == 0
    check = attendance.checklist(december, learner, EARLY)
    assert not check.complete
    assert [(c.key, c.detail) for c in check.missing] == [
        ("ended", "kết thúc lúc 10/12/2026 11:00")
    ]
    with pytest.raises(certificates.CertificateError):
        certificates.issue(Actor(trainer), december, learner, EARLY)
    mine = select(Completion).where(Completion.class_id == december.id)  # other tests' may exist
    assert db_session.scalar(mine) is None
    # The moment the last session ends, the class is complete for her.
    assert december.ends_at == _utc(2026, 12, 10, 4, 0)  # 11:00 in Cà Mau
    assert attendance.class_has_ended(december, december.ends_at)
    assert attendance.evaluate_class(december, december.ends_at) == 1
    completion = db_session.scalars(mine).one()
    assert completion.completed_at == december.ends_at


def test_finding3_person_page_never_counts_sessions_not_held(
    december, learner, trainer, monkeypatch
):
    classes.enrol(Actor(trainer), december, [learner])
    _direct_records(december, learner, december.sessions)
    monkeypatch.setattr(history, "today", lambda: date(2026, 12, 2))
    (line,) = history.lines(learner)
    assert (line.attended, line.held, line.attended_text) == (0, 0, "0/0")
    monkeypatch.setattr(history, "today", lambda: date(2026, 12, 9))
    (line,) = history.lines(learner)
    assert line.attended_text == "8/8"
    monkeypatch.setattr(history, "today", lambda: date(2026, 12, 31))
    (line,) = history.lines(learner)
    assert line.attended_text == "8/8"  # 12 periods held, printed as the module's 8


def test_finding3_sessions_outside_the_class_count_for_nothing(
    december, learner, trainer, db_session
):
    # Stray sessions typed with the wrong dates (old data: they are refused now).
    for day in (date(2026, 11, 30), date(2026, 12, 20)):
        december.sessions.append(
            ClassSession(
                number=10 + day.day, on=day, starts_at=time(8), ends_at=time(11), periods=8
            )
        )
    db.session.flush()
    classes.enrol(Actor(trainer), december, [learner])
    strays = [s for s in december.sessions if s.on.month == 11 or s.on.day == 20]
    _direct_records(december, learner, [*strays, december.sessions[1]])
    # Only the class's own sessions: 4 of its 12 periods, below the 80 % share.
    assert attendance.attended_periods(december, learner, True) == (4, 12)
    assert december.ends_at == _utc(2026, 12, 10, 4, 0)  # the stray on 20/12 is not the end
    assert attendance.evaluate(december, learner, _utc(2026, 12, 21)) is None
    enrolment = classes.enrolment_of(december, learner)
    attendance.recount(enrolment)
    assert enrolment.present_periods == 4


def test_finding3_certificate_prints_at_most_the_module_periods(
    december, learner, trainer, db_session
):
    classes.enrol(Actor(trainer), december, [learner])
    assert sum(s.periods for s in december.sessions) == 12
    assert december.module_periods == 8
    db.session.add(
        Completion(
            class_id=december.id,
            user_id=learner.id,
            completed_at=december.ends_at,
            rule={},
            score=None,
            attendance_share=1,
        )
    )
    db.session.flush()
    cert = certificates.issue(Actor(trainer), december, learner, december.ends_at)
    assert cert.data["periods"] == 8
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(certificates.read_pdf(cert))).pages
    )
    assert "Số tiết: 8" in text
    assert "Số tiết: 12" not in text


def test_issue18_grading_during_the_class_reads_no_checklist(
    december, learner, trainer, db_session, monkeypatch
):
    """A quiz graded while its class runs (a whole class submitting at once, each grade under
    SQLite's write lock) asks only whether a completion exists and whether the class has
    ended: the checklist's reads (lessons, attempts, attendance) are not made before it has."""
    classes.enrol(Actor(trainer), december, [learner])
    _learn_everything(december, learner, EARLY)
    _direct_records(december, learner, december.sessions)

    def no_checklist(*_args, **_kwargs):
        raise AssertionError("the checklist was read before the class ended")

    monkeypatch.setattr(attendance, "checklist", no_checklist)
    monkeypatch.setattr(classes, "is_enrolled", no_checklist)
    assert attendance.evaluate(december, learner, EARLY) is None
    monkeypatch.undo()
    ended = december.ends_at
    assert attendance.evaluate(december, learner, ended) is not None


def test_issue18_a_grade_during_the_class_costs_one_statement(
    app, december, learner, trainer, db_session
):
    """At the end of an exam a whole class's grades arrive, each under the database's write,
    with the attempt, its learner and its quiz expired when the write began (SQLite). The
    completion check asks, in one statement, which of the learner's classes of the quiz's
    module have ended, and reads nothing more while none has (it read the attempt, the learner,
    the quiz, the classes, the completion and the class's sessions: six). Once the class has
    ended the same grade records the completion."""
    classes.enrol(Actor(trainer), december, [learner])
    _learn_everything(december, learner, EARLY)
    _direct_records(december, learner, december.sessions)
    attempt = db.session.scalars(select(Attempt).where(Attempt.user_id == learner.id)).one()
    assert attempt.state == AttemptState.graded
    db.session.expire_all()
    with statements(app.extensions["learnhub.engine"]) as seen:
        signals.attempt_graded.send(attempt, now=EARLY)
    assert len(seen) == 1, seen
    assert seen[0].startswith("SELECT classes.id, classes.ends_on, class_sessions")
    last_session = _utc(2026, 12, 10, 4, 0)  # 10/12 11:00 in Cà Mau
    signals.attempt_graded.send(attempt, now=last_session - timedelta(seconds=1))
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0
    signals.attempt_graded.send(attempt, now=last_session)
    completion = db.session.scalars(select(Completion)).one()
    assert (completion.class_id, completion.user_id) == (december.id, learner.id)


def test_a_class_ends_with_its_last_own_session_else_with_its_last_day(december):
    """classes.models.class_end, the one rule TrainingClass.ends_at and the completion check's
    rows share: a session outside the class's dates does not count."""
    assert december.ends_at == _utc(2026, 12, 10, 4, 0)
    assert class_end(date(2026, 12, 10), []) == _utc(2026, 12, 10, 17, 0)  # 11/12 00:00 VN
    sessions = [(date(2026, 12, 9), time(13, 30)), (date(2026, 12, 9), time(9))]
    assert class_end(date(2026, 12, 10), sessions) == _utc(2026, 12, 9, 6, 30)
