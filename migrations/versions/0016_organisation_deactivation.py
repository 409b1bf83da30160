"""An organisation can be deactivated by an administrator (it no longer takes part) and
reactivated: when, by whom and why are kept on the row. Nothing is deleted: its past acts
stay in the audit trail and its children's records keep naming it. The directory (the
statement trigger of migration 0015 moves its number on any UPDATE of `organisation`)
treats a deactivated organisation as one that does not take part, so its users are
refused at their next request and their page sessions end.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisation", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("organisation", sa.Column("deactivated_by", sa.String(length=200), nullable=True))
    op.add_column(
        "organisation", sa.Column("deactivation_reason", sa.String(length=500), nullable=True)
    )
    op.create_check_constraint(
        "ck_organisation_deactivation_complete",
        "organisation",
        "(deactivated_at IS NULL) = (deactivated_by IS NULL)"
        " AND (deactivated_at IS NULL) = (deactivation_reason IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint("ck_organisation_deactivation_complete", "organisation")
    op.drop_column("organisation", "deactivation_reason")
    op.drop_column("organisation", "deactivated_by")
    op.drop_column("organisation", "deactivated_at")
