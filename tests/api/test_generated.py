"""Generated requests (schemathesis, from the committed OpenAPI document): whatever a
caller sends, the service answers without a server error, every refusal is a problem
document, and every answer conforms to the document: its status is one the operation
lists, its content type and body are the ones documented for that status (schemathesis'
response conformance checks, with nothing excluded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import Factory

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(OPENAPI)


@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes")
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_breaks_the_service(
    case: schemathesis.Case, client: TestClient, factory: Factory
) -> None:
    admin = case.path.startswith("/v1/organisations")
    headers = factory.headers(
        roles=["administrator" if admin else "data_manager"],
        type="index_operator" if admin else "childrens_social_care",
    )
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    response = client.request(**kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and case.path.startswith("/v1/"):
        assert response.headers["content-type"] == "application/problem+json"
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
