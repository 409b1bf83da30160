"""The expectant mother's identity on an unborn child's record (names, date of birth, NHS
number), so that a pre-birth plan is found by an enquiry about the mother, as CP-IS does
at maternity and emergency departments. Deleted with the child.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_mother",
        sa.Column(
            "child_id",
            sa.Uuid,
            sa.ForeignKey("child.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("given_names", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=True),
    )
    op.create_index("ix_child_mother_date_of_birth", "child_mother", ["date_of_birth"])
    op.create_index("ix_child_mother_nhs_number", "child_mother", ["nhs_number"])


def downgrade() -> None:
    op.drop_table("child_mother")
