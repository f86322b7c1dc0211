"""check constraints: every enum column holds one of its values, every range holds

The database keeps the rules the code keeps: a raw INSERT or UPDATE with an unknown status, a
score above 10, a negative period or a class that ends before it starts is refused on SQLite
and PostgreSQL alike. Before anything changes, the upgrade looks for existing rows that would
break a constraint and, if there are any, stops with a report (table, constraint, how many rows
and the first keys) so they can be corrected first.

The constraints are written out here (a migration is a snapshot); the models build the same
ones from their enums (learnhub.db.enum_check), and tests/test_check_constraints.py checks that
both agree.

Revision ID: bb7fb61cf7a8
Revises: 7d2e9f4a1c35
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "bb7fb61cf7a8"
down_revision: str | None = "7d2e9f4a1c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Per table, (constraint name, condition), as the models declare them.
CHECKS: dict[str, list[tuple[str, str]]] = {
    "org_units": [
        (
            "ck_org_units_kind",
            "kind IN ('province', 'former_province', 'party', 'council', 'government', "
            "'department', 'front', 'mass_org', 'district', 'ward', 'commune', 'office')",
        ),
        ("ck_org_units_validity_in_order", "valid_to >= valid_from"),
        ("ck_org_units_not_own_parent", "parent_id <> id"),
        ("ck_org_units_not_own_successor", "successor_id <> id"),
    ],
    "user_roles": [
        ("ck_user_roles_role", "role IN ('learner', 'trainer', 'hr', 'admin')"),
    ],
    "classes": [
        ("ck_classes_format", "format IN ('tap-trung', 'truc-tuyen', 'ket-hop')"),
        ("ck_classes_status", "status IN ('planned', 'open', 'closed')"),
        ("ck_classes_dates_in_order", "ends_on >= starts_on"),
        ("ck_classes_capacity_non_negative", "capacity >= 0"),
    ],
    "enrolments": [
        (
            "ck_enrolments_periods_non_negative",
            "present_periods >= 0 AND late_periods >= 0 AND excused_periods >= 0 "
            "AND absent_periods >= 0",
        ),
    ],
    "class_sessions": [
        ("ck_class_sessions_periods_positive", "periods > 0"),
        ("ck_class_sessions_times_in_order", "ends_at > starts_at"),
    ],
    "attendance_records": [
        ("ck_attendance_records_status", "status IN ('present', 'late', 'excused', 'absent')"),
        ("ck_attendance_records_method", "method IN ('qr', 'code', 'rollcall', 'sheet')"),
    ],
    "completions": [
        ("ck_completions_score_range", "score BETWEEN 0 AND 10"),
        ("ck_completions_attendance_share_range", "attendance_share BETWEEN 0 AND 1"),
    ],
    "quizzes": [
        ("ck_quizzes_grading", "grading IN ('highest', 'last', 'average', 'first')"),
        ("ck_quizzes_review_after_submit", "review_after_submit IN ('nothing', 'score', 'full')"),
        ("ck_quizzes_review_after_close", "review_after_close IN ('nothing', 'score', 'full')"),
        ("ck_quizzes_pass_mark_range", "pass_mark BETWEEN 0 AND 10"),
        (
            "ck_quizzes_limits_non_negative",
            "time_limit_minutes >= 0 AND attempts_allowed >= 0 AND per_category >= 0 "
            "AND grace_seconds >= 0",
        ),
        ("ck_quizzes_window_in_order", "close_at > open_at"),
    ],
    "quiz_overrides": [
        ("ck_quiz_overrides_extras_non_negative", "extra_minutes >= 0 AND extra_attempts >= 0"),
    ],
    "quiz_attempts": [
        ("ck_quiz_attempts_state", "state IN ('in_progress', 'needs_grading', 'graded')"),
        ("ck_quiz_attempts_number_positive", "number >= 1"),
        ("ck_quiz_attempts_score_range", "score BETWEEN 0 AND 10"),
        ("ck_quiz_attempts_pass_mark_range", "pass_mark BETWEEN 0 AND 10"),
    ],
    "quiz_attempt_items": [
        ("ck_quiz_attempt_items_fraction_range", "fraction BETWEEN 0 AND 1"),
    ],
    "cert_register_counters": [
        ("ck_cert_register_counters_last_non_negative", "last >= 0"),
    ],
    "certificates": [
        ("ck_certificates_kind", "kind IN ('certificate', 'confirmation')"),
        ("ck_certificates_status", "status IN ('valid', 'revoked', 'superseded')"),
        (
            "ck_certificates_revoke_reason",
            "revoke_reason IN ('error', 'fraud', 'not-met', 'other')",
        ),
        ("ck_certificates_register_no_positive", "register_no >= 1"),
    ],
    "cert_issue_jobs": [
        ("ck_cert_issue_jobs_state", "state IN ('queued', 'running', 'done', 'failed')"),
        (
            "ck_cert_issue_jobs_counts_non_negative",
            "total >= 0 AND issued >= 0 AND skipped >= 0",
        ),
    ],
}

#: How a row is named in the report: its primary key (id, unless said here).
KEYS = {"cert_register_counters": "issuer_id || '/' || year"}

#: Keys listed per constraint in the report.
SHOWN = 5


def violations(conn: sa.Connection) -> list[str]:
    """One line per constraint that existing rows break: table, constraint, count, first keys.
    A condition that is NULL passes, as it does in a CHECK."""
    lines = []
    for table, checks in CHECKS.items():
        key = KEYS.get(table, "id")
        for name, condition in checks:
            column = sa.literal_column(key)
            found = conn.scalars(
                sa.select(column)
                .select_from(sa.table(table))
                .where(sa.literal_column(f"NOT ({condition})"))
                .order_by(column)
            )
            keys = [str(k) for k in found]
            if keys:
                shown = ", ".join(keys[:SHOWN]) + (", …" if len(keys) > SHOWN else "")
                lines.append(f"{table}: {name}: {len(keys)} row(s), {key} {shown}")
    return lines


def upgrade() -> None:
    broken = violations(op.get_bind())
    if broken:
        raise CommandError(
            "existing rows break the new check constraints; correct them and upgrade again "
            "(nothing was changed):\n  " + "\n  ".join(broken)
        )
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, condition in checks:
                batch.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    for table, checks in reversed(CHECKS.items()):
        with op.batch_alter_table(table) as batch:
            for name, _condition in reversed(checks):
                batch.drop_constraint(op.f(name), type_="check")
