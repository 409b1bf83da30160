"""R5 from feeds (`feeds/moves.py`): a feed row that moves a child's current address to
another authority alerts the designated managers of both authorities and the key worker,
as the API's address change does; once per move (the same feed again raises nothing
more); never for a move within the authority; and a shielded child's move is told to its
responsible authority alone, with no address in any alert."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.factories import EALING, HARINGEY, Factory, child_payload
from tests.feeds.conftest import STANDARD_ROW, agency_headers, csv_of

CSV = {"Content-Type": "text/csv"}
TO_HARINGEY = {
    "address_line1": "5 New Street",
    "postcode": "N15 4AA",
    "address_local_authority": HARINGEY,
    "address_from": "2026-01-01",
}
WITHIN_EALING = {
    "address_line1": "12 Other Road",
    "postcode": "W13 9AA",
    "address_local_authority": EALING,
    "address_from": "2026-01-01",
}


@dataclass
class Place:
    client: TestClient
    factory: Factory
    data_manager: dict[str, str]
    key_worker: dict[str, str]
    ealing_dm: dict[str, str]
    haringey_dm: dict[str, str]
    agency: dict[str, str]
    child_id: str

    def alerts(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = self.client.get("/v1/alerts", headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def r5(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        return [(a["rule"], a["child_id"]) for a in self.alerts(headers)]

    def send(self, headers: dict[str, str], row: dict[str, str]) -> dict[str, Any]:
        response = self.client.post("/v1/feeds", content=csv_of([row]), headers={**headers, **CSV})
        assert response.status_code == 200, response.text
        (report,) = response.json()["rows"]
        return dict(report)

    def r5_count(self) -> int:
        with self.factory.db.session() as session:
            query = text("SELECT count(*) FROM alert WHERE rule = 'R5'")
            return int(session.execute(query).scalar_one())


@pytest.fixture
def place(client: TestClient, factory: Factory) -> Place:
    """The standard child of Ealing, living in Ealing, with a key worker."""
    csc = factory.organisation()
    haringey_csc = factory.organisation(local_authority=HARINGEY)
    manager = factory.headers_for(csc, roles=["data_manager"], sub="dm-dana")
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw-kate")
    created = client.post("/v1/children", json=child_payload(), headers=manager)
    assert created.status_code == 201, created.text
    child_id = created.json()["id"]
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Safeguarding", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    agency, _ = agency_headers(factory)
    return Place(
        client=client,
        factory=factory,
        data_manager=manager,
        key_worker=key_worker,
        ealing_dm=factory.headers_for(csc, roles=["designated_manager"], sub="dsm-dev"),
        haringey_dm=factory.headers_for(haringey_csc, roles=["designated_manager"], sub="dsm-h"),
        agency=agency,
        child_id=child_id,
    )


def test_a_feed_moving_a_child_to_another_authority_raises_r5_once(place: Place) -> None:
    row = {**STANDARD_ROW, **TO_HARINGEY}
    assert place.send(place.agency, row)["outcome"] == "updated"
    for headers in (place.ealing_dm, place.haringey_dm, place.key_worker):
        assert place.r5(headers) == [("R5", place.child_id)]
    assert place.r5_count() == 3

    # The same feed again changes nothing, so raises nothing more.
    assert place.send(place.agency, row)["outcome"] == "unchanged"
    assert place.r5_count() == 3
    # Nor does another row (another GP) repeating the address the child now has.
    again = {**row, "source_record_id": "SRC-9", "gp_ods_code": "B82005"}
    assert place.send(place.agency, again)["outcome"] == "updated"
    assert place.r5_count() == 3


def test_a_feed_moving_a_child_within_its_authority_raises_nothing(place: Place) -> None:
    assert place.send(place.agency, {**STANDARD_ROW, **WITHIN_EALING})["outcome"] == "updated"
    assert place.r5_count() == 0
    assert place.alerts(place.ealing_dm) == []
    assert place.alerts(place.key_worker) == []


def _shield(place: Place) -> None:
    shield = place.client.put(
        f"/v1/children/{place.child_id}/shield",
        headers={**place.data_manager, "If-Match": '"1"'},
    )
    assert shield.status_code == 200, shield.text


def _no_address_in_any_alert(place: Place) -> None:
    for headers in (place.ealing_dm, place.haringey_dm, place.key_worker):
        shown = json.dumps(place.alerts(headers))
        for part in ("5 New Street", "N15 4AA", "N15", "Synthetic Row", "W5 2AA"):
            assert part.casefold() not in shown.casefold()


def test_a_shielded_childs_move_by_its_authoritys_feed_is_told_to_that_authority_alone(
    place: Place,
) -> None:
    _shield(place)
    assert place.send(place.data_manager, {**STANDARD_ROW, **TO_HARINGEY})["outcome"] == "updated"
    assert place.alerts(place.haringey_dm) == []
    for headers in (place.ealing_dm, place.key_worker):
        assert place.r5(headers) == [("R5", place.child_id)]
    _no_address_in_any_alert(place)


def test_a_shielded_childs_move_resolved_from_the_review_queue_raises_r5_once(
    place: Place,
) -> None:
    """An agency's row about a shielded child waits for its data managers; applied by
    them, the move is told as any other shielded child's move."""
    _shield(place)
    assert place.send(place.agency, {**STANDARD_ROW, **TO_HARINGEY})["outcome"] == (
        "queued_for_review"
    )
    assert place.r5_count() == 0
    (review,) = place.client.get("/v1/feeds/reviews", headers=place.data_manager).json()["items"]
    resolved = place.client.post(
        f"/v1/feeds/reviews/{review['id']}/resolve",
        json={"decision": "same_child", "child_id": place.child_id},
        headers=place.data_manager,
    )
    assert resolved.status_code == 200, resolved.text
    assert place.alerts(place.haringey_dm) == []
    for headers in (place.ealing_dm, place.key_worker):
        assert place.r5(headers) == [("R5", place.child_id)]
    assert place.r5_count() == 2
    _no_address_in_any_alert(place)
