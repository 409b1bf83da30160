"""Records over their life: merge and unmerge (`child.merged_into`, `child_merge` with the
snapshot an unmerge restores from), archive (`child.archived_at`), legal holds
(`child.legal_hold_*`) and the tombstones destroyed entries leave (`child_tombstone`); a
GIN index on `enquiry.candidate_ids`, so a merge finds the enquiries that showed the
entry it merges away without reading them all; a partial index of active entries by
date of birth, for the scheduler's archive look-up every tick.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("child", sa.Column("merged_into", sa.Uuid(), nullable=True))
    op.create_foreign_key("fk_child_merged_into", "child", "child", ["merged_into"], ["id"])
    op.create_index(op.f("ix_child_merged_into"), "child", ["merged_into"])
    op.add_column("child", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_child_archived_at"), "child", ["archived_at"])
    op.add_column("child", sa.Column("legal_hold_reason", sa.String(length=200), nullable=True))
    op.add_column("child", sa.Column("legal_hold_by", sa.String(length=610), nullable=True))
    op.add_column("child", sa.Column("legal_hold_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        "ck_child_merged_into", "child", "(status = 'merged') = (merged_into IS NOT NULL)"
    )
    op.create_index(
        "ix_child_active_born",
        "child",
        ["date_of_birth"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "child_merge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("survivor_version", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by", sa.String(length=610), nullable=False),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unmerged_by", sa.String(length=610), nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["child.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merged_id"], ["child.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_child_merge_survivor_id"), "child_merge", ["survivor_id"])
    op.create_index(op.f("ix_child_merge_merged_id"), "child_merge", ["merged_id"])
    op.create_index(
        "ix_enquiry_candidate_ids", "enquiry", ["candidate_ids"], postgresql_using="gin"
    )
    op.create_table(
        "child_tombstone",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("responsible_authority", sa.String(length=9), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("child_tombstone")
    op.drop_index("ix_enquiry_candidate_ids", table_name="enquiry", postgresql_using="gin")
    op.drop_index(op.f("ix_child_merge_merged_id"), table_name="child_merge")
    op.drop_index(op.f("ix_child_merge_survivor_id"), table_name="child_merge")
    op.drop_table("child_merge")
    op.drop_index("ix_child_active_born", table_name="child")
    op.drop_constraint("ck_child_merged_into", "child", type_="check")
    op.drop_column("child", "legal_hold_at")
    op.drop_column("child", "legal_hold_by")
    op.drop_column("child", "legal_hold_reason")
    op.drop_index(op.f("ix_child_archived_at"), table_name="child")
    op.drop_column("child", "archived_at")
    op.drop_index(op.f("ix_child_merged_into"), table_name="child")
    op.drop_constraint("fk_child_merged_into", "child", type_="foreignkey")
    op.drop_column("child", "merged_into")
