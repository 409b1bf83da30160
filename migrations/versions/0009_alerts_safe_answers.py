"""Safe answers in alerts (issue 13): whether an alert's actor is shown masked (a
sensitive service: only the data manager's contact is kept), the note an acknowledgement
may carry, the allocated worker of an involvement (who may have no login), and the review
date a flag's overdue alert was raised for (once per flag per review date).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "alert",
        sa.Column("actor_sensitive", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("alert", sa.Column("acknowledged_note", sa.String(length=200), nullable=True))
    op.add_column(
        "involvement",
        sa.Column("is_allocated_worker", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("flag", sa.Column("overdue_alerted_for", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("flag", "overdue_alerted_for")
    op.drop_column("involvement", "is_allocated_worker")
    op.drop_column("alert", "acknowledged_note")
    op.drop_column("alert", "actor_sensitive")
