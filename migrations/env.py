"""Alembic environment: runs online against the service's database."""

from __future__ import annotations

import re
from typing import Any

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import index_service.models  # noqa: F401  (registers every table on the metadata)
from index_service.database import resolve_database_url
from index_service.settings import get_settings

target_metadata = SQLModel.metadata
# Held for the whole upgrade: a second `migrate` at once (two deploys, a rolling restart)
# waits, then finds the schema already at head, instead of failing on duplicate objects.
MIGRATION_LOCK = 0x4D494752  # "MIGR"
# The audit trail's monthly partitions (migration 0020) are made at run time, not modelled.
_PARTITION = re.compile(r"audit_event_(\d{4}_\d{2}|default)")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and reflected and name and _PARTITION.fullmatch(name))


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url") or resolve_database_url(get_settings())
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()


run_migrations_online()
