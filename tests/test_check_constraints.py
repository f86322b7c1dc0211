"""Finding 7 of issue 14: the database keeps the rules. Every enum column holds one of its
values and every range holds, whatever writes the row (raw SQL included), on SQLite and
PostgreSQL; the migration that adds the constraints reports the rows that break them first."""

import enum
import os
import re
from datetime import date, time

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from learnhub import create_app
from learnhub.attendance import services as attendance
from learnhub.attendance.models import Method, Status
from learnhub.audit.services import Actor
from learnhub.catalog.services import by_slug
from learnhub.certificates import jobs
from learnhub.certificates import services as certificates
from learnhub.certificates.models import RegisterCounter
from learnhub.classes import services as classes
from learnhub.classes.models import ClassFeedback
from learnhub.cli import alembic_config
from learnhub.db import Base
from learnhub.quizzes import services as quizzes
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete

#: The revision that adds the check constraints.
REVISION = "bb7fb61cf7a8"


def model_checks() -> dict[str, dict[str, str]]:
    """Per table, the named CHECK constraints the models declare: name -> condition."""
    found: dict[str, dict[str, str]] = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                found.setdefault(table.name, {})[constraint.name] = str(constraint.sqltext)
    return found


def database_checks(bind) -> dict[str, dict[str, str]]:
    inspector = sa.inspect(bind)
    found: dict[str, dict[str, str]] = {}
    for table in inspector.get_table_names():
        for check in inspector.get_check_constraints(table):
            found.setdefault(table, {})[check["name"]] = check["sqltext"]
    return found


def literals(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def test_finding7_every_model_check_is_in_the_migrated_database(db_session):
    """Alembic's autogenerate does not compare CHECK constraints: this does. Same names on
    both backends; SQLite keeps the condition as written, PostgreSQL rewrites it (the enum
    values it lists must still be the enum's)."""
    declared = model_checks()
    assert sum(len(c) for c in declared.values()) >= 30
    installed = database_checks(db_session.connection())
    assert set(installed) == set(declared)
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    for table, checks in declared.items():
        assert set(installed[table]) == set(checks), table
        for name, condition in checks.items():
            if postgresql:
                assert literals(installed[table][name]) == literals(condition), name
            else:
                assert " ".join(installed[table][name].split()) == condition, name


def test_finding7_every_enum_column_has_a_check():
    """Every column typed by a StrEnum (13 today): each has ck_<table>_<column> listing its
    values, and these are the enum's."""
    import learnhub.models  # noqa: F401

    enum_columns = {}
    for mapper in Base.registry.mappers:
        hints = mapper.class_.__annotations__
        for column in mapper.columns:
            hint = hints.get(column.key)
            args = getattr(hint, "__args__", ())
            enum_cls = next((a for a in args if isinstance(a, type) and _is_enum(a)), None)
            if enum_cls is not None and column.table is mapper.local_table:
                enum_columns[(column.table.name, column.name)] = enum_cls
    declared = model_checks()
    assert len(enum_columns) >= 13
    for (table, column), enum_cls in enum_columns.items():
        condition = declared[table][f"ck_{table}_{column}"]
        assert literals(condition) == {m.value for m in enum_cls}, (table, column)
    # revoke_reason is typed str, but holds a RevokeReason: checked as well.
    assert "ck_certificates_revoke_reason" in declared["certificates"]


def _is_enum(cls) -> bool:
    return issubclass(cls, enum.StrEnum)


@pytest.fixture
def rows(trainer, learner, db_session):
    """One row of every constrained table: table -> (key column, key)."""
    now = utcnow()
    module = by_slug("doi-ngoai-nhan-dan")
    klass = classes.open_class(
        Actor(trainer),
        module,
        classes.ClassData(
            code="CK-2026-01",
            title="Lớp kiểm tra ràng buộc",
            starts_on=date(2026, 1, 5),
            ends_on=date(2026, 1, 9),
        ),
        [trainer],
    )
    sessions = classes.add_sessions(
        Actor(trainer), klass, date(2026, 1, 5), 2, time(8), time(11), 4
    )
    completion = complete(klass, learner)
    record = attendance.record(
        Actor(trainer), sessions[0], learner, Status.present, Method.rollcall, klass.ends_at
    )
    quiz = quizzes.ensure_quiz(module)
    override = quizzes.set_override(Actor(trainer), quiz, learner, 5, 1)
    attempt = quizzes.start_attempt(quiz, learner, now)
    certificate = certificates.issue(Actor(trainer), klass, learner, now)
    job = jobs.start(Actor(trainer), klass, now)
    feedback = ClassFeedback(
        class_id=klass.id, user_id=learner.id, content=5, trainers=4, organisation=3, comment=""
    )
    db_session.add(feedback)
    db_session.flush()
    counter = db_session.scalar(sa.select(RegisterCounter))
    grant = learner.grants[0]
    enrolment_id = db_session.scalar(
        sa.text("SELECT id FROM enrolments WHERE class_id = :c AND user_id = :u"),
        {"c": klass.id, "u": learner.id},
    )
    return {
        "user_roles": ("id", grant.id),
        "users": ("id", learner.id),
        "org_units": ("id", learner.unit_id),
        "classes": ("id", klass.id),
        "class_sessions": ("id", sessions[1].id),
        "enrolments": ("id", enrolment_id),
        "attendance_records": ("id", record.id),
        "completions": ("id", completion.id),
        "quizzes": ("id", quiz.id),
        "quiz_overrides": ("id", override.id),
        "quiz_attempts": ("id", attempt.id),
        "quiz_attempt_items": ("id", attempt.items[0].id),
        "cert_register_counters": ("issuer_id", counter.issuer_id),
        "certificates": ("id", certificate.id),
        "cert_issue_jobs": ("id", job.id),
        "class_feedback": ("id", feedback.id),
        "_session": ("id", sessions[1].id),
        "_learner": ("id", learner.id),
        "_trainer": ("id", trainer.id),
        "_class": ("id", klass.id),
    }


def _update(table: str, key: tuple[str, int], values: dict[str, str]) -> sa.Update:
    column, ident = key
    return (
        sa.update(sa.table(table, *(sa.column(c) for c in values)))
        .where(sa.literal_column(column) == ident)
        .values({c: sa.literal_column(v) for c, v in values.items()})
    )


#: (table, new values as SQL, the constraint that refuses them)
REFUSED = [
    ("user_roles", {"role": "'superuser'"}, "ck_user_roles_role"),
    ("users", {"sex": "'male'"}, "ck_users_sex"),
    ("users", {"sex": "'nữ'"}, "ck_users_sex"),
    ("org_units", {"kind": "'planet'"}, "ck_org_units_kind"),
    (
        "org_units",
        {"valid_from": "'2026-02-01'", "valid_to": "'2026-01-01'"},
        "ck_org_units_validity_in_order",
    ),
    ("org_units", {"parent_id": "id"}, "ck_org_units_not_own_parent"),
    ("org_units", {"successor_id": "id"}, "ck_org_units_not_own_successor"),
    ("classes", {"format": "'hybrid'"}, "ck_classes_format"),
    ("classes", {"status": "'cancelled'"}, "ck_classes_status"),
    ("classes", {"ends_on": "'2026-01-04'"}, "ck_classes_dates_in_order"),
    ("classes", {"capacity": "-1"}, "ck_classes_capacity_non_negative"),
    ("class_sessions", {"periods": "0"}, "ck_class_sessions_periods_positive"),
    ("class_sessions", {"periods": "-4"}, "ck_class_sessions_periods_positive"),
    ("class_sessions", {"ends_at": "starts_at"}, "ck_class_sessions_times_in_order"),
    ("enrolments", {"present_periods": "-4"}, "ck_enrolments_periods_non_negative"),
    ("enrolments", {"absent_periods": "-1"}, "ck_enrolments_periods_non_negative"),
    ("attendance_records", {"status": "'here'"}, "ck_attendance_records_status"),
    ("attendance_records", {"method": "'telepathy'"}, "ck_attendance_records_method"),
    ("completions", {"score": "10.5"}, "ck_completions_score_range"),
    ("completions", {"score": "-1"}, "ck_completions_score_range"),
    ("completions", {"attendance_share": "1.2"}, "ck_completions_attendance_share_range"),
    ("quizzes", {"grading": "'best'"}, "ck_quizzes_grading"),
    ("quizzes", {"review_after_submit": "'all'"}, "ck_quizzes_review_after_submit"),
    ("quizzes", {"review_after_close": "'all'"}, "ck_quizzes_review_after_close"),
    ("quizzes", {"pass_mark": "11"}, "ck_quizzes_pass_mark_range"),
    ("quizzes", {"attempts_allowed": "-1"}, "ck_quizzes_limits_non_negative"),
    ("quizzes", {"grace_seconds": "-60"}, "ck_quizzes_limits_non_negative"),
    (
        "quizzes",
        {"open_at": "'2026-02-01 00:00:00'", "close_at": "'2026-01-01 00:00:00'"},
        "ck_quizzes_window_in_order",
    ),
    ("quiz_overrides", {"extra_attempts": "-1"}, "ck_quiz_overrides_extras_non_negative"),
    ("quiz_attempts", {"state": "'abandoned'"}, "ck_quiz_attempts_state"),
    ("quiz_attempts", {"number": "0"}, "ck_quiz_attempts_number_positive"),
    ("quiz_attempts", {"score": "10.01"}, "ck_quiz_attempts_score_range"),
    ("quiz_attempts", {"pass_mark": "-0.5"}, "ck_quiz_attempts_pass_mark_range"),
    ("quiz_attempt_items", {"fraction": "1.5"}, "ck_quiz_attempt_items_fraction_range"),
    ("quiz_attempt_items", {"fraction": "-0.1"}, "ck_quiz_attempt_items_fraction_range"),
    ("cert_register_counters", {"last": "-1"}, "ck_cert_register_counters_last_non_negative"),
    ("certificates", {"kind": "'diploma'"}, "ck_certificates_kind"),
    ("certificates", {"status": "'lost'"}, "ck_certificates_status"),
    ("certificates", {"revoke_reason": "'whim'"}, "ck_certificates_revoke_reason"),
    ("certificates", {"register_no": "0"}, "ck_certificates_register_no_positive"),
    ("cert_issue_jobs", {"state": "'paused'"}, "ck_cert_issue_jobs_state"),
    ("cert_issue_jobs", {"skipped": "-1"}, "ck_cert_issue_jobs_counts_non_negative"),
    ("class_feedback", {"content": "0"}, "ck_class_feedback_content_1_to_5"),
    ("class_feedback", {"trainers": "6"}, "ck_class_feedback_trainers_1_to_5"),
    ("class_feedback", {"organisation": "-1"}, "ck_class_feedback_organisation_1_to_5"),
]


def test_finding7_raw_update_breaking_a_rule_is_refused(rows, db_session):
    """Each statement alone, in a savepoint: every one is refused by the constraint named."""
    wrong = []
    for table, values, constraint in REFUSED:
        try:
            with db_session.begin_nested():
                db_session.execute(_update(table, rows[table], values))
        except sa.exc.IntegrityError as exc:
            if constraint not in str(exc):
                wrong.append((table, values, str(exc.orig)))
        else:
            wrong.append((table, values, "accepted"))
    assert wrong == []


def test_finding7_every_constraint_has_a_refused_case():
    covered = {constraint for _t, _v, constraint in REFUSED}
    declared = {name for checks in model_checks().values() for name in checks}
    assert covered == declared


#: Values at the edges of the ranges: accepted.
ACCEPTED = [
    ("classes", {"ends_on": "starts_on", "status": "'closed'", "capacity": "0"}),
    ("completions", {"score": "10", "attendance_share": "1"}),
    ("completions", {"score": "0", "attendance_share": "0"}),
    ("quiz_attempt_items", {"fraction": "1"}),
    ("quiz_attempts", {"score": "NULL", "pass_mark": "10"}),
    ("certificates", {"status": "'revoked'", "revoke_reason": "'not-met'"}),
    ("org_units", {"valid_from": "'2026-01-01'", "valid_to": "'2026-01-01'"}),
    ("quizzes", {"open_at": "NULL", "close_at": "'2026-01-01 00:00:00'"}),
    ("users", {"sex": "'nam'"}),
    ("users", {"sex": "'nu'"}),
    ("users", {"sex": "NULL"}),
]


def test_finding7_values_within_the_rules_are_accepted(rows, db_session):
    for table, values in ACCEPTED:
        with db_session.begin_nested():
            result = db_session.execute(_update(table, rows[table], values))
        assert result.rowcount == 1, (table, values)


def test_finding7_raw_insert_breaking_a_rule_is_refused(rows, db_session):
    learner, trainer = rows["_learner"][1], rows["_trainer"][1]
    statements = [
        (
            "INSERT INTO user_roles (user_id, role) VALUES (:u, 'root')",
            {"u": learner},
            "ck_user_roles_role",
        ),
        (
            "INSERT INTO attendance_records (session_id, user_id, status, method, recorded_at, "
            "ip, device) VALUES (:s, :u, 'here', 'qr', '2026-01-06 08:00:00', '', '')",
            {"s": rows["_session"][1], "u": learner},
            "ck_attendance_records_status",
        ),
        (
            "INSERT INTO completions (class_id, user_id, completed_at, rule, score, "
            "attendance_share) VALUES (:c, :u, '2026-01-10 00:00:00', '{}', 11, 1)",
            {"c": rows["_class"][1], "u": trainer},
            "ck_completions_score_range",
        ),
    ]
    for sql, params, constraint in statements:
        with pytest.raises(sa.exc.IntegrityError) as caught, db_session.begin_nested():
            db_session.execute(sa.text(sql), params)
        assert constraint in str(caught.value)


# --- the migration -------------------------------------------------------------------------


def _scratch_url(tmp_path) -> str:
    """A database of the test's own: a file on SQLite, a schema on PostgreSQL."""
    if os.environ.get("LEARNHUB_TEST_BACKEND") == "postgresql":
        url = os.environ["LEARNHUB_TEST_DATABASE_URL"]
        return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dck_scratch"
    return f"sqlite:///{tmp_path / 'old.sqlite'}"


@pytest.fixture
def scratch(tmp_path):
    app = create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": _scratch_url(tmp_path)})
    engine = app.extensions["learnhub.engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS ck_scratch CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA ck_scratch")
    yield app
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS ck_scratch CASCADE")
    engine.dispose()


def _current(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@pytest.mark.no_rollback
def test_finding7_upgrade_reports_rows_that_break_a_check_and_changes_nothing(scratch):
    engine = scratch.extensions["learnhub.engine"]
    with scratch.app_context():
        previous = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION)
        command.upgrade(alembic_config(), previous.down_revision)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO org_units (id, code, name, kind, path, note) "
                    "VALUES (:id, :code, :name, :kind, :path, '')"
                ),
                [
                    {
                        "id": i,
                        "code": f"U{i}",
                        "name": f"Đơn vị {i}",
                        "kind": "planet" if i > 1 else "ward",
                        "path": f"/{i}/",
                    }
                    for i in range(1, 9)
                ],
            )
            conn.exec_driver_sql(
                "INSERT INTO modules (id, slug, search_text, created_at) "
                "VALUES (1, 'm', '', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO classes (id, code, title, module_id, starts_on, ends_on, place, "
                "format, organisers, decision_no, capacity, status, rule, created_at) VALUES "
                "(4, 'L4', 'Lớp', 1, '2026-01-09', '2026-01-05', '', 'tap-trung', '', '', 0, "
                "'open', '{}', '2026-01-01')"
            )
        before = _snapshot(engine)
        with pytest.raises(CommandError) as caught:
            command.upgrade(alembic_config(), "head")
        report = str(caught.value)
        assert "org_units: ck_org_units_kind: 7 row(s), id 2, 3, 4, 5, 6, …" in report
        assert "classes: ck_classes_dates_in_order: 1 row(s), id 4" in report
        assert "ck_classes_format" not in report
        # The operator's command says the same, without a traceback.
        result = scratch.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 1
        assert "classes: ck_classes_dates_in_order: 1 row(s), id 4" in result.output
        assert "Traceback" not in result.output
        # Nothing changed: same revision, no constraint, same rows.
        assert _current(engine) == previous.down_revision
        assert _snapshot(engine) == before
        assert not any(
            name.startswith("ck_") for checks in database_checks(engine).values() for name in checks
        )

        # Corrected, the upgrade goes through; the downgrade takes the constraints away again.
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE org_units SET kind = 'ward'")
            conn.exec_driver_sql("UPDATE classes SET ends_on = '2026-01-10'")
        command.upgrade(alembic_config(), "head")
        assert set(database_checks(engine)["classes"]) == set(model_checks()["classes"])
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE org_units SET kind = 'planet' WHERE id = 1")
        command.downgrade(alembic_config(), previous.down_revision)
        assert database_checks(engine).get("classes", {}) == {}
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE org_units SET kind = 'planet' WHERE id = 1")
        assert _snapshot(engine)["org_units"][0][3] == "planet"


def _snapshot(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table: [
                tuple(r)
                for r in conn.execute(
                    sa.select(sa.text("*")).select_from(sa.table(table)).order_by(sa.text("1"))
                )
            ]
            for table in ("org_units", "classes", "modules")
        }
