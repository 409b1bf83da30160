"""Minimum criteria are met with names, not with punctuation: a "family name" of `*` or
one letter, with a date of birth and a postcode, must not name a stranger. Nor may a
candidate whose names disagree be shown on the strength of date and postcode alone, to an
enquirer or to a data manager registering a record."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import EALING, HARINGEY, Factory, child_payload

STRANGER = {"date_of_birth": "2016-02-11", "postcode": "W5 2AA"}  # the standard child's


def _stranger(client: TestClient, factory: Factory) -> str:
    created = client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.parametrize("family_name", ["*", "%", "-", "?", "_", ".", "'", "A", "**", "A."])
def test_minimum_criteria_a_family_name_without_two_letters_is_no_name(
    client: TestClient, factory: Factory, family_name: str
) -> None:
    _stranger(client, factory)
    response = client.post(
        "/v1/enquiries",
        json={"family_name": family_name, **STRANGER},
        headers=factory.practitioner(),
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "criteria_insufficient"
    assert body["not_a_name"] == ["family_name"]
    assert "Testchild" not in response.text
    assert factory.count("enquiry") == 0


@pytest.mark.parametrize("family_name", ["Ng", "Zoë", "O'Neil"])
def test_minimum_criteria_short_and_accented_names_count(
    client: TestClient, factory: Factory, family_name: str
) -> None:
    response = client.post(
        "/v1/enquiries",
        json={"family_name": family_name, **STRANGER},
        headers=factory.practitioner(),
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "names",
    [
        pytest.param({"family_name": "Ng"}, id="another family name"),
        pytest.param({"family_name": "Ng", "given_names": "A"}, id="and the given initial"),
        pytest.param({"family_name": "Ng", "given_names": "Bilal"}, id="and another given"),
    ],
)
def test_date_of_birth_and_postcode_alone_never_show_a_stranger(
    client: TestClient, factory: Factory, names: dict[str, str]
) -> None:
    _stranger(client, factory)
    response = client.post(
        "/v1/enquiries", json={**names, **STRANGER}, headers=factory.practitioner()
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "not_found"
    assert "Testchild" not in response.text
    assert "Aisha" not in response.text


def test_a_name_that_agrees_still_finds_the_child_by_date_and_postcode(
    client: TestClient, factory: Factory
) -> None:
    """The negative of the above: a misspelt family name agrees at some level."""
    child_id = _stranger(client, factory)
    response = client.post(
        "/v1/enquiries",
        json={"family_name": "Testchilde", **STRANGER},
        headers=factory.practitioner(),
    )
    assert [c["child_id"] for c in response.json()["candidates"]] == [child_id]


def _record(given: str, family: str) -> dict[str, Any]:
    return child_payload(
        names=[{"kind": "legal", "given_names": given, "family_name": family}],
        nhs_number=None,
        upn=None,
        responsible_authority=HARINGEY,
    )


@pytest.mark.parametrize(("given", "family"), [("*", "*"), ("Aisha", "*"), ("-", "Testchild")])
def test_duplicate_guard_refuses_a_record_whose_names_name_nobody(
    client: TestClient, factory: Factory, given: str, family: str
) -> None:
    _stranger(client, factory)
    elsewhere = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    response = client.post("/v1/children", json=_record(given, family), headers=elsewhere)
    assert response.status_code == 422, response.text
    assert factory.count("child") == 1


def test_duplicate_guard_does_not_show_another_authoritys_child_on_date_and_postcode(
    client: TestClient, factory: Factory
) -> None:
    """A data manager elsewhere sending other names with the child's date of birth and
    address is not shown the child: the names disagree, so it is no possible duplicate."""
    _stranger(client, factory)
    elsewhere = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    response = client.post("/v1/children", json=_record("Bilal", "Ng"), headers=elsewhere)
    assert response.status_code == 201, response.text  # not a 409 naming the child
    same_child = client.post(
        "/v1/children",
        json=_record("Aisha", "Testchild") | {"responsible_authority": EALING},
        headers=factory.data_manager(),
    )
    assert same_child.status_code == 409, same_child.text
