"""certificates, issuers, register, issue jobs

Revision ID: c46dee632ba1
Revises: 43e0e82b19e0
Create Date: 2026-11-28 01:39:13.972199
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c46dee632ba1"
down_revision: str | None = "43e0e82b19e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_windows")),
    )
    op.create_table(
        "cert_issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_name", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("signer_authority", sa.String(length=10), nullable=False),
        sa.Column("signer_for", sa.String(length=200), nullable=False),
        sa.Column("signer_title", sa.String(length=200), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=True),
        sa.Column("seal_png", sa.LargeBinary(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_cert_issuers_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_issuers")),
        sa.UniqueConstraint("code", name=op.f("uq_cert_issuers_code")),
    )
    op.create_table(
        "cert_register_counters",
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["cert_issuers.id"],
            name=op.f("fk_cert_register_counters_issuer_id_cert_issuers"),
        ),
        sa.PrimaryKeyConstraint("issuer_id", "year", name=op.f("pk_cert_register_counters")),
    )
    op.create_table(
        "cert_issue_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_cert_issue_jobs_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_cert_issue_jobs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_issue_jobs")),
    )
    with op.batch_alter_table("cert_issue_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cert_issue_jobs_class_id"), ["class_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("register_no", sa.Integer(), nullable=False),
        sa.Column("number_label", sa.String(length=60), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("module_version_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=20), nullable=True),
        sa.Column("revoke_note", sa.Text(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("refers_to_id", sa.Integer(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_certificates_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_certificates_issued_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["cert_issuers.id"], name=op.f("fk_certificates_issuer_id_cert_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["module_version_id"],
            ["module_versions.id"],
            name=op.f("fk_certificates_module_version_id_module_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["refers_to_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_refers_to_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_supersedes_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificates_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint(
            "issuer_id",
            "year",
            "register_no",
            name=op.f("uq_certificates_issuer_id_year_register_no"),
        ),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_serial")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_class_id"), ["class_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_certificates_one_valid",
            ["class_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'valid' AND kind = 'certificate'"),
            postgresql_where=sa.text("status = 'valid' AND kind = 'certificate'"),
        )

    # A plain ADD COLUMN (no batch copy of "classes": on SQLite that would drop and recreate the
    # table under live foreign keys). SQLite takes the reference inline; PostgreSQL separately.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE classes ADD COLUMN issuer_id INTEGER "
            "CONSTRAINT fk_classes_issuer_id_cert_issuers REFERENCES cert_issuers (id)"
        )
    else:
        op.add_column("classes", sa.Column("issuer_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_classes_issuer_id_cert_issuers"),
            "classes",
            "cert_issuers",
            ["issuer_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_classes_issuer_id_cert_issuers"), type_="foreignkey"
        )
        batch_op.drop_column("issuer_id")

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certificates_one_valid",
            sqlite_where=sa.text("status = 'valid' AND kind = 'certificate'"),
            postgresql_where=sa.text("status = 'valid' AND kind = 'certificate'"),
        )
        batch_op.drop_index(batch_op.f("ix_certificates_user_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_class_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("cert_issue_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cert_issue_jobs_class_id"))

    op.drop_table("cert_issue_jobs")
    op.drop_table("cert_register_counters")
    op.drop_table("cert_issuers")
    op.drop_table("rate_windows")
