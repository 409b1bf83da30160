"""If the audit row cannot be written, the request fails and nothing is disclosed."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory, child_payload

_BREAK_AUDIT = """
CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$;
CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event
FOR EACH ROW EXECUTE FUNCTION refuse_audit();
"""
_MEND_AUDIT = "DROP TRIGGER refuse_audit ON audit_event; DROP FUNCTION refuse_audit();"


@pytest.fixture
def broken_audit(database_url: str) -> Iterator[None]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(_BREAK_AUDIT)
    try:
        yield
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(_MEND_AUDIT)


def test_a_read_whose_audit_row_fails_discloses_nothing(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    audit_before = factory.count("audit_event")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(_BREAK_AUDIT)
    try:
        response = client.get(f"/v1/children/{child['id']}", headers=headers)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(_MEND_AUDIT)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "Testchild" not in response.text
    assert child["nhs_number"] not in response.text
    assert "ETag" not in response.headers
    assert factory.count("audit_event") == audit_before


def test_a_create_whose_audit_row_fails_stores_nothing(
    client: TestClient, factory: Factory, broken_audit: None
) -> None:
    response = client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    assert response.status_code == 500
    assert "Testchild" not in response.text
    assert factory.count("child") == 0
    assert factory.count("child_name") == 0


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        pytest.param("GET", "/v1/children/{id}", "none", id="no token"),
        pytest.param("GET", "/v1/children/{id}", "practitioner", id="permission denied"),
        pytest.param("POST", "/v1/children", "bad-body", id="invalid body"),
    ],
)
def test_a_refusal_whose_audit_row_fails_is_a_500_not_the_refusal(
    client: TestClient, factory: Factory, broken_audit: None, method: str, path: str, auth: str
) -> None:
    """A refusal nobody can later see in the audit trail must not be answered as if it
    had been recorded: the caller gets a 500 saying the request was not recorded."""
    headers = {
        "none": {},
        "practitioner": factory.practitioner(),
        "bad-body": factory.data_manager(),
    }[auth]
    body = {"names": []} if auth == "bad-body" else None
    response = client.request(
        method, path.format(id="0b8e2f0c-7d7e-4c55-9a57-0d2b0f6a1f00"), json=body, headers=headers
    )
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "audit_unavailable"
    assert factory.count("audit_event") == 0
