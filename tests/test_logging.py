"""Application logs carry ids, never a child's personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from fastapi.testclient import TestClient

from index_service.logging import configure_logging
from tests.factories import VALID_NHS_NUMBER, Factory, child_payload


@pytest.fixture
def json_logs() -> Iterator[None]:
    configure_logging("DEBUG")
    yield
    structlog.reset_defaults()


def test_logs_are_json_lines_with_request_ids_and_no_personal_data(
    client: TestClient, factory: Factory, capfd: pytest.CaptureFixture[str], json_logs: None
) -> None:
    headers = factory.data_manager()
    created = client.post("/v1/children", json=child_payload(), headers=headers).json()
    client.get(f"/v1/children/{created['id']}", headers=headers)
    client.post("/v1/children", json=child_payload(nhs_number="1234567890"), headers=headers)
    client.post(
        "/v1/children",
        content=b'{"names": [',
        headers={**headers, "Content-Type": "application/json"},
    )
    output = capfd.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 4
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert {line["route"] for line in requests} == {"/v1/children", "/v1/children/{child_id}"}
    for secret in (
        "Testchild",
        "Aisha",
        VALID_NHS_NUMBER,
        "1234567890",
        "W5 2AA",
        "w5 2aa",
        "07700 900123",
        "Synthetic Row",
    ):
        assert secret not in output
