"""Answers name organisations, not only codes (issue 13, item 15): the responsible
authority by its ONS name with its children's social care's contact, and the GP practice
and the school by name and phone when they take part in the index."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import EALING, HARINGEY, VALID_NHS_NUMBER, Factory, child_payload


def _entry(client: TestClient, factory: Factory) -> dict[str, Any]:
    answer = client.post(
        "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=factory.practitioner()
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "match"
    return dict(answer.json()["child"])


def _record(client: TestClient, factory: Factory, **changes: Any) -> None:
    csc = factory.organisation(local_authority=EALING, name="Ealing Children's Services")
    manager = factory.headers_for(csc, roles=["data_manager"])
    # The number traced: an enquiry by it alone is a match only if verified (model v4).
    payload = child_payload(**{"nhs_number_status": "verified_trace", **changes})
    created = client.post("/v1/children", json=payload, headers=manager)
    assert created.status_code == 201, created.text


def test_the_entry_names_the_responsible_authority_gp_practice_and_school(
    client: TestClient, factory: Factory
) -> None:
    # The standard child: GP practice A81001, school URN 100001, Ealing responsible.
    factory.organisation(
        type="gp_practice", code="A81001", name="Synthetic Surgery", contact_phone="020 7946 0401"
    )
    factory.organisation(
        type="school", code="100001", name="Synthetic Primary", contact_phone="020 7946 0402"
    )
    _record(client, factory)
    child = _entry(client, factory)

    assert child["responsible_authority"] == EALING
    assert child["responsible_authority_name"] == "Ealing"
    authority = child["responsible_authority_contact"]
    assert authority["organisation_name"] == "Ealing Children's Services"
    assert (authority["phone"], authority["out_of_hours_phone"]) == (
        "020 7946 0990",
        "020 7946 0999",
    )
    assert child["gp_practice"]["name"] == "Synthetic Surgery"
    assert child["gp_practice"]["contact"]["phone"] == "020 7946 0401"
    assert child["gp_practice"]["phone"] == "020 7946 0001"  # the record's own, unchanged
    assert child["education"]["name"] == "Synthetic Primary"
    assert child["education"]["contact"]["phone"] == "020 7946 0402"


def test_organisations_not_in_the_index_or_of_another_kind_are_not_named(
    client: TestClient, factory: Factory
) -> None:
    # A hospital whose code happens to be the school's URN is not the school.
    factory.organisation(type="hospital", code="100001", name="Not A School")
    _record(client, factory)
    child = _entry(client, factory)
    assert (child["gp_practice"]["name"], child["gp_practice"]["contact"]) == (None, None)
    assert (child["education"]["name"], child["education"]["contact"]) == (None, None)
    assert child["responsible_authority_name"] == "Ealing"


def test_a_responsible_authority_outside_the_index_is_named_without_a_contact(
    client: TestClient, factory: Factory
) -> None:
    # Haringey is responsible (its care placed the child in Ealing); it has no
    # children's social care in the index.
    _record(client, factory, responsible_authority=HARINGEY)
    child = _entry(client, factory)
    assert child["responsible_authority_name"] == "Haringey"
    assert child["responsible_authority_contact"] is None
