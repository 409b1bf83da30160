"""Access policy: suspensions, enquiries (the search with a purpose), accesses to
shielded records kept for the data manager's alert, per-user rate-limit windows
(UNLOGGED: counts, not records), and an index on date of birth for searches.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_window",
        sa.Column("principal", sa.String(length=620), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "bucket", "window_start"),
        prefixes=["UNLOGGED"],
    )
    op.create_table(
        "suspension",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("organisation_code", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("suspended_by", sa.String(length=300), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=300), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'user' AND issuer IS NOT NULL AND subject IS NOT NULL AND organisation_code IS NULL) OR (kind = 'organisation' AND organisation_code IS NOT NULL AND issuer IS NULL AND subject IS NULL)",
            name="ck_suspension_target",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_suspension_active_organisation",
        "suspension",
        ["organisation_code"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL AND kind = 'organisation'"),
    )
    op.create_index(
        "uq_suspension_active_user",
        "suspension",
        ["issuer", "subject"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL AND kind = 'user'"),
    )
    op.create_table(
        "enquiry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("purpose_text", sa.String(length=200), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("candidate_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_enquiry_enquirer", "enquiry", ["issuer", "subject", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_enquiry_organisation_id"), "enquiry", ["organisation_id"], unique=False
    )
    op.create_table(
        "shielded_access",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("responsible_authority", sa.String(length=9), nullable=False),
        sa.Column("accessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("organisation_code", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_shielded_access_alerted_at"), "shielded_access", ["alerted_at"], unique=False
    )
    op.create_index(
        op.f("ix_shielded_access_child_id"), "shielded_access", ["child_id"], unique=False
    )
    op.create_index(op.f("ix_child_date_of_birth"), "child", ["date_of_birth"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_child_date_of_birth"), table_name="child")
    op.drop_index(op.f("ix_shielded_access_child_id"), table_name="shielded_access")
    op.drop_index(op.f("ix_shielded_access_alerted_at"), table_name="shielded_access")
    op.drop_table("shielded_access")
    op.drop_index(op.f("ix_enquiry_organisation_id"), table_name="enquiry")
    op.drop_index("ix_enquiry_enquirer", table_name="enquiry")
    op.drop_table("enquiry")
    op.drop_index(
        "uq_suspension_active_user",
        table_name="suspension",
        postgresql_where=sa.text("lifted_at IS NULL AND kind = 'user'"),
    )
    op.drop_index(
        "uq_suspension_active_organisation",
        table_name="suspension",
        postgresql_where=sa.text("lifted_at IS NULL AND kind = 'organisation'"),
    )
    op.drop_table("suspension")
    op.drop_table("rate_window")
