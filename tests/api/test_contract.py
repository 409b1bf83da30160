"""The API's contract (`api/contract.py`): every problem a route can answer is in its
OpenAPI operation with the one `Problem` schema; every operation has a written summary
and a description; real problem responses validate against the documented schema; and
the errors teach (405 with `Allow`, date formats, purpose codes in any case, the route
to use instead, a malformed If-Match named as such)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from index_service.api.contract import PROBLEM_REF
from index_service.api.problems import PROBLEM_JSON
from index_service.api.routing import AuditedRoute, _note_if_undocumented
from tests.factories import CHILD, PURPOSE, Factory, child_payload

CHANGE = {"education": {"status": "not_in_education"}}


def _operations(app: FastAPI) -> list[tuple[AuditedRoute, str, dict[str, Any]]]:
    document = app.openapi()
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, AuditedRoute):
            for method in route.methods:
                found.append((route, method, document["paths"][route.path][method.lower()]))
    return found


def _problem_validator(app: FastAPI) -> jsonschema_rs.Validator:
    document = app.openapi()
    return jsonschema_rs.validator_for({"$ref": PROBLEM_REF, "components": document["components"]})


def test_every_problem_a_route_can_give_is_documented_with_the_problem_schema(
    app: FastAPI,
) -> None:
    operations = _operations(app)
    assert len(operations) >= 37
    for route, method, operation in operations:
        where = f"{method} {route.path}"
        assert route.problems, where
        for case in route.problems:
            response = operation["responses"].get(str(case.status))
            assert response is not None, f"{where}: {case.status} {case.code} undocumented"
            assert f"`{case.code}`" in response["description"], f"{where}: {case.code}"
            schema = response["content"][PROBLEM_JSON]["schema"]
            refs = [schema] if "$ref" in schema else schema["anyOf"]
            assert {"$ref": PROBLEM_REF} in refs, where
            assert "application/json" not in response["content"], where
        # Only problem documents answer 4xx and 5xx, and FastAPI's own shape is gone.
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {PROBLEM_JSON}, f"{where} {status}"
    assert "HTTPValidationError" not in json.dumps(app.openapi())


def test_what_a_route_implies_is_documented(app: FastAPI) -> None:
    by_operation = {(m, r.path): {c.status for c in r.problems} for r, m, _ in _operations(app)}
    # Every route: the token, the policy, the audit row, the database.
    assert all({401, 403, 500, 503} <= statuses for statuses in by_operation.values())
    # A body: malformed, too large, not JSON, not valid.
    assert {400, 413, 415, 422} <= by_operation[("POST", "/v1/organisations")]
    # An id in the path: not found. If-Match: stale, malformed, missing.
    assert {404, 412, 428} <= by_operation[("PATCH", "/v1/children/{child_id}")]
    assert 412 not in by_operation[("GET", "/v1/children/{child_id}")]
    # Child data: the purpose headers (400). A rate-limited permission: 429.
    assert {400, 429} <= by_operation[("GET", "/v1/children/{child_id}")]
    assert 429 not in by_operation[("GET", "/v1/organisations")]
    # Declared by the route: a 409.
    assert 409 in by_operation[("POST", "/v1/organisations")]


def test_every_operation_has_a_written_summary_and_a_description_for_a_client(
    app: FastAPI,
) -> None:
    for route, method, operation in _operations(app):
        where = f"{method} {route.path}"
        generated = route.endpoint.__name__.replace("_", " ").title()
        assert operation["summary"], where
        assert operation["summary"] != generated, where
        description = operation["description"]
        assert len(description) > 120, where
        assert "**Who may call it:**" in description, where
        assert "written to the audit trail" in description, where
        if route.path.startswith(("/v1/children", "/v1/enquiries", "/v1/flags")):
            assert "Purpose-Of-Use" in description, where
    shield = app.openapi()["paths"]["/v1/children/{child_id}/shield"]["put"]
    assert "`data_manager` (in `childrens_social_care`)" in shield["description"]


def test_a_problem_status_a_route_does_not_document_is_caught(app: FastAPI) -> None:
    route = next(r for r, m, _ in _operations(app) if r.path == "/v1/organisations")

    class _Request:
        method = "GET"

        class app:  # noqa: N801 - stands in for the request's app
            state = app.state

    _note_if_undocumented(_Request(), route, 401)  # type: ignore[arg-type]
    assert not app.state.undocumented_problems
    _note_if_undocumented(_Request(), route, 418)  # type: ignore[arg-type]
    assert app.state.undocumented_problems == {("GET", "/v1/organisations", 418)}
    app.state.undocumented_problems.clear()


def test_real_problem_responses_validate_against_the_documented_schema(
    app: FastAPI, client: TestClient, factory: Factory
) -> None:
    validator = _problem_validator(app)
    manager = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    url = f"/v1/children/{child}"
    answers = {
        401: client.get(url, headers=PURPOSE),
        403: client.get(url, headers=factory.practitioner()),
        404: client.get("/v1/children/00000000-0000-4000-8000-000000000000", headers=manager),
        400: client.get(url, headers={**manager, "Purpose-Of-Use": ""}),
        405: client.get("/v1/enquiries", headers=factory.practitioner()),
        412: client.patch(url, json=CHANGE, headers={**manager, "If-Match": '"9"'}),
        415: client.post("/v1/enquiries", content=b"x", headers=factory.practitioner()),
        422: client.post(
            "/v1/enquiries",
            json={"family_name": "Testchild", "date_of_birth": "04/05/2017"},
            headers=factory.practitioner(),
        ),
        428: client.patch(url, json=CHANGE, headers=manager),
    }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        validator.validate(body)
        assert body["status"] == status
        assert body["type"].endswith(body["code"])


def test_a_method_not_answered_says_which_is_with_allow(
    client: TestClient, factory: Factory
) -> None:
    response = client.get("/v1/enquiries", headers=factory.practitioner())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["detail"] == "GET is not answered at /v1/enquiries: use POST"
    # Every route of the path counts, not only the first whose path matched.
    response = client.delete("/v1/children/00000000-0000-4000-8000-000000000000")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH"}
    assert response.json()["detail"].endswith("use GET or PATCH")


def test_a_date_in_another_format_is_told_the_expected_one(
    client: TestClient, factory: Factory
) -> None:
    response = client.post(
        "/v1/enquiries",
        json={"family_name": "Testchild", "given_names": "Aisha", "date_of_birth": "04/05/2017"},
        headers=factory.practitioner(),
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["location"] == ["body", "date_of_birth"]
    assert "use YYYY-MM-DD" in error["message"]
    assert "04/05" not in response.text  # the value sent is never echoed


@pytest.mark.parametrize("code", ["HEALTH_CARE", "Health_Care", " health_care "])
def test_a_purpose_code_in_another_case_is_the_same_purpose_everywhere(
    client: TestClient, factory: Factory, code: str
) -> None:
    client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    headers = {**factory.practitioner(), "Purpose-Of-Use": code}
    response = client.post(
        "/v1/enquiries", json={"nhs_number": CHILD["nhs_number"]}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert factory.audit_rows()[-1]["purpose"] == "health_care"


def test_a_practitioner_refused_a_child_by_id_is_told_to_use_an_enquiry(
    client: TestClient, factory: Factory
) -> None:
    child = client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    response = client.get(f"/v1/children/{child.json()['id']}", headers=factory.practitioner())
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail.startswith("look children up with an enquiry: POST /v1/enquiries")
    # An administrator holds no enquiry permission: no route is suggested to them.
    admin = factory.headers(roles=["administrator"], type="index_operator")
    response = client.get(f"/v1/children/{child.json()['id']}", headers=admin)
    assert response.status_code == 403
    assert "enquiry" not in response.json()["detail"]


def test_a_malformed_if_match_is_titled_as_such_not_as_a_change(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    malformed = client.patch(
        f"/v1/children/{child}", json=CHANGE, headers={**manager, "If-Match": "1"}
    )
    stale = client.patch(
        f"/v1/children/{child}", json=CHANGE, headers={**manager, "If-Match": '"7"'}
    )
    assert (malformed.status_code, stale.status_code) == (412, 412)
    assert malformed.json()["title"] == "If-Match is not an ETag"
    assert malformed.json()["code"] == "if_match_malformed"
    assert stale.json()["title"] == "The record has changed since you read it"


def test_the_front_page_points_to_the_app_the_docs_and_healthz(client: TestClient) -> None:
    first = client.get("/", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/sign-in")
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="(/[^"#]*)"', response.text)) - {"/"}
    assert {"/docs", "/healthz", "/openapi.json"} <= links
    for link in ("/docs", "/healthz", "/openapi.json"):
        assert client.get(link).status_code == 200, link
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_the_api_docs_are_served_by_the_service_alone(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "'unsafe-inline'" not in csp
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/") for s in sources)
    assert "<script>" not in page.text  # no inline script: the CSP holds
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100, source
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    # Only the files the page loads: not the rest of the package's folder.
    assert client.get("/docs/assets/swagger-editor-bundle.js").status_code == 404
    assert client.get("/docs/assets/../__init__.py").status_code == 404
