"""A shielded child is never updated by a feed in a way that shows its address to the
agency that sent it: a confident match on a shielded record is queued for its authority's
data managers, and the report says the same whether the address sent is the one the index
holds or another."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Factory, child_payload
from tests.feeds.conftest import STANDARD_ROW, agency_headers, csv_of

MOVED = {"address_line1": "7 Refuge Close", "postcode": "W5 4AB", "town": "London"}


def _without_ids(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"row", "source_record_id"}}


def test_a_feed_never_reveals_a_shielded_childs_address(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    shield = client.put(f"/v1/children/{child_id}/shield", headers={**manager, "If-Match": '"1"'})
    assert shield.status_code == 200, shield.text
    stored = client.get(f"/v1/children/{child_id}", headers=manager).json()
    agency, _ = agency_headers(factory)

    same_address = {**STANDARD_ROW, "source_record_id": "S-1"}
    other_address = {**STANDARD_ROW, **MOVED, "source_record_id": "S-2"}
    response = client.post(
        "/v1/feeds",
        content=csv_of([same_address, other_address]),
        headers={**agency, "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    first, second = response.json()["rows"]
    assert first["outcome"] == "queued_for_review"
    assert _without_ids(first) == _without_ids(second)  # same answer, address same or not
    assert first["child_id"] is None
    assert first["fields"] == []
    for shown in ("Synthetic Row", "W5 2AA", "Refuge", "W5 4AB", child_id):
        assert shown not in response.text
    # Nothing of the record changed.
    after = client.get(f"/v1/children/{child_id}", headers=manager).json()
    assert after == stored
    # Its data managers decide.
    reviews = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
    assert {r["reason"] for r in reviews} == {"shielded_record"}
    assert all(r["candidate_ids"] == [child_id] for r in reviews)


def test_the_shielding_authoritys_own_feed_updates_the_record(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    client.put(f"/v1/children/{child_id}/shield", headers={**manager, "If-Match": '"1"'})
    response = client.post(
        "/v1/feeds",
        content=csv_of([{**STANDARD_ROW, **MOVED}]),
        headers={**manager, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()["rows"]
    assert (row["outcome"], row["child_id"]) == ("updated", child_id)
    after = client.get(f"/v1/children/{child_id}", headers=manager).json()
    current = [a for a in after["addresses"] if a["current"]]
    assert [a["postcode"] for a in current] == ["W5 4AB"]
    assert "1 Synthetic Row" in {a["line1"] for a in after["addresses"] if not a["current"]}
