"""The front door's district lookup (`postcode LIKE 'W5 %'`, for a postcode the index
holds no address at) reads an index: a prefix needs `text_pattern_ops` under a
non-C collation, and without it each such not-found enquiry scanned every address.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_child_address_postcode_prefix",
        "child_address",
        ["postcode"],
        postgresql_ops={"postcode": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_child_address_postcode_prefix", table_name="child_address")
