"""Foundation: organisations, children (names, addresses, carers), involvements, flags and
the audit trail; the extensions later matching work relies on.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for extension in ("pg_trgm", "fuzzystrmatch", "unaccent"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("issuer", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("organisation", sa.String(length=16), nullable=True),
        sa.Column("roles", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("child_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.Column("purpose_text", sa.String(length=500), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=100), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_event_action"), "audit_event", ["action"], unique=False)
    op.create_index(
        op.f("ix_audit_event_occurred_at"), "audit_event", ["occurred_at"], unique=False
    )
    op.create_index(
        op.f("ix_audit_event_organisation"), "audit_event", ["organisation"], unique=False
    )
    op.create_index(op.f("ix_audit_event_request_id"), "audit_event", ["request_id"], unique=False)
    op.create_index(op.f("ix_audit_event_subject"), "audit_event", ["subject"], unique=False)
    # "who looked at this child": the audit rows naming a child
    op.create_index(
        "ix_audit_event_child_ids",
        "audit_event",
        ["child_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "child",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("date_of_birth_precision", sa.String(length=16), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("upn", sa.String(length=13), nullable=True),
        sa.Column("la_reference", sa.String(length=40), nullable=True),
        sa.Column("responsible_authority", sa.String(length=9), nullable=False),
        sa.Column("carers_status", sa.String(length=16), nullable=False),
        sa.Column("gp_status", sa.String(length=16), nullable=False),
        sa.Column("gp_ods_code", sa.String(length=8), nullable=True),
        sa.Column("gp_phone", sa.String(length=24), nullable=True),
        sa.Column("education_status", sa.String(length=24), nullable=False),
        sa.Column("school_urn", sa.String(length=8), nullable=True),
        sa.Column("school_phone", sa.String(length=24), nullable=True),
        sa.Column("shielded", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provenance", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_organisation", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("version > 0", name="ck_child_version_positive"),
        sa.CheckConstraint("status IN ('active', 'archived', 'merged')", name="ck_child_status"),
    )
    op.create_index(op.f("ix_child_nhs_number"), "child", ["nhs_number"], unique=False)
    op.create_index(
        op.f("ix_child_responsible_authority"), "child", ["responsible_authority"], unique=False
    )
    op.create_index(op.f("ix_child_upn"), "child", ["upn"], unique=False)
    op.create_table(
        "organisation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("local_authority", sa.String(length=9), nullable=False),
        sa.Column("contact_phone", sa.String(length=24), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(
        op.f("ix_organisation_local_authority"), "organisation", ["local_authority"], unique=False
    )
    op.create_table(
        "carer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_carer_child_id"), "carer", ["child_id"], unique=False)
    op.create_table(
        "child_address",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("local_authority", sa.String(length=9), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_child_address_child_id"), "child_address", ["child_id"], unique=False)
    op.create_index("ix_child_address_postcode", "child_address", ["postcode"], unique=False)
    op.create_table(
        "child_name",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("given_names", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_child_name_child_id"), "child_name", ["child_id"], unique=False)
    op.create_table(
        "flag",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_phone", sa.String(length=24), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("raised_by_issuer", sa.String(length=300), nullable=False),
        sa.Column("raised_by_subject", sa.String(length=300), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_flag_child_id"), "flag", ["child_id"], unique=False)
    op.create_index(op.f("ix_flag_organisation_id"), "flag", ["organisation_id"], unique=False)
    op.create_table(
        "involvement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("practitioner_name", sa.String(length=200), nullable=False),
        sa.Column("practitioner_phone", sa.String(length=24), nullable=True),
        sa.Column("practitioner_email", sa.String(length=254), nullable=True),
        sa.Column("practitioner_issuer", sa.String(length=300), nullable=True),
        sa.Column("practitioner_subject", sa.String(length=300), nullable=True),
        sa.Column("is_key_worker", sa.Boolean(), nullable=False),
        sa.Column("is_lead_professional", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_involvement_child_id"), "involvement", ["child_id"], unique=False)
    op.create_index(
        op.f("ix_involvement_organisation_id"), "involvement", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_involvement_organisation_id"), table_name="involvement")
    op.drop_index(op.f("ix_involvement_child_id"), table_name="involvement")
    op.drop_table("involvement")
    op.drop_index(op.f("ix_flag_organisation_id"), table_name="flag")
    op.drop_index(op.f("ix_flag_child_id"), table_name="flag")
    op.drop_table("flag")
    op.drop_index(op.f("ix_child_name_child_id"), table_name="child_name")
    op.drop_table("child_name")
    op.drop_index("ix_child_address_postcode", table_name="child_address")
    op.drop_index(op.f("ix_child_address_child_id"), table_name="child_address")
    op.drop_table("child_address")
    op.drop_index(op.f("ix_carer_child_id"), table_name="carer")
    op.drop_table("carer")
    op.drop_index(op.f("ix_organisation_local_authority"), table_name="organisation")
    op.drop_table("organisation")
    op.drop_index(op.f("ix_child_upn"), table_name="child")
    op.drop_index(op.f("ix_child_responsible_authority"), table_name="child")
    op.drop_index(op.f("ix_child_nhs_number"), table_name="child")
    op.drop_table("child")
    op.drop_index("ix_audit_event_child_ids", table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_subject"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_request_id"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_organisation"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_occurred_at"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_action"), table_name="audit_event")
    op.drop_table("audit_event")
