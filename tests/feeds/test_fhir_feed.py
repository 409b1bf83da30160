"""A FHIR R4 Bundle feed: Patients, their carers as RelatedPerson, their GP practice and
school as Organization references."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from index_service.feeds.records import (
    NHS_NUMBER_SYSTEM,
    NHS_VERIFICATION_URL,
    ODS_SYSTEM,
    RESPONSIBLE_AUTHORITY_EXTENSION,
    SCHOOL_EXTENSION,
    SCHOOL_URN_SYSTEM,
)
from tests.factories import EALING, VALID_NHS_NUMBER, Factory, child_payload, create_confirming
from tests.feeds.conftest import agency_headers, index_state

FHIR = {"Content-Type": "application/fhir+json"}
AUTHORITY = {"url": RESPONSIBLE_AUTHORITY_EXTENSION, "valueCode": EALING}


def patient(id: str, given: str, family: str, born: str | None, **more: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": id,
        "extension": [AUTHORITY],
        "name": [{"use": "official", "given": [given], "family": family}],
        **more,
    }
    if born:
        resource["birthDate"] = born
    return resource


def bundle() -> dict[str, Any]:
    known = patient(
        "P-1",
        "Aisha",
        "Testchild",
        "2016-02-11",
        identifier=[
            {
                "system": NHS_NUMBER_SYSTEM,
                "value": VALID_NHS_NUMBER,
                "extension": [
                    {
                        "url": NHS_VERIFICATION_URL,
                        "valueCodeableConcept": {"coding": [{"code": "01"}]},
                    }
                ],
            }
        ],
        generalPractitioner=[{"reference": "Organization/gp-1"}],
    )
    new = patient(
        "P-2",
        "Ioana",
        "Bundlechild",
        "2013-09-21",
        address=[{"use": "home", "line": ["2 Fhir Way"], "city": "London", "postalCode": "W5 1XY"}],
        extension=[
            AUTHORITY,
            {"url": SCHOOL_EXTENSION, "valueReference": {"reference": "Organization/school-1"}},
        ],
    )
    carer = {
        "resourceType": "RelatedPerson",
        "id": "rp-1",
        "patient": {"reference": "Patient/P-2"},
        "name": [{"given": ["Elena"], "family": "Bundlechild"}],
        "relationship": [{"coding": [{"code": "MTH", "display": "mother"}]}],
        "telecom": [{"system": "phone", "value": "07700 900456"}],
    }
    broken = patient("P-3", "Chidi", "Nobirth", None)
    lookalike = patient(
        "P-4",
        "Farah",
        "Lookalike",
        "2012-05-06",
        address=[{"line": ["9 Far Lane"], "postalCode": "W5 8QQ"}],
    )
    gp = {
        "resourceType": "Organization",
        "id": "gp-1",
        "identifier": [{"system": ODS_SYSTEM, "value": "B82005"}],
    }
    school = {
        "resourceType": "Organization",
        "id": "school-1",
        "identifier": [{"system": SCHOOL_URN_SYSTEM, "value": "100002"}],
    }
    resources = [known, new, carer, broken, lookalike, gp, school]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def test_the_bundle_is_valid_fhir_r4() -> None:
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle())


def test_a_fhir_bundle_updates_creates_queues_and_reports(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    standard = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    twin = child_payload(
        names=[{"kind": "legal", "given_names": "Farah", "family_name": "Lookalike"}],
        date_of_birth="2012-05-06",
        nhs_number=None,
        upn=None,
    )
    twins = [create_confirming(client, manager, twin) for _ in range(2)]
    agency, agency_code = agency_headers(factory)
    body = json.dumps(bundle()).encode()

    response = client.post("/v1/feeds", content=body, headers={**agency, **FHIR})

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "fhir"
    rows = {r["source_record_id"]: r for r in report["rows"]}
    assert (rows["P-1"]["outcome"], rows["P-1"]["child_id"]) == ("updated", standard)
    assert "nhs_number_unverified" not in rows["P-1"]["gaps"]  # traced, the Bundle says
    assert rows["P-2"]["outcome"] == "created"
    assert rows["P-3"]["outcome"] == "rejected"
    assert [p["field"] for p in rows["P-3"]["problems"]] == ["date_of_birth"]
    assert rows["P-4"]["outcome"] == "queued_for_review"

    updated = client.get(f"/v1/children/{standard}", headers=manager).json()
    assert updated["gp_practice"]["ods_code"] == "B82005"
    assert updated["provenance"]["gp_practice"]["organisation"] == agency_code
    created = client.get(f"/v1/children/{rows['P-2']['child_id']}", headers=manager).json()
    assert created["education"]["urn"] == "100002"
    assert created["carers"]["people"] == [
        {"name": "Elena Bundlechild", "relationship": "mother", "phone": "07700 900456"}
    ]
    assert created["addresses"][0]["postcode"] == "W5 1XY"
    (review,) = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
    assert sorted(review["candidate_ids"]) == sorted(twins)

    before = index_state(factory)
    again = client.post("/v1/feeds", content=body, headers={**agency, **FHIR}).json()
    assert again["counts"]["unchanged"] == 3
    assert index_state(factory) == before
