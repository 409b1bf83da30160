"""Purpose of use: every request that touches child data states one, before anything
else is read; it is stored with the audit row."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from index_service.access.policy import GRANTS, Permission
from index_service.access.purpose import PurposeCode, PurposeRequired, purpose_from_headers
from index_service.access.roles import Role
from index_service.api.routing import PERMISSION_KEY
from index_service.main import V1_ROUTERS
from tests.factories import PURPOSE, Factory, child_payload

GOOD = ("safeguarding_concern", "ED attendance, bruising")


@pytest.mark.parametrize(
    ("code", "text", "refusal"),
    [
        pytest.param(None, "why", "purpose_required", id="no code"),
        pytest.param("  ", "why", "purpose_required", id="blank code"),
        pytest.param("curiosity", "why", "purpose_unknown", id="code not on the list"),
        pytest.param("audit", None, "purpose_text_required", id="no text"),
        pytest.param("audit", "   ", "purpose_text_required", id="blank text"),
        pytest.param("audit", "x" * 201, "purpose_text_too_long", id="text too long"),
        pytest.param("audit", "line%0Abreak", "purpose_text_invalid", id="encoded line break"),
        pytest.param("audit", "bad%FFutf8", "purpose_text_invalid", id="not UTF-8"),
        pytest.param("audit", "seen%E2%80%8Bin ED", "purpose_text_invalid", id="zero-width space"),
        pytest.param("audit", "%E2%80%AEDE ni nees", "purpose_text_invalid", id="bidi override"),
        pytest.param("audit", "ED %E2%81%A6visit", "purpose_text_invalid", id="bidi isolate"),
        pytest.param("audit", "%CC%81%CC%81", "purpose_text_invalid", id="combining marks only"),
        pytest.param("audit", "%C3%A9" * 201, "purpose_text_too_long", id="201 non-ASCII"),
    ],
)
def test_a_missing_or_bad_purpose_is_refused(
    code: str | None, text: str | None, refusal: str
) -> None:
    with pytest.raises(PurposeRequired) as refused:
        purpose_from_headers(code, text)
    assert refused.value.status == 400
    assert refused.value.code == refusal


def test_a_purpose_is_read_with_its_text_decoded() -> None:
    purpose = purpose_from_headers(" Health_Care ", "Zo%C3%AB seen in ED")
    assert (purpose.code, purpose.text) == (PurposeCode.HEALTH_CARE, "Zoë seen in ED")
    raw_utf8_as_http_delivers_it = "Zoë".encode().decode("latin-1")
    assert purpose_from_headers("audit", raw_utf8_as_http_delivers_it).text == "Zoë"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("é" * 200, id="200 two-byte characters"),
        pytest.param("漢" * 200, id="200 three-byte characters"),
        pytest.param("👶" * 200, id="200 four-byte characters"),
    ],
)
def test_a_200_character_non_ascii_purpose_sent_percent_encoded_is_accepted(
    client: TestClient, factory: Factory, text: str
) -> None:
    """The README says: percent-encode characters outside ASCII. Encoded, 200 characters
    are up to 2,400 bytes of header; the whole of it is accepted and audited decoded."""
    headers = {**factory.practitioner(), "Purpose-Text": quote(text)}
    response = client.post("/v1/enquiries", json={"nhs_number": "9992914173"}, headers=headers)
    assert response.status_code == 201, response.text
    assert factory.audit_rows()[-1]["purpose_text"] == text


def _child_routes() -> list[tuple[str, str, Permission]]:
    found = []
    for router in V1_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            declared = Permission((route.openapi_extra or {})[PERMISSION_KEY])
            if declared.touches_child_data:
                found.extend((method, route.path, declared) for method in sorted(route.methods))
    return found


def test_the_child_routes_are_the_ones_expected() -> None:
    """Control: the parametrised test below really covers every child-data route."""
    assert {path for _, path, _ in _child_routes()} == {
        "/v1/children",
        "/v1/children/{child_id}",
        "/v1/children/{child_id}/shield",
        "/v1/children/{child_id}/merges",
        "/v1/children/{child_id}/merges/{merge_id}/undo",
        "/v1/children/{child_id}/legal-hold",
        "/v1/children/{child_id}/subject-access",
        "/v1/enquiries",
        "/v1/enquiries/{enquiry_id}/children/{child_id}",
        "/v1/enquiry-contacts",
        "/v1/enquiry-contacts/{contact_id}/close",
        "/v1/children/{child_id}/involvements",
        "/v1/involvements/{involvement_id}/end",
        "/v1/children/{child_id}/flags",
        "/v1/flags/{flag_id}/review",
        "/v1/flags/{flag_id}/end",
        "/v1/flags/overdue",
        "/v1/feeds",
        "/v1/feeds/reviews",
        "/v1/feeds/reviews/{review_id}/resolve",
        "/v1/data-quality/gaps",
    }


def _holder(factory: Factory, permission: Permission) -> dict[str, str]:
    """Headers of a caller in children's social care whom the policy grants the
    permission, so that the purpose is what the request is refused for: a data manager
    where one may be, else the first role granted it."""
    roles = [grant.role for grant in GRANTS[permission]]
    role = Role.DATA_MANAGER if Role.DATA_MANAGER in roles else roles[0]
    return factory.headers(roles=[role.value])


# Any path id will do: the purpose is checked before the path's object is looked for.
ANY_ID = "6f1e2a7c-0a51-4f55-8c7c-3c2c9d0e0b11"
PATH_IDS = dict.fromkeys(
    ("child_id", "enquiry_id", "contact_id", "involvement_id", "flag_id", "review_id", "merge_id"),
    ANY_ID,
)


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    _child_routes(),
    ids=[f"{method}-{path}" for method, path, _ in _child_routes()],
)
def test_every_child_route_refuses_a_request_without_a_purpose(
    client: TestClient, factory: Factory, method: str, path: str, permission: Permission
) -> None:
    headers = {k: v for k, v in _holder(factory, permission).items() if k not in PURPOSE}
    url = path.format(**PATH_IDS)
    response = client.request(method, url, json={"names": []}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "purpose_required"
    (row,) = factory.audit_rows()
    assert (row["outcome"], row["reason"], row["purpose"]) == ("refused", "purpose_required", None)


def test_the_purpose_is_stored_with_the_audit_row(client: TestClient, factory: Factory) -> None:
    headers = {
        **factory.data_manager(),
        "Purpose-Of-Use": GOOD[0],
        "Purpose-Text": GOOD[1],
    }
    created = client.post("/v1/children", json=child_payload(), headers=headers)
    assert created.status_code == 201, created.text
    response = client.get(created.headers["Location"], headers=headers)
    assert response.status_code == 200
    rows = factory.audit_rows()
    assert [(r["purpose"], r["purpose_text"]) for r in rows] == [GOOD, GOOD]


def test_administrative_routes_need_no_purpose(client: TestClient, factory: Factory) -> None:
    headers = {
        k: v
        for k, v in factory.headers(roles=["administrator"], type="index_operator").items()
        if k not in PURPOSE
    }
    assert client.get("/v1/organisations", headers=headers).status_code == 200


def test_audit_routes_need_no_purpose(client: TestClient, factory: Factory) -> None:
    """The auditors' routes are under the `audit` scope, not `child`: no purpose needed."""
    headers = {
        k: v
        for k, v in factory.headers(roles=["national_auditor"], type="index_operator").items()
        if k not in PURPOSE
    }
    for url in ("/v1/audit/events", "/v1/audit/reports/out-of-hours", "/v1/audit/verify"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
