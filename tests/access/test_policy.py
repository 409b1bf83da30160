"""The access policy: every route declares a permission; deny by default."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from index_service.access.policy import GRANTS, Permission
from index_service.api.routing import PERMISSION_KEY, AuditedRoute
from index_service.main import V1_ROUTERS
from tests.factories import Factory, child_payload

OPEN_ROUTES = {"/healthz", "/readyz", "/metrics"}


def test_every_v1_route_declares_a_known_permission() -> None:
    routes = [r for router in V1_ROUTERS for r in router.routes]
    assert routes
    for route in routes:
        assert isinstance(route, APIRoute)
        assert route.path.startswith("/v1/"), route.path
        assert isinstance(route, AuditedRoute), f"{route.path} is not audited"
        declared = (route.openapi_extra or {}).get(PERMISSION_KEY)
        assert declared in {p.value for p in Permission}, f"{route.path} declares no permission"


def test_every_published_operation_outside_operations_declares_a_permission(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        if path in OPEN_ROUTES:
            continue
        for method, operation in operations.items():
            assert operation.get(PERMISSION_KEY) in {p.value for p in Permission}, (method, path)


def test_every_permission_is_granted_to_someone() -> None:
    assert set(GRANTS) == set(Permission)


@pytest.mark.parametrize(
    ("roles", "organisation_type", "status"),
    [
        (["data_manager"], "childrens_social_care", 201),
        (["social_worker"], "childrens_social_care", 201),
        (["social_worker"], "police", 403),  # children's social care only
        (["practitioner"], "gp_practice", 403),
        (["administrator"], "index_operator", 403),  # administrators see no child data
        (["auditor"], "childrens_social_care", 403),
        (["service_account"], "hospital", 201),  # agency systems feed records in
        (["data_manager"], "police", 403),  # children's social care only
        (["administrator"], "police", 403),
        ([], "childrens_social_care", 403),
    ],
)
def test_who_may_create_a_child(
    client: TestClient, factory: Factory, roles: list[str], organisation_type: str, status: int
) -> None:
    headers = factory.headers(roles=roles, type=organisation_type)
    response = client.post("/v1/children", json=child_payload(), headers=headers)
    assert response.status_code == status
    rows = factory.audit_rows()
    assert len(rows) == 1
    assert rows[0]["outcome"] == ("success" if status == 201 else "refused")
    if status == 403:
        assert factory.count("child") == 0
        assert response.json()["code"] == "permission_denied"
