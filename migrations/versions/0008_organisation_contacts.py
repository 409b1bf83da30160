"""Organisation contacts out of hours: `organisation.out_of_hours_phone` (for children's
social care, its emergency duty team), and a check that every children's social care
organisation can be reached in hours and out of hours, since `not_found` answers send
enquirers to it.

The check is added NOT VALID: rows made before it are not rejected (PostgreSQL enforces
it on every insert and update from now on). Give existing children's social care rows
their numbers, then `ALTER TABLE organisation VALIDATE CONSTRAINT
ck_organisation_csc_reachable`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisation", sa.Column("out_of_hours_phone", sa.String(length=24), nullable=True)
    )
    op.execute(
        "ALTER TABLE organisation ADD CONSTRAINT ck_organisation_csc_reachable CHECK ("
        "type <> 'childrens_social_care' "
        "OR (contact_phone IS NOT NULL AND out_of_hours_phone IS NOT NULL)) NOT VALID"
    )


def downgrade() -> None:
    op.drop_constraint("ck_organisation_csc_reachable", "organisation", type_="check")
    op.drop_column("organisation", "out_of_hours_phone")
