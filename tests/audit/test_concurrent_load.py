"""Under concurrent load, with the sealer running alongside: every response that disclosed
child data has exactly one audit event, the chain verifies, and the only numbers missing
from the event sequence are those of transactions that rolled back."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.audit.sealer import SEALER_LOCK, Sealer, seal
from index_service.audit.service import AuditDraft, record_event
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings
from tests.audit.conftest import seal_all
from tests.factories import Factory, child_payload, other_child

BY_NAME = {"family_name": "Testchild", "given_names": "Aisha", "date_of_birth": "2016-02-11"}


def _rolled_back_audit_insert(db: Database) -> None:
    """An audit event written and then rolled back with its work (a request that failed
    after writing its row): it takes a sequence number that will never be used."""
    with db.session() as session:
        draft = AuditDraft(
            action="child:record:read", method="GET", route="/x", request_id="rb", instance="t"
        )
        record_event(session=session, draft=draft, status_code=200)
        session.rollback()


def test_every_disclosing_response_has_one_event_and_the_chain_holds_under_load(
    client: TestClient, factory: Factory, db: Database, sealer_db: Database, settings: Settings
) -> None:
    dm = factory.data_manager()
    ids = []
    for _ in range(6):
        created = client.post("/v1/children", json=other_child(), headers=dm)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    assert client.post("/v1/children", json=child_payload(), headers=dm).status_code == 201
    practitioners = [factory.practitioner() for _ in range(4)]
    rng = random.Random(7)

    def work(n: int) -> tuple[str, Any]:
        kind = n % 5
        if kind == 0:
            return "rollback", _rolled_back_audit_insert(db)
        if kind in (1, 2):
            return "read", client.get(f"/v1/children/{rng.choice(ids)}", headers=dm)
        if kind == 3:
            headers = practitioners[n % len(practitioners)]
            return "enquiry", client.post("/v1/enquiries", json=BY_NAME, headers=headers)
        return "refused", client.get(f"/v1/children/{ids[0]}", headers={"Authorization": "x"})

    stop = threading.Event()
    sealer = Sealer(sealer_db, settings)

    def keep_sealing() -> None:
        while not stop.is_set():
            seal(sealer_db, batch=7)
            sealer.checkpoint(utcnow())

    sealing = threading.Thread(target=keep_sealing)
    sealing.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(150)))
    finally:
        stop.set()
        sealing.join()

    disclosing = [
        r for kind, r in results if kind in ("read", "enquiry") and r.status_code in (200, 201)
    ]
    assert len(disclosing) == 90  # every read and every enquiry answered
    rows = factory.audit_rows()
    per_request: dict[str, int] = {}
    for row in rows:
        per_request[row["request_id"]] = per_request.get(row["request_id"], 0) + 1
    for response in disclosing:
        assert per_request.get(response.headers["X-Request-ID"]) == 1
        assert response.json()  # the answer carried child data
    refused = [r for kind, r in results if kind == "refused"]
    assert all(per_request.get(r.headers["X-Request-ID"]) == 1 for r in refused)

    seal_all(sealer_db)
    Sealer(sealer_db, settings).checkpoint(utcnow())
    report = run_verify(db=db, settings=settings)
    assert report.ok, report.problems
    assert report.events_checked == len(rows)
    assert report.checkpoints_checked >= 2
    rolled_back = sum(1 for kind, _ in results if kind == "rollback")
    assert report.seq_gaps == rolled_back == 30


def test_a_sealer_that_finds_another_at_work_steps_aside(
    db: Database, sealer_db: Database, events: Callable[[int], list[str]]
) -> None:
    events(3)
    with db.transaction() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEALER_LOCK})
        assert seal(sealer_db) is None
    seal_all(sealer_db)
