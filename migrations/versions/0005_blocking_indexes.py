"""Candidate search at national scale: each name row carries the child's date of birth
(kept in step by the children service), so that the blocking rules are single composite
index lookups instead of joins through every child born that day. The single-column key
indexes and the trigram index they replace are dropped: the misspelt-family-name rule now
tests trigram similarity on the handful of rows one date of birth and given name find.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SINGLE = ("family_key", "family_phonetic", "given_key", "given_phonetic")
COMPOSITE = {
    "ix_child_name_born_family": ["date_of_birth", "family_phonetic"],
    "ix_child_name_born_given": ["date_of_birth", "given_key"],
    "ix_child_name_names": ["family_phonetic", "given_key", "date_of_birth"],
    "ix_child_name_swapped": ["given_phonetic", "family_phonetic"],
}


def upgrade() -> None:
    op.add_column("child_name", sa.Column("date_of_birth", sa.Date(), nullable=True))
    op.execute(
        "UPDATE child_name SET date_of_birth = child.date_of_birth"
        " FROM child WHERE child.id = child_name.child_id"
    )
    op.alter_column("child_name", "date_of_birth", nullable=False)
    op.drop_index("ix_child_name_family_key_trgm", table_name="child_name")
    for name in _SINGLE:
        op.drop_index(f"ix_child_name_{name}", table_name="child_name")
    for index, columns in COMPOSITE.items():
        op.create_index(index, "child_name", columns, unique=False)


def downgrade() -> None:
    for index in COMPOSITE:
        op.drop_index(index, table_name="child_name")
    for name in _SINGLE:
        op.create_index(f"ix_child_name_{name}", "child_name", [name], unique=False)
    op.create_index(
        "ix_child_name_family_key_trgm",
        "child_name",
        ["family_key"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"family_key": "gin_trgm_ops"},
    )
    op.drop_column("child_name", "date_of_birth")
