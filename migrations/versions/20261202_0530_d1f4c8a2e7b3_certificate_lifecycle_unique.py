"""certificate lifecycle: a certificate is re-issued once and has at most one valid confirmation
(a double-submitted re-issue or confirmation can no longer take two register numbers)

Revision ID: d1f4c8a2e7b3
Revises: bb7fb61cf7a8
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d1f4c8a2e7b3"
down_revision: str | None = "bb7fb61cf7a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_CONFIRMATION = "status = 'valid' AND kind = 'confirmation'"


def _refuse_duplicates() -> None:
    """Name the register entries the new indexes would refuse, before trying to create them."""
    conn = op.get_bind()
    checks = {
        "re-issued more than once": (
            "SELECT supersedes_id FROM certificates WHERE supersedes_id IS NOT NULL "
            "GROUP BY supersedes_id HAVING COUNT(*) > 1"
        ),
        "with more than one valid confirmation": (
            "SELECT refers_to_id FROM certificates WHERE refers_to_id IS NOT NULL "
            "AND status = 'valid' AND kind = 'confirmation' "
            "GROUP BY refers_to_id HAVING COUNT(*) > 1"
        ),
    }
    problems = []
    for what, query in checks.items():
        ids = [row[0] for row in conn.execute(sa.text(query))]
        if ids:
            problems.append(f"certificates {what}: ids {ids}")
    if problems:
        raise RuntimeError(
            "Revoke the extra register entries first (keep one per certificate), then upgrade: "
            + "; ".join(problems)
        )


def upgrade() -> None:
    _refuse_duplicates()
    op.create_index("uq_certificates_supersedes_id", "certificates", ["supersedes_id"], unique=True)
    op.create_index(
        "uq_certificates_one_confirmation",
        "certificates",
        ["refers_to_id"],
        unique=True,
        sqlite_where=sa.text(ONE_CONFIRMATION),
        postgresql_where=sa.text(ONE_CONFIRMATION),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_certificates_one_confirmation",
        table_name="certificates",
        sqlite_where=sa.text(ONE_CONFIRMATION),
        postgresql_where=sa.text(ONE_CONFIRMATION),
    )
    op.drop_index("uq_certificates_supersedes_id", table_name="certificates")
