"""Addresses may carry a UPRN (Unique Property Reference Number, 1-12 digits): where both
addresses record one, it decides whether they are the same dwelling (R2).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("child_address", sa.Column("uprn", sa.String(length=12), nullable=True))
    op.create_check_constraint("ck_child_address_uprn", "child_address", "uprn ~ '^[0-9]{1,12}$'")


def downgrade() -> None:
    op.drop_constraint("ck_child_address_uprn", "child_address", type_="check")
    op.drop_column("child_address", "uprn")
