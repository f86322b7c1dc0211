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
from learnhub.reports import summary
from learnhub.reports.periodic import Period


def _in_period(stmt, period: Period):
    return stmt.where(TrainingClass.ends_on >= period.start, TrainingClass.ends_on <= period.end)


def _scoped(stmt, viewer: User):
    """Limit to people in scope in SQL too (fewer groups to read at national scale)."""
    ids = policy.unit_ids(viewer, Role.hr)
    return stmt if ids is None else stmt.where(User.unit_id.in_(ids.scalar_subquery()))


def _of(record, viewer: User, period: Period, *columns):
    """*columns* over *record* (Enrolment, Completion, Certificate) joined with its person and
    class, in the period and the viewer's scope."""
    stmt = (
        select(*columns)
        .select_from(record)
        .join(User, User.id == record.user_id)
        .join(TrainingClass, TrainingClass.id == record.class_id)
    )
    return _scoped(_in_period(stmt, period), viewer)


def counts(viewer: User, period: Period, units_shown: list[int] | None):
    """The grouped figures, each keyed by the person's unit id (periodic._counts, grouped
    straight from the enrolments, completions and certificates)."""
    person_unit = User.unit_id
    # Core execution on the session's connection: plain rows, without the ORM's result layer
    # (tens of thousands of grouped rows at province scale).
    run = db.session.connection().execute
    # The class's overrides as the report groups them (its weights are looked up by this key).
    rule_text = summary.rule_text()

    def enrolled(*columns):
        return _of(Enrolment, viewer, period, *columns).where(Enrolment.is_active)

    # Attendance comes with the enrolments: each enrolment carries its recorded periods by
    # status (kept by attendance.services.record), so no attendance record is read here.
    rule = (TrainingClass.module_id, TrainingClass.version_id, rule_text)
    additive: dict[tuple, list] = {}

    def add(rows, first: int):
        """Each row's figures into additive's columns from *first* on (zeros elsewhere)."""
        for unit_id, module_id, version_id, override, *values in rows:
            key = (unit_id, module_id, version_id, override)
            sums = additive.setdefault(key, [0] * 9)
            for i, value in enumerate(values):
                sums[first + i] += value or 0

    add(
        run(
            enrolled(
                person_unit,
                *rule,
                func.count(),
                func.sum(Enrolment.present_periods),
                func.sum(Enrolment.late_periods),
                func.sum(Enrolment.excused_periods),
                func.sum(Enrolment.absent_periods),
            ).group_by(person_unit, *rule)
        ),
        0,
    )
    add(
        run(
            _of(
                Completion,
                viewer,
                period,
                person_unit,
                *rule,
                func.count(),
                func.count(Completion.score),
                func.sum(Completion.score),
            ).group_by(person_unit, *rule)
        ),
        5,
    )
    add(
        run(
            _of(Certificate, viewer, period, person_unit, *rule, func.count())
            .where(Certificate.kind == Kind.certificate, Certificate.status == CertStatus.valid)
            .group_by(person_unit, *rule)
        ),
        8,
    )
    shown = enrolled(TrainingClass.module_id, func.count(distinct(Enrolment.class_id)))
    if units_shown is not None:
        shown = shown.where(person_unit.in_(units_shown))
    classes_by_module = run(shown.group_by(TrainingClass.module_id)).all()
    persons_by_module = run(
        enrolled(
            person_unit, TrainingClass.module_id, func.count(distinct(Enrolment.user_id))
        ).group_by(person_unit, TrainingClass.module_id)
    ).all()
    persons = run(
        enrolled(person_unit, func.count(distinct(Enrolment.user_id))).group_by(person_unit)
    ).all()
    figures = [(*key, *sums) for key, sums in additive.items()]
    return figures, classes_by_module, persons_by_module, persons
