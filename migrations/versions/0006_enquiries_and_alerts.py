"""Enquiries and alerts: enquiry-only contacts, alerts with their outbox (one row per
delivery channel and target) and delivery attempts, the webhook endpoints administrators
allow, and who ended a flag or an involvement.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.Column("enquiry_id", sa.Uuid(), nullable=True),
        sa.Column("enquiry_contact_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_issuer", sa.String(length=300), nullable=True),
        sa.Column("recipient_subject", sa.String(length=300), nullable=True),
        sa.Column("recipient_name", sa.String(length=200), nullable=True),
        sa.Column("recipient_email", sa.String(length=254), nullable=True),
        sa.Column("recipient_team", sa.String(length=40), nullable=True),
        sa.Column("recipient_authority", sa.String(length=9), nullable=True),
        sa.Column("recipient_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("actor_issuer", sa.String(length=300), nullable=True),
        sa.Column("actor_subject", sa.String(length=300), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("actor_organisation_code", sa.String(length=16), nullable=True),
        sa.Column("actor_organisation_name", sa.String(length=200), nullable=True),
        sa.Column("actor_phone", sa.String(length=24), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.Column("purpose_text", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=610), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_of", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["escalation_of"],
            ["alert.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recipient_organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_dedupe", "alert", ["dedupe_key", "created_at"], unique=False)
    op.create_index(
        "ix_alert_due",
        "alert",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("acknowledged_at IS NULL AND escalated_at IS NULL"),
    )
    op.create_index(
        "ix_alert_recipient",
        "alert",
        ["recipient_issuer", "recipient_subject", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_alert_team",
        "alert",
        ["recipient_team", "recipient_authority", "created_at"],
        unique=False,
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=610), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_webhook_endpoint_organisation_id"),
        "webhook_endpoint",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("email_to", sa.String(length=254), nullable=True),
        sa.Column("webhook_endpoint_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["webhook_endpoint_id"],
            ["webhook_endpoint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_alert_delivery_alert_id"), "alert_delivery", ["alert_id"], unique=False
    )
    op.create_index(
        "ix_alert_delivery_due",
        "alert_delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "enquiry_contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enquiry_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("enquirer_name", sa.String(length=200), nullable=False),
        sa.Column("enquirer_email", sa.String(length=254), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("purpose_text", sa.String(length=200), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("advice", sa.String(length=1000), nullable=False),
        sa.Column("local_authority", sa.String(length=9), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("family_key", sa.String(length=100), nullable=True),
        sa.Column("given_key", sa.String(length=100), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=610), nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_enquiry_contact_authority",
        "enquiry_contact",
        ["local_authority", "created_at"],
        unique=False,
    )
    op.create_index("ix_enquiry_contact_born", "enquiry_contact", ["date_of_birth"], unique=False)
    op.create_index(
        op.f("ix_enquiry_contact_enquiry_id"), "enquiry_contact", ["enquiry_id"], unique=False
    )
    op.create_index("ix_enquiry_contact_expires", "enquiry_contact", ["expires_at"], unique=False)
    op.create_index("ix_enquiry_contact_nhs", "enquiry_contact", ["nhs_number"], unique=False)
    op.create_index(
        "ix_enquiry_contact_year_family",
        "enquiry_contact",
        ["birth_year", "family_key"],
        unique=False,
    )
    op.create_index(
        "ix_enquiry_contact_year_given",
        "enquiry_contact",
        ["birth_year", "given_key"],
        unique=False,
    )
    op.create_table(
        "alert_delivery_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["alert_delivery.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_alert_delivery_attempt_delivery_id"),
        "alert_delivery_attempt",
        ["delivery_id"],
        unique=False,
    )
    op.add_column("flag", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("flag", sa.Column("ended_by", sa.String(length=610), nullable=True))
    op.add_column("involvement", sa.Column("ended_by", sa.String(length=610), nullable=True))
    op.add_column("shielded_access", sa.Column("name", sa.String(length=200), nullable=True))
    op.add_column("shielded_access", sa.Column("email", sa.String(length=254), nullable=True))
    op.create_index(
        "ix_flag_review",
        "flag",
        ["raised_by_issuer", "raised_by_subject", "review_date"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_column("shielded_access", "email")
    op.drop_column("shielded_access", "name")
    op.drop_index("ix_flag_review", table_name="flag", postgresql_where=sa.text("ended_at IS NULL"))
    op.drop_column("involvement", "ended_by")
    op.drop_column("flag", "ended_by")
    op.drop_column("flag", "reviewed_at")
    op.drop_index(
        op.f("ix_alert_delivery_attempt_delivery_id"), table_name="alert_delivery_attempt"
    )
    op.drop_table("alert_delivery_attempt")
    op.drop_index("ix_enquiry_contact_year_given", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_year_family", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_nhs", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_expires", table_name="enquiry_contact")
    op.drop_index(op.f("ix_enquiry_contact_enquiry_id"), table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_born", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_authority", table_name="enquiry_contact")
    op.drop_table("enquiry_contact")
    op.drop_index(
        "ix_alert_delivery_due",
        table_name="alert_delivery",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_alert_delivery_alert_id"), table_name="alert_delivery")
    op.drop_table("alert_delivery")
    op.drop_index(op.f("ix_webhook_endpoint_organisation_id"), table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")
    op.drop_index("ix_alert_team", table_name="alert")
    op.drop_index("ix_alert_recipient", table_name="alert")
    op.drop_index(
        "ix_alert_due",
        table_name="alert",
        postgresql_where=sa.text("acknowledged_at IS NULL AND escalated_at IS NULL"),
    )
    op.drop_index("ix_alert_dedupe", table_name="alert")
    op.drop_table("alert")
