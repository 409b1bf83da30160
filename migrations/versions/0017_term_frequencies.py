"""The NHS number's verification status on a child record (unverified, verified by a PDS
trace, from a trusted feed; only a verified one decides a match), and term frequencies
for match model v4: how many of the index's names carry each folded
first given name and family name, and how many addresses each postcode. Counts of a
token only, kept in step by the children service as names and addresses are written
(`matching/frequencies.py`); filled here from the rows already held.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "term_frequency",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("token", sa.String(100), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint(
            "kind IN ('given', 'family', 'postcode')", name="ck_term_frequency_kind"
        ),
    )
    op.execute(
        "INSERT INTO term_frequency (kind, token, count)"
        " SELECT 'given', given_key, count(*) FROM child_name WHERE given_key <> ''"
        " GROUP BY given_key"
        " UNION ALL SELECT 'family', family_key, count(*) FROM child_name"
        " WHERE family_key <> '' GROUP BY family_key"
        " UNION ALL SELECT 'postcode', postcode, count(*) FROM child_address GROUP BY postcode"
    )

    op.add_column(
        "child",
        sa.Column("nhs_number_status", sa.String(16), nullable=False, server_default="unverified"),
    )
    op.create_check_constraint(
        "ck_child_nhs_number_status",
        "child",
        "nhs_number_status IN ('unverified', 'verified_trace', 'trusted_feed')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_child_nhs_number_status", "child")
    op.drop_column("child", "nhs_number_status")
    op.drop_table("term_frequency")
