"""Separation of duties: a token carrying both administrator and national auditor is
refused on every route, with the reason, and the refusal is audited; either role alone
is served."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_administrator_and_national_auditor_together_are_refused(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.organisation(type="index_operator")
    both = factory.headers_for(operator, roles=["administrator", "national_auditor"], sub="ops-9")
    for method, path in (("GET", "/v1/organisations"), ("GET", "/v1/audit/events")):
        refused = client.request(method, path, headers=both)
        assert refused.status_code == 403, path
        problem = refused.json()
        assert problem["code"] == "conflicting_roles"
        assert "nobody audits their own administration" in problem["detail"]
    row = factory.audit_rows()[-1]
    assert (row["subject"], row["outcome"], row["reason"]) == (
        "ops-9",
        "refused",
        "conflicting_roles",
    )
    admin = factory.headers_for(operator, roles=["administrator"], sub="ops-1")
    auditor = factory.headers_for(operator, roles=["national_auditor"], sub="ops-2")
    assert client.get("/v1/organisations", headers=admin).status_code == 200
    assert client.get("/v1/audit/events", headers=auditor).status_code == 200
