"""Agency feeds: the feeds received, the row keys that make a re-sent feed change nothing,
and the review queue of rows the matcher could not decide.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_code", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feed_organisation_code", "feed", ["organisation_code"])
    op.create_table(
        "feed_row_key",
        sa.Column("organisation_code", sa.String(length=16), nullable=False),
        sa.Column("source_record_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("feed_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("organisation_code", "source_record_id", "content_hash"),
    )
    op.create_table(
        "feed_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("feed_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_code", sa.String(length=16), nullable=False),
        sa.Column("source_record_id", sa.String(length=64), nullable=False),
        sa.Column("responsible_authority", sa.String(length=9), nullable=False),
        sa.Column("record", postgresql.JSONB(), nullable=False),
        sa.Column("candidate_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=300), nullable=True),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'same_child', 'different_child', 'ignored')",
            name="ck_feed_review_status",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feed_review_feed_id", "feed_review", ["feed_id"])
    op.create_index("ix_feed_review_open", "feed_review", ["responsible_authority", "status"])


def downgrade() -> None:
    op.drop_table("feed_review")
    op.drop_table("feed_row_key")
    op.drop_index("ix_feed_organisation_code", table_name="feed")
    op.drop_table("feed")
