"""The database counters in /metrics: statements and transactions of the app's engine,
which bench/load divides by the enquiries it sent."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from index_service.database import Database
from tests.factories import VALID_NHS_NUMBER, Factory


def _counter(client: TestClient, name: str) -> float:
    found = re.search(rf"^{name}_total (\S+)$", client.get("/metrics").text, re.MULTILINE)
    assert found is not None, name
    return float(found.group(1))


def _counters(client: TestClient) -> tuple[float, float, float]:
    return (
        _counter(client, "index_db_statements"),
        _counter(client, "index_db_commits"),
        _counter(client, "index_db_rollbacks"),
    )


def test_an_enquiry_counts_its_statements_and_its_commit(
    client: TestClient, factory: Factory
) -> None:
    headers = factory.practitioner()  # made before the first reading: its SQL is not counted
    statements, commits, _ = _counters(client)
    answer = client.post("/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=headers)
    assert answer.status_code == 201, answer.text
    statements_after, commits_after, _ = _counters(client)
    assert statements_after - statements >= 2  # at least the enquiry row and the audit row
    assert commits_after - commits >= 1


def test_healthz_and_metrics_touch_no_database(client: TestClient) -> None:
    before = _counters(client)
    client.get("/healthz")
    assert _counters(client) == before


def test_the_listeners_go_when_the_app_stops(app: FastAPI, db: Database) -> None:
    """Tests share one engine between many app lifetimes: listeners must not pile up."""
    events = ("before_cursor_execute", "commit", "rollback")
    before = [len(getattr(db.engine.dispatch, name)) for name in events]
    with TestClient(app):
        during = [len(getattr(db.engine.dispatch, name)) for name in events]
    assert during == [n + 1 for n in before]
    assert [len(getattr(db.engine.dispatch, name)) for name in events] == before
