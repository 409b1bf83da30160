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


def test_an_unexpected_database_error_is_logged_without_its_message(
    client: TestClient,
    factory: Factory,
    database_url: str,
    capfd: pytest.CaptureFixture[str],
    json_logs: None,
) -> None:
    """A database error's message can quote a row back (a unique violation's DETAIL
    does); the log keeps the error's type, SQLSTATE and frames, never its message."""
    import psycopg

    raise_with_data = """
    CREATE FUNCTION leak_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'cannot store %', NEW.family_name USING ERRCODE = 'P0001'; END $$;
    CREATE TRIGGER leak_name BEFORE INSERT ON child_name
    FOR EACH ROW EXECUTE FUNCTION leak_name();
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(raise_with_data)
    try:
        response = client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP TRIGGER leak_name ON child_name; DROP FUNCTION leak_name();")
    assert response.status_code == 500
    output = capfd.readouterr().out
    errors = [
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and '"unhandled_error"' in line
    ]
    assert len(errors) == 1
    assert errors[0]["sqlstate"] == "P0001"
    assert errors[0]["frames"]
    assert "Testchild" not in output
    assert "Testchild" not in response.text
