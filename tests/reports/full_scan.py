"""The unit report's figures as they were computed before the summary rows (reports/summary.py):
grouped straight from the period's enrolments, completions and certificates. Kept here as the
oracle the summary is compared with (tests/reports/test_summary.py)."""

from sqlalchemy import distinct, func, select

from learnhub import db, policy
from learnhub.accounts.models import Role, User
from learnhub.attendance.models import Completion
from learnhub.certificates.models import Certificate, Kind
from learnhub.certificates.models import Status as CertStatus
from learnhub.classes.models import Enrolment, TrainingClass
from learnhub.reports.periodic import Period


def _in_period(stmt, period: Period):
    return stmt.where(TrainingClass.ends_on >= period.start, TrainingClass.ends_on <= period.end)


def _scoped(stmt, viewer: User):
    """Limit to people in scope in SQL too (fewer groups to read at national scale)."""
    ids = policy.unit_ids(viewer, Role.hr)
    return stmt if ids is None else stmt.where(User.unit_id.in_(ids.scalar_subquery()))


def counts(viewer: User, period: Period):
    """The grouped figures, each keyed by the person's unit id (periodic._counts before)."""
    person_unit = User.unit_id
    # Core execution on the session's connection: plain rows, without the ORM's result layer
    # (tens of thousands of grouped rows at province scale).
    run = db.session.connection().execute
    # Attendance comes with the enrolments: each enrolment carries its recorded periods by
    # status (kept by attendance.services.record), so no attendance record is read here.
    enrolments = run(
        _scoped(
            _in_period(
                select(
                    person_unit,
                    Enrolment.class_id,
                    func.count(),
                    func.sum(Enrolment.present_periods),
                    func.sum(Enrolment.late_periods),
                    func.sum(Enrolment.excused_periods),
                    func.sum(Enrolment.absent_periods),
                )
                .select_from(Enrolment)
                .join(User, User.id == Enrolment.user_id)
                .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
                .where(Enrolment.is_active),
                period,
            ),
            viewer,
        ).group_by(person_unit, Enrolment.class_id)
    ).all()
    persons_by_module = run(
        _scoped(
            _in_period(
                select(
                    person_unit, TrainingClass.module_id, func.count(distinct(Enrolment.user_id))
                )
                .select_from(Enrolment)
                .join(User, User.id == Enrolment.user_id)
                .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
                .where(Enrolment.is_active),
                period,
            ),
            viewer,
        ).group_by(person_unit, TrainingClass.module_id)
    ).all()
    persons = run(
        _scoped(
            _in_period(
                select(person_unit, func.count(distinct(Enrolment.user_id)))
                .select_from(Enrolment)
                .join(User, User.id == Enrolment.user_id)
                .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
                .where(Enrolment.is_active),
                period,
            ),
            viewer,
        ).group_by(person_unit)
    ).all()
    completions = run(
        _scoped(
            _in_period(
                select(
                    person_unit,
                    TrainingClass.module_id,
                    func.count(),
                    func.count(Completion.score),
                    func.sum(Completion.score),
                )
                .select_from(Completion)
                .join(User, User.id == Completion.user_id)
                .join(TrainingClass, TrainingClass.id == Completion.class_id),
                period,
            ),
            viewer,
        ).group_by(person_unit, TrainingClass.module_id)
    ).all()
    certificates = run(
        _scoped(
            _in_period(
                select(person_unit, TrainingClass.module_id, func.count())
                .select_from(Certificate)
                .join(User, User.id == Certificate.user_id)
                .join(TrainingClass, TrainingClass.id == Certificate.class_id)
                .where(
                    Certificate.kind == Kind.certificate, Certificate.status == CertStatus.valid
                ),
                period,
            ),
            viewer,
        ).group_by(person_unit, TrainingClass.module_id)
    ).all()
    return enrolments, persons_by_module, persons, completions, certificates
