"""Bad feeds are problem documents and leave nothing behind."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.feeds.conftest import STANDARD_ROW, agency_headers, csv_of


def _nothing_kept(factory: Factory) -> None:
    for table in ("feed", "feed_row_key", "feed_review", "child"):
        assert factory.count(table) == 0, table


def test_a_feed_in_another_format_is_415(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    response = client.post(
        "/v1/feeds", content=b"<xml/>", headers={**agency, "Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    _nothing_kept(factory)


def test_a_csv_without_the_columns_is_422(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    response = client.post(
        "/v1/feeds", content=b"name,born\nA,B\n", headers={**agency, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "feed_unreadable"
    assert "source_record_id" in response.json()["detail"]
    _nothing_kept(factory)


def test_a_file_unreadable_half_way_keeps_nothing(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    body = csv_of([STANDARD_ROW] * 3) + b"\xff\xfe not utf-8\n"
    response = client.post(
        "/v1/feeds", content=body, headers={**agency, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    _nothing_kept(factory)


def test_a_bundle_that_is_not_json_is_422(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    response = client.post(
        "/v1/feeds",
        content=b"{not json",
        headers={**agency, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 422
    _nothing_kept(factory)


def test_a_feed_over_the_limit_is_413(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"feed_max_bytes": 2048})  # type: ignore[attr-defined]
    try:
        body = csv_of([{**STANDARD_ROW, "source_record_id": f"S-{n}"} for n in range(40)])
        assert len(body) > 2048

        def chunks():  # streamed: no Content-Length to refuse it by
            for start in range(0, len(body), 512):
                yield body[start : start + 512]

        response = client.post(
            "/v1/feeds", content=chunks(), headers={**agency, "Content-Type": "text/csv"}
        )
    finally:
        client.app.state.settings = settings  # type: ignore[attr-defined]
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    _nothing_kept(factory)


def test_a_data_managers_feed_creates_only_their_authoritys_children(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    haringey_row = {**STANDARD_ROW, "responsible_authority": "E09000014", "postcode": "N17 6AB"}
    response = client.post(
        "/v1/feeds", content=csv_of([haringey_row]), headers={**manager, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()["rows"]
    assert row["outcome"] == "rejected"
    assert row["problems"][0]["field"] == "responsible_authority"
    assert factory.count("child") == 0


@pytest.mark.parametrize(
    "bundle",
    [
        {"resourceType": "Bundle", "entry": "nothing"},
        {"resourceType": "Bundle", "entry": [1, "two", {"resource": []}]},
        {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "RelatedPerson", "patient": "x"}}],
        },
        {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p\x00", "name": "x"}}],
        },
        {
            "resourceType": "Bundle",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "p1",
                        "name": [{"given": "A"}],
                        "birthDate": 5,
                    }
                }
            ],
        },
        {
            "resourceType": "Bundle",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "p1",
                        "generalPractitioner": ["x"],
                        "extension": {"a": 1},
                    }
                }
            ],
        },
    ],
)
def test_an_odd_bundle_is_a_problem_or_a_report_never_a_failure(
    client: TestClient, factory: Factory, bundle: dict[str, object]
) -> None:
    agency, _ = agency_headers(factory)
    response = client.post(
        "/v1/feeds",
        content=json.dumps(bundle).encode(),
        headers={**agency, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert {r["outcome"] for r in response.json()["rows"]} <= {"rejected"}
    assert factory.count("child") == 0


def test_a_csv_with_a_nul_is_a_problem(client: TestClient, factory: Factory) -> None:
    agency, _ = agency_headers(factory)
    body = csv_of([{**STANDARD_ROW, "source_record_id": "S\x00", "family_name": "Test\x00child"}])
    response = client.post(
        "/v1/feeds", content=body, headers={**agency, "Content-Type": "text/csv"}
    )
    assert response.status_code in (200, 422), response.text
    assert factory.count("child") == 0
