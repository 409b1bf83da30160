"""Identity matching: blocking keys on child_name for candidate search (the folded family
name and first given name and their Metaphone codes, with btree indexes and a trigram
index on the family key; existing names are backfilled with the same Python functions the
service uses), and the model version and explanations kept with each enquiry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("family_key", 100),
    ("family_phonetic", 40),
    ("given_key", 100),
    ("given_phonetic", 40),
)


def upgrade() -> None:
    for name, length in _COLUMNS:
        op.add_column(
            "child_name",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=""),
        )
        op.alter_column("child_name", name, server_default=None)
    _backfill()
    for name, _ in _COLUMNS:
        op.create_index(f"ix_child_name_{name}", "child_name", [name], unique=False)
    op.add_column(
        "enquiry",
        sa.Column("model_version", sa.String(length=40), nullable=False, server_default=""),
    )
    op.alter_column("enquiry", "model_version", server_default=None)
    op.add_column(
        "enquiry",
        sa.Column(
            "explanations",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default="[]",
        ),
    )
    op.alter_column("enquiry", "explanations", server_default=None)
    op.create_index(
        "ix_child_name_family_key_trgm",
        "child_name",
        ["family_key"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"family_key": "gin_trgm_ops"},
    )


def _backfill() -> None:
    from index_service.matching.keys import name_keys

    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, given_names, family_name FROM child_name"))
    update = sa.text(
        "UPDATE child_name SET family_key = :family_key, family_phonetic = :family_phonetic,"
        " given_key = :given_key, given_phonetic = :given_phonetic WHERE id = :id"
    )
    batch = []
    for row in rows.fetchall():
        batch.append({"id": row.id, **vars(name_keys(row.given_names, row.family_name))})
        if len(batch) >= 5000:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)


def downgrade() -> None:
    op.drop_column("enquiry", "explanations")
    op.drop_column("enquiry", "model_version")
    op.drop_index("ix_child_name_family_key_trgm", table_name="child_name")
    for name, _ in _COLUMNS:
        op.drop_index(f"ix_child_name_{name}", table_name="child_name")
        op.drop_column("child_name", name)
