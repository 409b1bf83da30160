"""Where the database schema stands against the migrations shipped with the code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url is not None:
        config.attributes["database_url"] = url
    return config


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str | None

    @property
    def at_head(self) -> bool:
        return self.current is not None and self.current == self.head


def schema_state(engine: Engine) -> SchemaState:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return SchemaState(current=current, head=head)


def schema_state_over(conn: psycopg.Connection) -> SchemaState:
    """The same, over a plain connection (a readiness probe's own, short one): a schema
    with no version table, or one the role may not read, is behind."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        row = None
    return SchemaState(current=row[0] if row else None, head=head)
