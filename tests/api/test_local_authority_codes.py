"""Authority codes are checked against the ONS list of English local authorities: a
well-formed but unknown code (E09000099) would address alerts to an inbox nobody reads.
Every field that takes one refuses it with a 422 naming the field, never the value, and
stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import CHILD, EALING, HARINGEY, Factory, child_payload

UNKNOWN = "E09000099"  # the right shape, but no authority has it
WELSH = "W06000015"  # Cardiff: a real authority, not an English one


def _address(code: str) -> list[dict[str, Any]]:
    addresses = [dict(a) for a in CHILD["addresses"]]
    addresses[0]["local_authority"] = code
    return addresses


# what: (route, caller's role and organisation type, body for a code, where the error
# points, the table a success would add to)
Case = tuple[str, tuple[str, str], Callable[[str], dict[str, Any]], tuple[str, ...], str]
CASES: dict[str, Case] = {
    "organisation local_authority": (
        "/v1/organisations",
        ("administrator", "index_operator"),
        lambda code: {
            "code": "LACHECK1",
            "name": "Checked School",
            "type": "school",
            "local_authority": code,
        },
        ("body", "local_authority"),
        "organisation",
    ),
    "child responsible_authority": (
        "/v1/children",
        ("data_manager", "childrens_social_care"),
        lambda code: child_payload(responsible_authority=code),
        ("body", "responsible_authority"),
        "child",
    ),
    "child address local_authority": (
        "/v1/children",
        ("data_manager", "childrens_social_care"),
        lambda code: child_payload(addresses=_address(code)),
        ("body", "addresses", "0", "local_authority"),
        "child",
    ),
    "enquiry lives_in_local_authority": (
        "/v1/enquiries",
        ("practitioner", "emergency_department"),
        lambda code: {
            "given_names": "Nobody",
            "family_name": "Nobodyknown",
            "date_of_birth": "2015-05-05",
            "lives_in_local_authority": code,
        },
        ("body", "lives_in_local_authority"),
        "enquiry",
    ),
}


def _caller(factory: Factory, what: str) -> dict[str, str]:
    role, kind = CASES[what][1]
    return factory.headers(roles=[role], type=kind)


def _send(client: TestClient, headers: dict[str, str], what: str, code: str) -> Any:
    url, _caller, body, _location, _table = CASES[what]
    return client.post(url, json=body(code), headers=headers)


@pytest.mark.parametrize("code", [UNKNOWN, WELSH])
@pytest.mark.parametrize("what", list(CASES))
def test_unknown_local_authority_code_is_refused(
    client: TestClient, factory: Factory, what: str, code: str
) -> None:
    headers = _caller(factory, what)
    _url, _role, _body, location, table = CASES[what]
    before = factory.count(table)
    response = _send(client, headers, what, code)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert [e["location"] for e in problem["errors"]] == [list(location)]
    assert "ONS list" in problem["errors"][0]["message"]
    assert code not in response.text
    assert factory.count(table) == before  # nothing stored


@pytest.mark.parametrize("code", [EALING, HARINGEY, "E10000014"])
@pytest.mark.parametrize("what", list(CASES))
def test_a_real_english_local_authority_code_is_accepted(
    client: TestClient, factory: Factory, what: str, code: str
) -> None:
    response = _send(client, _caller(factory, what), what, code)
    assert response.status_code == 201, response.text


def test_unknown_local_authority_code_is_refused_in_a_looked_after_flag(
    client: TestClient, factory: Factory
) -> None:
    csc = factory.organisation(local_authority=EALING)
    manager = factory.headers_for(csc, roles=["data_manager"])
    created = client.post("/v1/children", json=child_payload(), headers=manager)
    assert created.status_code == 201, created.text
    url = f"/v1/children/{created.json()['id']}/flags"
    social_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw")
    flag = {"kind": "looked_after", "responsible_authority": UNKNOWN}

    refused = client.post(url, json=flag, headers=social_worker)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["location"][-1] == "responsible_authority"
    assert UNKNOWN not in refused.text
    assert factory.count("flag") == 0
    flag["responsible_authority"] = HARINGEY
    accepted = client.post(url, json=flag, headers=social_worker)
    assert accepted.status_code == 201, accepted.text
