"""Suspension: an administrator suspends a user or an organisation; the suspended are
refused on their very next request, with a token that is still valid."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index_service.settings import DEV_ISSUER
from tests.factories import Factory, child_payload, other_child


def _administrator(factory: Factory) -> dict[str, str]:
    operator = factory.organisation(type="index_operator")
    return factory.headers_for(operator, roles=["administrator"], sub="admin-1")


def test_a_suspended_user_is_refused_within_one_request(
    client: TestClient, factory: Factory
) -> None:
    admin = _administrator(factory)
    csc = factory.organisation()
    worker = factory.headers_for(csc, roles=["data_manager"], sub="worker-7")
    colleague = factory.headers_for(csc, roles=["data_manager"], sub="worker-8")
    assert client.post("/v1/children", json=child_payload(), headers=worker).status_code == 201
    suspended = client.post(
        "/v1/suspensions",
        json={"kind": "user", "issuer": DEV_ISSUER, "subject": "worker-7", "reason": "left post"},
        headers=admin,
    )
    assert suspended.status_code == 201, suspended.text
    refused = client.post("/v1/children", json=other_child(), headers=worker)
    assert refused.status_code == 403
    assert refused.json()["code"] == "user_suspended"
    row = factory.audit_rows()[-1]
    assert (row["subject"], row["outcome"], row["reason"]) == (
        "worker-7",
        "refused",
        "user_suspended",
    )
    assert client.post("/v1/children", json=other_child(), headers=colleague).status_code == 201
    lifted = client.delete(f"/v1/suspensions/{suspended.json()['id']}", headers=admin)
    assert lifted.json()["lifted_by"].endswith("admin-1")
    assert client.post("/v1/children", json=other_child(), headers=worker).status_code == 201


def test_a_suspended_organisation_stops_all_its_users(client: TestClient, factory: Factory) -> None:
    admin = _administrator(factory)
    csc = factory.organisation()
    users = [factory.headers_for(csc, roles=["data_manager"], sub=f"u{i}") for i in range(3)]
    response = client.post(
        "/v1/suspensions",
        json={"kind": "organisation", "organisation_code": csc.code.lower(), "reason": "breach"},
        headers=admin,
    )
    assert response.json()["organisation_code"] == csc.code
    for headers in users:
        refused = client.post("/v1/children", json=child_payload(), headers=headers)
        assert refused.json()["code"] == "organisation_suspended"
    listed = client.get("/v1/suspensions", headers=admin).json()["items"]
    assert [s["organisation_code"] for s in listed] == [csc.code]


def test_suspension_mistakes_are_refused(client: TestClient, factory: Factory) -> None:
    admin = _administrator(factory)
    user = {"kind": "user", "issuer": DEV_ISSUER, "subject": "x-1", "reason": "r"}
    assert client.post("/v1/suspensions", json=user, headers=admin).status_code == 201
    again = client.post("/v1/suspensions", json=user, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "already_suspended")
    myself = {**user, "subject": "admin-1"}
    assert client.post("/v1/suspensions", json=myself, headers=admin).status_code == 409
    operator = client.get("/v1/organisations", headers=admin).json()["items"]
    own_code = next(o["code"] for o in operator if o["type"] == "index_operator")
    own = {"kind": "organisation", "organisation_code": own_code, "reason": "r"}
    refused = client.post("/v1/suspensions", json=own, headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (
        409,
        "cannot_suspend_your_own_organisation",
    )
    for bad in (
        {"kind": "user", "issuer": DEV_ISSUER, "reason": "r"},
        {"kind": "organisation", "organisation_code": "ABC", "subject": "s", "reason": "r"},
        {**user, "reason": "two\nlines"},
        {**user, "suspended_by": "someone"},
    ):
        assert client.post("/v1/suspensions", json=bad, headers=admin).status_code == 422
    assert factory.count("suspension") == 1


def test_only_administrators_suspend(client: TestClient, factory: Factory) -> None:
    body = {"kind": "user", "issuer": DEV_ISSUER, "subject": "x", "reason": "r"}
    for headers in (
        factory.data_manager(),
        factory.headers(roles=["administrator"], type="childrens_social_care"),
    ):
        response = client.post("/v1/suspensions", json=body, headers=headers)
        assert response.status_code == 403
    assert factory.count("suspension") == 0


@pytest.mark.parametrize("issuer", [DEV_ISSUER + "/", DEV_ISSUER.upper(), "https://nobody.example"])
def test_a_user_suspension_must_name_a_trusted_issuer_exactly(
    client: TestClient, factory: Factory, issuer: str
) -> None:
    body = {"kind": "user", "issuer": issuer, "subject": "x-1", "reason": "r"}
    refused = client.post("/v1/suspensions", json=body, headers=_administrator(factory))
    assert (refused.status_code, refused.json()["code"]) == (422, "issuer_unknown")
    assert factory.count("suspension") == 0
