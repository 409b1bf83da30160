"""What the tamper-evident trail costs, each figure beside a bare-SQL baseline measured in
the same run on the same database (this machine is shared: read the ratios).

- write: one audit event per transaction, as a request writes it (`record_event`), and
  as a bare INSERT into `audit_event` (its xid trigger), each against a bare INSERT into
  a copy of the table with the same indexes but no trigger; and an enquiry's event, with
  a personal part (purpose text, criteria, the names shown), through `record_event`
  (since chain version 2 it carries a salted commitment to that part);
- seal: events chained per second by the sealer, against reading the same rows in
  (xid, seq) order with no hashing;
- verify: events checked per second, against reading seals joined to their events.

    .venv/bin/python -m bench.audit.chain --events 20000
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from alembic import command
from sqlalchemy import text

from index_service.audit.sealer import seal
from index_service.audit.service import AuditDraft, record_event
from index_service.audit.verify import run_verify
from index_service.database import (
    APP_ROLE,
    SEALER_ROLE,
    as_role,
    ensure_database,
    open_database,
    plain_conninfo,
    start_embedded_postgres,
    with_database,
)
from index_service.migrations_state import alembic_config
from index_service.settings import Settings

DATABASE = "index_service_bench_audit"


def _fresh(server: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    ensure_database(server, DATABASE)
    url = with_database(server, DATABASE)
    command.upgrade(alembic_config(url), "head")
    return url


def _cuts(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(q[49] * 1000, 3),
        "p95_ms": round(q[94] * 1000, 3),
        "p99_ms": round(q[98] * 1000, 3),
    }


def main(
    events: Annotated[int, typer.Option(help="Events to write, seal and verify.")] = 20_000,
    timed_writes: Annotated[int, typer.Option(help="Single-event transactions timed.")] = 2000,
    database_url: Annotated[str | None, typer.Option(help="Default: embedded PostgreSQL.")] = None,
) -> None:
    server = (
        plain_conninfo(database_url) if database_url else start_embedded_postgres(Path(".data"))
    )
    owner = _fresh(server)
    db = open_database(as_role(owner, APP_ROLE, None), pool_size=2, application_name="bench")
    # The sealer's own role: it alone may append to the chain (the service's may not).
    sealer_db = open_database(
        as_role(owner, SEALER_ROLE, None), pool_size=1, application_name="bench"
    )
    draft = AuditDraft(
        action="child:record:read",
        method="GET",
        route="/v1/children/{child_id}",
        request_id="bench",
        instance="bench",
        detail={"n": 1},
    )
    enquiry = AuditDraft(
        action="child:enquiry:create",
        method="POST",
        route="/v1/enquiries",
        request_id="bench",
        instance="bench",
        purpose="direct_care",
        purpose_text="Worried about a child seen at the emergency department tonight",
        detail={
            "outcome": "not_found",
            "criteria": {"given_name": "amelia", "family_name": "smith", "postcode": "W5 2AA"},
            "explanations": [{"name": "Amelia Smith", "score": 0.42, "fields": ["dob"]}],
        },
    )
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("CREATE TABLE bare_event (LIKE audit_event INCLUDING ALL)")
        conn.execute(f"GRANT INSERT, SELECT ON bare_event TO {APP_ROLE}")
    guarded, personal, table_sql, bare = [], [], [], []
    columns = (
        "(id, occurred_at, action, outcome, status_code, roles, child_ids, method, route,"
        " request_id, instance, detail)"
    )
    values = (
        " VALUES (gen_random_uuid(), now(), 'child:record:read', 'success', 200, '{}',"
        " '{}', 'GET', '/v1/children/{child_id}', 'bench', 'bench', '{\"n\": 1}')"
    )
    with psycopg.connect(as_role(owner, APP_ROLE, None)) as raw:
        for _ in range(timed_writes):
            start = time.perf_counter()
            with db.transaction() as session:
                record_event(session=session, draft=draft, status_code=200)
            guarded.append(time.perf_counter() - start)
            start = time.perf_counter()
            with db.transaction() as session:
                record_event(session=session, draft=enquiry, status_code=201)
            personal.append(time.perf_counter() - start)
            for table, times in (("audit_event", table_sql), ("bare_event", bare)):
                start = time.perf_counter()
                raw.execute(f"INSERT INTO {table} {columns}{values}")
                raw.commit()
                times.append(time.perf_counter() - start)
    with db.engine.begin() as conn:  # the rest in bulk, as many requests would
        conn.execute(
            text(
                "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
                " child_ids, method, route, request_id, instance, detail)"
                " SELECT gen_random_uuid(), now(), 'child:record:read', 'success', 200, '{}', '{}',"
                " 'GET', '/v1/children/{child_id}', 'bench', 'bench', '{\"n\": 1}'"
                " FROM generate_series(1, :n)"
            ),
            {"n": max(events - timed_writes, 0)},
        )
    total = max(events, timed_writes) + 2 * timed_writes

    start = time.perf_counter()
    with db.engine.connect() as conn:
        baseline_rows = len(
            conn.execute(text("SELECT * FROM audit_event e ORDER BY xid, seq")).all()
        )
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    sealed = 0
    while n := seal(sealer_db, batch=5000):
        sealed += n
    seal_seconds = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(environment="test", database_url=owner, data_dir=Path(scratch))
        start = time.perf_counter()
        with db.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT * FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id "
                    "ORDER BY s.position"
                )
            ).all()
        join_seconds = time.perf_counter() - start
        start = time.perf_counter()
        report = run_verify(db=db, settings=settings)
        verify_seconds = time.perf_counter() - start
    db.close()
    sealer_db.close()
    print(
        json.dumps(
            {
                "events": total,
                "write_guarded": _cuts(guarded),
                "write_guarded_personal": _cuts(personal),
                "write_bare_sql": _cuts(bare),
                "write_audit_table_sql": _cuts(table_sql),
                "write_p50_ratio_service_to_bare": round(
                    statistics.median(guarded) / statistics.median(bare), 2
                ),
                "write_p50_ratio_audit_table_to_bare": round(
                    statistics.median(table_sql) / statistics.median(bare), 2
                ),
                "seal_events_per_s": round(sealed / seal_seconds),
                "read_in_order_events_per_s": round(baseline_rows / read_seconds),
                "seal_ratio_to_read": round(seal_seconds / read_seconds, 2),
                "verify_events_per_s": round(report.events_checked / verify_seconds),
                "verify_ratio_to_join": round(verify_seconds / join_seconds, 2),
                "verify_ok": report.ok,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    typer.run(main)
