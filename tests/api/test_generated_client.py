"""A client generated from the committed `openapi/openapi.json` (datamodel-code-generator's
pydantic models, as an agency's developer would make them) parses a real problem
response and a real success response of every operation: the document says what the
service answers, errors included."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel, ValidationError

from tests.api.test_mass_assignment import BODY_ROUTES, Scene, scene  # noqa: F401 - a fixture
from tests.factories.processes import BIN

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
DOCUMENT = json.loads(OPENAPI.read_text())
OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    if path.startswith("/v1/")
    for method in operations
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    where = tmp_path_factory.mktemp("client") / "index_client.py"
    made = subprocess.run(
        [
            str(BIN / "datamodel-codegen"),
            "--input",
            str(OPENAPI),
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--output",
            str(where),
            "--disable-timestamp",
            "--formatters",
            "ruff-format",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    spec = importlib.util.spec_from_file_location("index_client", where)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["index_client"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["index_client"]


def _models(schema: dict[str, Any], module: ModuleType) -> list[type[BaseModel]]:
    if "anyOf" in schema:
        return [m for option in schema["anyOf"] for m in _models(option, module)]
    name = schema["$ref"].rsplit("/", 1)[-1]
    model: type[BaseModel] = getattr(module, name)
    return [model]


def parse(
    module: ModuleType, method: str, path: str, response: httpx2.Response
) -> BaseModel | None:
    """The response as the generated client reads it, by the document's schema for its
    status and content type; None for a documented body that is not JSON (a CSV)."""
    operation = DOCUMENT["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path}: {response.status_code} undocumented"
    media_type = response.headers["content-type"].split(";")[0]
    content = documented.get("content", {})
    assert media_type in content, f"{method} {path}: {media_type} not in {sorted(content)}"
    schema = content[media_type].get("schema")
    if schema is None:
        assert not media_type.endswith("json") or media_type == "application/fhir+json"
        return None
    errors: list[ValidationError] = []
    for model in _models(schema, module):
        try:
            return model.model_validate(response.json())
        except ValidationError as exc:
            errors.append(exc)
    raise AssertionError(f"{method} {path}: {errors}")


def _paths(where: Scene, made: dict[str, str]) -> dict[str, str]:
    return {
        "child_id": where.child_id,
        "involvement_id": where.involvement_id,
        "flag_id": where.flag_id,
        "contact_id": where.contact_id,
        "alert_id": where.alert_id,
        "review_id": where.review_id,
        **made,
    }


def test_the_generated_client_parses_a_problem_and_a_success_of_every_operation(
    generated: ModuleType,
    scene: Scene,  # noqa: F811 - the fixture imported above
) -> None:
    client, factory = scene.client, scene.factory
    headers = dict(scene.headers)
    headers["auditor"] = factory.headers(roles=["auditor"])
    made: dict[str, str] = {}
    parsed: dict[tuple[str, str], BaseModel | None] = {}

    def call(method: str, path: str, caller: str, status: int, **kwargs: Any) -> Any:
        url = path.format(**{**_paths(scene, made), **kwargs.pop("values", {})})
        response = client.request(
            method, url, headers={**headers[caller], **kwargs.pop("extra", {})}, **kwargs
        )
        assert response.status_code == status, (method, path, response.text)
        parsed[(method, path)] = parse(generated, method, path, response)
        return response

    # Every body-taking route, with a valid body (tests/api/test_mass_assignment.py's).
    for (method, path), route in BODY_ROUTES.items():
        # The child's version now: the routes before it in this loop moved it on.
        current = client.get(f"/v1/children/{scene.child_id}", headers=headers["data_manager"])
        extra = {"If-Match": current.headers["etag"]} if route.if_match else {}
        answer = call(
            method, path, route.caller, route.success, json=route.body(scene), extra=extra
        )
        if route.success == 201:
            key = {
                "/v1/organisations": "organisation_id",
                "/v1/suspensions": "suspension_id",
                "/v1/trusted-issuers": "issuer_id",
                "/v1/webhook-endpoints": "endpoint_id",
                "/v1/children/{child_id}/flags": "new_flag_id",
                "/v1/children/{child_id}/merges": "merge_id",
            }.get(path)
            if key is not None:
                made[key] = answer.json()["id"]
    enquiry = client.post(
        "/v1/enquiries", json={"nhs_number": "9992914173"}, headers=headers["practitioner"]
    )
    survivor = client.get(f"/v1/children/{scene.child_id}", headers=headers["data_manager"])
    call(
        "POST",
        "/v1/children/{child_id}/merges/{merge_id}/undo",
        "data_manager",
        200,
        extra={"If-Match": survivor.headers["etag"]},
    )
    read = client.get(f"/v1/children/{scene.child_id}", headers=headers["data_manager"])
    made["etag"] = read.headers["etag"]
    # The rest: reads, ends and withdrawals.
    rest: list[tuple[str, str, str, int, dict[str, Any]]] = [
        ("GET", "/v1/organisations", "administrator", 200, {}),
        ("GET", "/v1/organisations/{organisation_id}", "administrator", 200, {}),
        # Deactivated by the body-taking routes above.
        ("DELETE", "/v1/organisations/{organisation_id}/deactivation", "administrator", 200, {}),
        ("GET", "/v1/suspensions", "administrator", 200, {}),
        ("DELETE", "/v1/suspensions/{suspension_id}", "administrator", 200, {}),
        ("GET", "/v1/trusted-issuers", "administrator", 200, {}),
        ("DELETE", "/v1/trusted-issuers/{issuer_id}", "administrator", 200, {}),
        ("GET", "/v1/webhook-endpoints", "administrator", 200, {}),
        ("DELETE", "/v1/webhook-endpoints/{endpoint_id}", "administrator", 200, {}),
        ("GET", "/v1/children/{child_id}", "data_manager", 200, {}),
        (
            "PUT",
            "/v1/children/{child_id}/shield",
            "data_manager",
            200,
            {"extra": {"If-Match": made["etag"]}},
        ),
        (
            "DELETE",
            "/v1/children/{child_id}/shield",
            "data_manager",
            200,
            {"extra": {"If-Match": _next(made["etag"])}},
        ),
        ("GET", "/v1/enquiry-contacts", "designated_manager", 200, {}),
        (
            "POST",
            "/v1/flags/{flag_id}/end",
            "social_worker",
            200,
            {"values": {"flag_id": made["new_flag_id"]}},
        ),
        ("GET", "/v1/flags/overdue", "social_worker", 200, {}),
        ("GET", "/v1/alerts", "designated_manager", 200, {}),
        ("GET", "/v1/alerts/{alert_id}", "designated_manager", 200, {}),
        ("GET", "/v1/audit/events", "auditor", 200, {}),
        ("GET", "/v1/audit/events/export.csv", "auditor", 200, {}),
        ("GET", "/v1/audit/events/export.fhir", "auditor", 200, {}),
        ("GET", "/v1/audit/children/{child_id}/accesses", "auditor", 200, {}),
        (
            "GET",
            "/v1/audit/practitioners/activity",
            "auditor",
            200,
            {"params": {"issuer": "x", "subject": "y"}},
        ),
        (
            "GET",
            "/v1/audit/reports/{report}",
            "auditor",
            200,
            {"values": {"report": "many-children"}},
        ),
        ("GET", "/v1/audit/verify", "auditor", 200, {}),
        ("GET", "/v1/feeds/reviews", "data_manager", 200, {}),
        ("GET", "/v1/children/{child_id}/subject-access", "data_manager", 200, {}),
        ("GET", "/v1/children/{child_id}/legal-hold", "data_manager", 200, {}),
        (
            "DELETE",
            "/v1/children/{child_id}/legal-hold",
            "data_manager",
            200,
            {"extra": {"If-Match": _next(_next(made["etag"]))}},
        ),
        ("GET", "/v1/data-quality/gaps", "data_manager", 200, {}),
        (  # the documented columns, and no row (examples/feed.csv has some)
            "POST",
            "/v1/feeds",
            "data_manager",
            200,
            {
                "content": (OPENAPI.parents[1] / "examples" / "feed.csv")
                .read_bytes()
                .splitlines()[0],
                "extra": {"Content-Type": "text/csv"},
            },
        ),
    ]
    assert enquiry.status_code == 201, enquiry.text
    made["enquiry_id"] = enquiry.json()["id"]
    rest.append(("GET", "/v1/enquiries/{enquiry_id}/children/{child_id}", "practitioner", 200, {}))
    for method, path, caller, status, kwargs in rest:
        call(method, path, caller, status, **kwargs)
    documented = set(OPERATIONS)
    assert documented <= set(parsed), f"no success parsed for {sorted(documented - set(parsed))}"
    assert isinstance(parsed[("POST", "/v1/children")], generated.ChildPublic)

    # A problem of every operation: no token, 401, read as the document's Problem.
    for method, path in OPERATIONS:
        url = path.format(**{**_paths(scene, made), "report": "many-children"})
        response = client.request(method, url)
        assert response.status_code == 401, (method, path, response.text)
        problem = parse(generated, method, path, response)
        assert isinstance(problem, generated.Problem), (method, path)
        assert problem.code == "missing_token"


def _next(etag: str) -> str:
    return f'"{int(etag.strip(chr(34))) + 1}"'
