"""Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from index_service.database import Database
from tests.audit.conftest import seal_all


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_schema_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["schema_revision"] == body["schema_head"] is not None


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'index_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "index_http_request_duration_seconds_bucket" in text


def test_readyz_shows_when_the_sealer_falls_behind(
    client: TestClient, database_url: str, sealer_db: Database
) -> None:
    """An event an hour old that no sealer has chained (the worker stopped, or a broken
    head) shows in /readyz and in the gauge; once sealed, the sealer is ok again."""
    with psycopg.connect(database_url, autocommit=True) as owner:
        owner.execute(
            "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
            " child_ids, method, route, request_id, instance, detail) VALUES (gen_random_uuid(),"
            " now() - interval '1 hour', 'child:record:read', 'success', 200, '{}', '{}',"
            " 'GET', '/v1/children/{child_id}', 'old-event-1', 'test', '{}')"
        )
    behind = client.get("/readyz").json()["audit_sealer"]
    assert behind["status"] == "behind"
    assert behind["oldest_unsealed_seconds"] >= 3600
    assert "index_audit_oldest_unsealed_seconds 3" in client.get("/metrics").text
    seal_all(sealer_db)
    caught_up = client.get("/readyz").json()["audit_sealer"]
    assert caught_up["status"] == "ok"
