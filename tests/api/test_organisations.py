"""/v1/organisations: administrators manage participating organisations."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.factories import EALING, Factory

NEW_ORG = {
    "code": "demo-csc-9",
    "name": "Synthetic Borough Children's Services",
    "type": "childrens_social_care",
    "local_authority": EALING,
    "contact_phone": "020 7946 0999",
    "contact_email": "duty@synthetic.example",
    "out_of_hours_phone": "020 7946 0998",
}


def admin(factory: Factory) -> dict[str, str]:
    return factory.headers(roles=["administrator"], type="index_operator")


def test_an_administrator_creates_lists_and_reads(client: TestClient, factory: Factory) -> None:
    headers = admin(factory)
    created = client.post("/v1/organisations", json=NEW_ORG, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == "DEMO-CSC-9"  # codes are upper case
    assert created.headers["Location"] == f"/v1/organisations/{body['id']}"
    assert client.get(f"/v1/organisations/{body['id']}", headers=headers).json() == body
    codes = [o["code"] for o in client.get("/v1/organisations", headers=headers).json()["items"]]
    assert "DEMO-CSC-9" in codes


def test_a_duplicate_code_is_409_and_stores_nothing(client: TestClient, factory: Factory) -> None:
    headers = admin(factory)
    client.post("/v1/organisations", json=NEW_ORG, headers=headers)
    before = factory.count("organisation")
    again = client.post("/v1/organisations", json={**NEW_ORG, "name": "Other"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "organisation_exists"
    assert factory.count("organisation") == before


def test_the_list_is_paged_with_a_cursor(client: TestClient, factory: Factory) -> None:
    headers = admin(factory)
    for number in range(5):
        client.post(
            "/v1/organisations", json={**NEW_ORG, "code": f"PAGE-{number}"}, headers=headers
        )
    first = client.get("/v1/organisations", params={"limit": 2}, headers=headers).json()
    assert len(first["items"]) == 2
    second = client.get(
        "/v1/organisations", params={"limit": 2, "after": first["next_cursor"]}, headers=headers
    ).json()
    assert {o["code"] for o in first["items"]}.isdisjoint({o["code"] for o in second["items"]})
    too_big = client.get("/v1/organisations", params={"limit": 1000}, headers=headers)
    assert too_big.status_code == 422
    # A cursor with a NUL in it (schemathesis found it: PostgreSQL refuses NUL) is bad input.
    nul = client.get("/v1/organisations", params={"after": "\x00"}, headers=headers)
    assert nul.status_code == 422
    assert nul.headers["content-type"] == "application/problem+json"


def test_only_administrators_manage_organisations(client: TestClient, factory: Factory) -> None:
    for roles in (["data_manager"], ["practitioner"], ["social_worker"], ["auditor"]):
        headers = factory.headers(roles=roles)
        response = client.post("/v1/organisations", json=NEW_ORG, headers=headers)
        assert response.status_code == 403, roles
        assert response.json()["code"] == "permission_denied"
        assert "administrator" in response.json()["detail"]
    assert factory.count("organisation") == 4  # only the callers' own organisations


def test_an_unknown_organisation_id_is_404(client: TestClient, factory: Factory) -> None:
    response = client.get(f"/v1/organisations/{uuid.uuid4()}", headers=admin(factory))
    assert response.status_code == 404


def test_a_deactivated_organisation_is_refused_at_the_next_request_until_reactivated(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.organisation(type="index_operator")
    headers = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    csc = factory.organisation()
    worker = factory.headers_for(csc, roles=["data_manager"], sub="worker-1")
    assert client.get("/v1/alerts", headers=worker).status_code == 200
    path = f"/v1/organisations/{csc.id}/deactivation"
    assert client.put(path, json={"reason": ""}, headers=headers).status_code == 422
    assert client.put(path, json={"reason": "Closed"}, headers=worker).status_code == 403
    done = client.put(path, json={"reason": "Closed in March"}, headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["deactivation_reason"] == "Closed in March"
    assert body["deactivated_at"] is not None
    refused = client.get("/v1/alerts", headers=worker)  # the same, valid token
    assert refused.status_code == 403
    assert refused.json()["code"] == "organisation_not_participating"
    again = client.put(path, json={"reason": "Twice"}, headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_deactivated")
    own = client.put(
        f"/v1/organisations/{operator.id}/deactivation", json={"reason": "Oops"}, headers=headers
    )
    assert (own.status_code, own.json()["code"]) == (409, "own_organisation")
    back = client.delete(path, headers=headers)
    assert back.status_code == 200, back.text
    assert back.json()["deactivated_at"] is None
    assert client.get("/v1/alerts", headers=worker).status_code == 200
    assert client.delete(path, headers=headers).status_code == 409
    acts = [
        (r["method"], r["status_code"], r["detail"].get("organisation_code"))
        for r in factory.audit_rows()
        if r["action"] == "admin:organisation:deactivate" and r["status_code"] == 200
    ]
    assert acts == [("PUT", 200, csc.code), ("DELETE", 200, csc.code)]
