"""The NHS number's verification status: on the record (unverified by default), set only
by a data manager, reset by a new number; classified by range; and in matching, only a
verified number decides: an unverified agreeing one is strong evidence, not proof."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.children.identifiers import nhs_number_region
from tests.factories import VALID_NHS_NUMBER, Factory, child_payload


def _create(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post("/v1/children", json=child_payload(**changes), headers=headers)


def _enquire(client: TestClient, factory: Factory, **criteria: Any) -> dict[str, Any]:
    response = client.post("/v1/enquiries", json=criteria, headers=factory.practitioner())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("4010232137", "england_wales_iom"),
        ("0101011237", "scotland_chi"),  # a CHI number passes the same check digit
        ("3201234567", "northern_ireland_hc"),
        ("9434765919", "synthetic"),
        ("8600000001", "unallocated"),
    ],
)
def test_numbers_are_classified_by_range(number: str, region: str) -> None:
    assert nhs_number_region(number) == region


def test_a_number_is_unverified_unless_a_data_manager_says_otherwise(
    client: TestClient, factory: Factory
) -> None:
    created = _create(client, factory.data_manager(), upn=None)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["nhs_number_status"] == "unverified"
    assert record["nhs_number_region"] == "synthetic"
    changed = client.patch(
        f"/v1/children/{record['id']}",
        json={"nhs_number_status": "verified_trace"},
        headers={**factory.data_manager(), "If-Match": f'"{record["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["nhs_number_status"] == "verified_trace"
    renumbered = client.patch(
        f"/v1/children/{record['id']}",
        json={"nhs_number": "9434765919"},
        headers={**factory.data_manager(), "If-Match": f'"{changed.json()["version"]}"'},
    )
    assert renumbered.status_code == 200, renumbered.text
    assert renumbered.json()["nhs_number_status"] == "unverified"  # a new number


def test_only_a_data_manager_may_say_a_number_is_verified(
    client: TestClient, factory: Factory
) -> None:
    social_worker = factory.headers(roles=["social_worker"])
    refused = _create(client, social_worker, nhs_number_status="verified_trace")
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "nhs_number_verification_needs_a_data_manager"
    assert factory.count("child") == 0
    assert _create(client, social_worker).status_code == 201


def test_the_agency_system_that_traced_a_number_may_say_so(
    client: TestClient, factory: Factory
) -> None:
    """A service account (an agency system with a PDS trace, as CP-IS takes one from the
    sending system) records a traced number, as its feed's `nhs_number_verified` does."""
    system = factory.headers(roles=["service_account"], type="hospital")
    created = _create(client, system, nhs_number_status="verified_trace")
    assert created.status_code == 201, created.text
    kept = client.get(f"/v1/children/{created.json()['id']}", headers=factory.data_manager())
    assert kept.json()["nhs_number_status"] == "verified_trace"


def test_only_a_verified_number_decides_a_match(client: TestClient, factory: Factory) -> None:
    """An enquiry by the NHS number alone: a match on a verified number; a possible
    match (strong evidence, not proof) on an unverified one."""
    unverified = _create(client, factory.data_manager(), upn=None)
    assert unverified.status_code == 201, unverified.text
    body = _enquire(client, factory, nhs_number=VALID_NHS_NUMBER)
    assert body["outcome"] == "possible_matches"
    (candidate,) = body["candidates"]
    assert candidate["explanation"]["fields"]["nhs_number"]["level"] == "agree_unverified"
    verified = client.patch(
        f"/v1/children/{unverified.json()['id']}",
        json={"nhs_number_status": "verified_trace"},
        headers={**factory.data_manager(), "If-Match": f'"{unverified.json()["version"]}"'},
    )
    assert verified.status_code == 200, verified.text
    body = _enquire(client, factory, nhs_number=VALID_NHS_NUMBER)
    assert body["outcome"] == "match"
    assert body["candidates"][0]["explanation"]["fields"]["nhs_number"]["level"] == "agree"


def test_an_unverified_agreeing_number_with_names_and_date_is_a_match(
    client: TestClient, factory: Factory
) -> None:
    _create(client, factory.data_manager(), upn=None)
    body = _enquire(
        client,
        factory,
        nhs_number=VALID_NHS_NUMBER,
        given_names="Aisha",
        family_name="Testchild",
        date_of_birth="2016-02-11",
    )
    assert body["outcome"] == "match"


def test_an_unverified_agreeing_number_can_be_confirmed_away_a_verified_one_cannot(
    client: TestClient, factory: Factory
) -> None:
    existing = _create(client, factory.data_manager(), upn=None).json()["id"]
    another = {
        "names": [{"kind": "legal", "given_names": "Zainab", "family_name": "Unrelated"}],
        "date_of_birth": "2012-12-12",
        "upn": None,
    }
    declined = _create(client, factory.data_manager(), **another)
    assert declined.status_code == 409, declined.text
    (candidate,) = declined.json()["candidates"]
    assert candidate["explanation"]["duplicate_reason"] == "unverified_nhs_number_agrees"
    verified = _create(
        client,
        factory.data_manager(),
        **another,
        nhs_number_status="verified_trace",
        confirmed_distinct_from=[existing],
    )
    assert verified.status_code == 409  # a verified number belongs to one child
    confirmed = _create(
        client, factory.data_manager(), **another, confirmed_distinct_from=[existing]
    )
    assert confirmed.status_code == 201, confirmed.text
