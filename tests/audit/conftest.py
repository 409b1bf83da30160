"""Audit fixtures: events written as requests write them, the sealer, and a superuser's
connection for tampering."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from index_service.audit.sealer import Sealer, seal
from index_service.audit.service import AuditDraft, record_event
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings


def write_events(db: Database, n: int, *, action: str = "child:record:read") -> list[str]:
    """`n` audit events, each in a transaction of its own, as requests write them."""
    ids = []
    for i in range(n):
        with db.transaction() as session:
            draft = AuditDraft(
                action=action,
                method="GET",
                route="/v1/children/{child_id}",
                request_id=f"req-{i}",
                instance="test",
                detail={"n": i},
            )
            ids.append(str(record_event(session=session, draft=draft, status_code=200)))
    return ids


@pytest.fixture
def events(db: Database) -> Callable[[int], list[str]]:
    return lambda n: write_events(db, n)


@pytest.fixture
def sealer(sealer_db: Database, settings: Settings) -> Sealer:
    return Sealer(sealer_db, settings)


def seal_all(db: Database) -> None:
    """Seal every committed event. Sealing waits for older transactions anywhere on the
    server to end (another test session may share it), so this waits for them too."""
    deadline = time.monotonic() + 60
    while True:
        seal(db)
        with db.engine.connect() as conn:
            pending = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_event e "
                "WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)"
            ).scalar()
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pending} audit events still unsealed after a minute")
        time.sleep(0.05)


@pytest.fixture
def sealed(sealer_db: Database, sealer: Sealer) -> Callable[[], None]:
    """Seal everything committed and sign a checkpoint of the head."""

    def run() -> None:
        seal_all(sealer_db)
        sealer.checkpoint(utcnow())

    return run


@pytest.fixture
def superuser(database_url: str) -> Iterator[psycopg.Connection]:
    """The database's owner with the append-only triggers switched off: someone with full
    access to the database, trying to edit the trail."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn
