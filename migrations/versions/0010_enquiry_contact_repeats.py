"""Enquiry-only contacts (R3, issue 13): every name the enquirer gave as blocking keys
(`name_keys`, GIN-indexed, replacing the first name's `family_key` and `given_key`); the
contact match model's version; and the same enquirer's repeats folded into one contact
(`last_seen_at`, `enquiry_count`). Existing contacts keep their first name's keys and count
as seen once, when made. No new table: the service role's table grants cover the columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "enquiry_contact",
        sa.Column(
            "name_keys",
            postgresql.ARRAY(sa.String(length=100)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "enquiry_contact", sa.Column("model_version", sa.String(length=40), nullable=True)
    )
    op.add_column(
        "enquiry_contact", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "enquiry_contact",
        sa.Column("enquiry_count", sa.Integer(), server_default="1", nullable=False),
    )
    op.execute(
        "UPDATE enquiry_contact SET last_seen_at = created_at, "
        "name_keys = array_remove(ARRAY[given_key, family_key], NULL)"
    )
    op.alter_column("enquiry_contact", "last_seen_at", nullable=False)
    op.alter_column("enquiry_contact", "enquiry_count", server_default=None)
    op.drop_index("ix_enquiry_contact_year_family", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_year_given", table_name="enquiry_contact")
    op.drop_column("enquiry_contact", "family_key")
    op.drop_column("enquiry_contact", "given_key")
    op.create_index("ix_enquiry_contact_year", "enquiry_contact", ["birth_year"], unique=False)
    op.create_index(
        "ix_enquiry_contact_names",
        "enquiry_contact",
        ["name_keys"],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_enquiry_contact_names", table_name="enquiry_contact")
    op.drop_index("ix_enquiry_contact_year", table_name="enquiry_contact")
    op.add_column("enquiry_contact", sa.Column("given_key", sa.String(length=100), nullable=True))
    op.add_column("enquiry_contact", sa.Column("family_key", sa.String(length=100), nullable=True))
    # Lossy: the first name's keys were stored first, given then family.
    op.execute("UPDATE enquiry_contact SET given_key = name_keys[1], family_key = name_keys[2]")
    op.create_index(
        "ix_enquiry_contact_year_given",
        "enquiry_contact",
        ["birth_year", "given_key"],
        unique=False,
    )
    op.create_index(
        "ix_enquiry_contact_year_family",
        "enquiry_contact",
        ["birth_year", "family_key"],
        unique=False,
    )
    op.drop_column("enquiry_contact", "enquiry_count")
    op.drop_column("enquiry_contact", "last_seen_at")
    op.drop_column("enquiry_contact", "model_version")
    op.drop_column("enquiry_contact", "name_keys")
