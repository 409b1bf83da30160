"""Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
