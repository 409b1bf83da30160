"""Authority scope: data managers, social workers and designated managers act for their
own local authority's children, by responsibility or by current address."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient

from tests.factories import CHILD, EALING, HARINGEY, Factory, child_payload

WESTMINSTER = "E09000033"


def _lives_in_ealing_responsible_haringey() -> dict[str, object]:
    return child_payload(responsible_authority=HARINGEY)


@pytest.mark.parametrize(
    ("authority", "role", "status"),
    [
        pytest.param(EALING, "data_manager", 200, id="where the child lives"),
        pytest.param(HARINGEY, "data_manager", 200, id="the responsible authority"),
        pytest.param(HARINGEY, "designated_manager", 200, id="responsible designated manager"),
        pytest.param(HARINGEY, "social_worker", 200, id="responsible social worker"),
        pytest.param(WESTMINSTER, "data_manager", 404, id="neither"),
        pytest.param(WESTMINSTER, "social_worker", 404, id="neither, social worker"),
    ],
)
def test_a_child_is_reached_by_responsibility_or_current_address(
    client: TestClient, factory: Factory, authority: str, role: str, status: int
) -> None:
    created = client.post(
        "/v1/children", json=_lives_in_ealing_responsible_haringey(), headers=factory.data_manager()
    )
    assert created.status_code == 201, created.text
    headers = factory.headers(roles=[role], local_authority=authority)
    response = client.get(created.headers["Location"], headers=headers)
    assert response.status_code == status
    if status == 404:
        assert "Testchild" not in response.text


def test_a_previous_address_does_not_bring_a_child_into_scope(
    client: TestClient, factory: Factory
) -> None:
    # The standard child lived in Haringey before; it now lives in Ealing, Ealing responsible.
    created = client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    assert client.get(created.headers["Location"], headers=haringey).status_code == 404


def test_records_are_created_only_for_ones_own_authority(
    client: TestClient, factory: Factory
) -> None:
    elsewhere = copy.deepcopy(CHILD["addresses"])
    elsewhere[0]["local_authority"] = WESTMINSTER
    payload = child_payload(responsible_authority=WESTMINSTER, addresses=elsewhere)
    for role in ("data_manager", "social_worker"):
        response = client.post("/v1/children", json=payload, headers=factory.headers(roles=[role]))
        assert (response.status_code, response.json()["code"]) == (403, "outside_your_authority")
    assert factory.count("child") == 0
    feed = factory.headers(roles=["service_account"], type="hospital")
    fed = client.post("/v1/children", json=payload, headers=feed)
    assert fed.status_code == 201
    assert set(fed.json()) == {"id", "status", "version", "created_at"}


def test_a_record_moved_away_leaves_the_old_authority_s_scope(
    client: TestClient, factory: Factory
) -> None:
    keeper = factory.data_manager()
    created = client.post("/v1/children", json=child_payload(), headers=keeper)
    moved = copy.deepcopy(CHILD["addresses"])
    moved[0]["local_authority"] = WESTMINSTER
    response = client.patch(
        created.headers["Location"],
        json={"addresses": moved, "responsible_authority": WESTMINSTER},
        headers={**keeper, "If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    assert client.get(created.headers["Location"], headers=keeper).status_code == 404
    westminster = factory.headers(roles=["data_manager"], local_authority=WESTMINSTER)
    assert client.get(created.headers["Location"], headers=westminster).status_code == 200


def test_responsibility_is_handed_over_never_taken(client: TestClient, factory: Factory) -> None:
    """A child living in Ealing, Haringey responsible: Ealing reaches the record (it lives
    there) but cannot make itself responsible; Haringey can hand it over."""
    created = client.post(
        "/v1/children", json=_lives_in_ealing_responsible_haringey(), headers=factory.data_manager()
    )
    location = created.headers["Location"]
    etag = created.headers["ETag"]
    to_ealing = {"responsible_authority": EALING}
    taken = client.patch(
        location, json=to_ealing, headers={**factory.data_manager(), "If-Match": etag}
    )
    assert (taken.status_code, taken.json()["code"]) == (403, "not_responsible_authority")
    haringey = factory.headers(roles=["social_worker"], local_authority=HARINGEY)
    handed = client.patch(location, json=to_ealing, headers={**haringey, "If-Match": etag})
    assert handed.status_code == 200, handed.text
    assert handed.json()["responsible_authority"] == EALING
