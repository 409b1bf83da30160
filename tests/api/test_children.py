"""Creating, reading and updating a child over HTTP, against PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from index_service.audit.retention import erase_personal
from index_service.audit.sealer import Sealer
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings
from tests.audit.conftest import seal_all
from tests.factories import EALING, VALID_NHS_NUMBER, Factory, child_payload, other_child


def test_a_data_manager_creates_and_reads_a_child(client: TestClient, factory: Factory) -> None:
    headers = factory.data_manager()
    created = client.post("/v1/children", json=child_payload(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/v1/children/{body['id']}"
    assert uuid.UUID(body["id"]).version == 4
    assert body["addresses"][0]["postcode"] == "W5 2AA"  # normalised
    assert body["addresses"][0]["current"] is True
    assert body["addresses"][1]["current"] is False
    assert body["nhs_number"] == VALID_NHS_NUMBER
    assert {n["kind"] for n in body["names"]} == {"legal", "alias"}
    assert body["provenance"]["nhs_number"]["organisation"].startswith("T")

    read = client.get(f"/v1/children/{body['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["ETag"] == '"1"'
    assert read.headers["Cache-Control"] == "no-store"


def test_unknown_and_none_are_different_facts(client: TestClient, factory: Factory) -> None:
    payload = child_payload(
        carers={"status": "none"},
        gp_practice={"status": "not_registered"},
        education={"status": "not_of_school_age"},
        nhs_number=None,
        upn=None,
    )
    body = client.post("/v1/children", json=payload, headers=factory.data_manager()).json()
    assert body["carers"] == {"status": "none", "people": []}
    assert body["gp_practice"]["status"] == "not_registered"
    assert body["education"]["status"] == "not_of_school_age"
    minimal = {
        k: v
        for k, v in other_child().items()  # another child: not a possible duplicate
        if k in {"names", "date_of_birth", "responsible_authority"}
    }
    body = client.post("/v1/children", json=minimal, headers=factory.data_manager()).json()
    assert body["carers"]["status"] == "unknown"
    assert body["gp_practice"]["status"] == "unknown"
    assert body["education"]["status"] == "unknown"
    assert body["nhs_number"] is None


def test_a_social_worker_in_childrens_social_care_may_keep_records(
    client: TestClient, factory: Factory
) -> None:
    headers = factory.headers(roles=["social_worker"], type="childrens_social_care")
    assert client.post("/v1/children", json=child_payload(), headers=headers).status_code == 201


def test_update_needs_the_current_etag(client: TestClient, factory: Factory) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    url = f"/v1/children/{child['id']}"
    change = {"responsible_authority": "E09000014", "upn": None}

    missing = client.patch(url, json=change, headers=headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"

    updated = client.patch(url, json=change, headers={**headers, "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    assert updated.json()["responsible_authority"] == "E09000014"
    assert updated.json()["upn"] is None
    assert updated.json()["nhs_number"] == child["nhs_number"]  # untouched

    stale = client.patch(
        url, json={"responsible_authority": EALING}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert client.get(url, headers=headers).json()["responsible_authority"] == "E09000014"


def test_update_replaces_lists_and_records_provenance(client: TestClient, factory: Factory) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    other = factory.headers(roles=["data_manager"])
    names = [{"kind": "legal", "given_names": "Aisha", "family_name": "Newname"}]
    response = client.patch(
        f"/v1/children/{child['id']}", json={"names": names}, headers={**other, "If-Match": '"1"'}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["names"] == names
    assert (
        body["provenance"]["names"]["organisation"] != child["provenance"]["names"]["organisation"]
    )
    assert body["provenance"]["date_of_birth"] == child["provenance"]["date_of_birth"]


def test_an_unknown_child_is_404(client: TestClient, factory: Factory) -> None:
    response = client.get(f"/v1/children/{uuid.uuid4()}", headers=factory.data_manager())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_every_child_request_leaves_one_audit_row(client: TestClient, factory: Factory) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    client.get(f"/v1/children/{child['id']}", headers={**headers, "X-Request-ID": "req-read-0001"})
    rows = factory.audit_rows()
    assert [r["action"] for r in rows] == ["child:record:create", "child:record:read"]
    read = rows[1]
    assert read["outcome"] == "success"
    assert read["child_ids"] == [uuid.UUID(child["id"])]
    assert read["request_id"] == "req-read-0001"
    assert (read["method"], read["route"]) == ("GET", "/v1/children/{child_id}")
    assert read["subject"] == "user-1"
    assert read["roles"] == ["data_manager"]
    assert read["organisation"] is not None
    assert read["occurred_at"].utcoffset().total_seconds() == 0


def test_a_change_is_audited_as_a_field_diff_of_what_changed(
    client: TestClient, factory: Factory
) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    names = [{"kind": "legal", "given_names": "Aisha", "family_name": "Newname"}]
    change = {"names": names, "upn": None, "nhs_number": child["nhs_number"]}
    response = client.patch(
        f"/v1/children/{child['id']}", json=change, headers={**headers, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    row = factory.audit_rows()[-1]
    assert row["action"] == "child:record:update"
    changes = row["detail"]["changes"]
    assert set(changes) == {"names", "upn"}  # the NHS number was given but did not change
    assert changes["upn"] == {"before": child["upn"], "after": None}
    assert [n["family_name"] for n in changes["names"]["before"]] == ["Testchild", "Testchild"]
    assert [n["family_name"] for n in changes["names"]["after"]] == ["Newname"]


def test_a_change_of_gp_school_or_carers_status_is_in_the_audited_diff(
    client: TestClient, factory: Factory
) -> None:
    """The groups stored as the child's columns (GP practice, education, the carers'
    status) are diffed as the API gives them: "none" after "unknown" is a change."""
    headers = factory.data_manager()
    payload = child_payload(carers={"status": "unknown"})
    child = client.post("/v1/children", json=payload, headers=headers).json()
    change = {
        "gp_practice": {"status": "not_registered"},
        "education": {"status": "attending", "urn": "100001", "phone": "020 7946 0002"},
        "carers": {"status": "none"},
    }
    response = client.patch(
        f"/v1/children/{child['id']}", json=change, headers={**headers, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    changes = factory.audit_rows()[-1]["detail"]["changes"]
    assert set(changes) == {"gp_practice", "carers"}
    assert changes["gp_practice"]["before"]["status"] == "registered"
    assert changes["gp_practice"]["after"] == {
        "status": "not_registered",
        "ods_code": None,
        "phone": None,
    }
    assert changes["carers"] == {
        "before": {"status": "unknown", "people": []},
        "after": {"status": "none", "people": []},
    }


def test_a_legal_hold_needs_the_current_etag_and_is_a_new_version(
    client: TestClient, factory: Factory
) -> None:
    """Setting or lifting a hold is a change of the record like any other: without
    `If-Match` 428, with a stale one 412, and it moves the version, so a correction
    someone made from an older read is refused (412) rather than silently lost."""
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    url = f"/v1/children/{child['id']}"
    hold = f"{url}/legal-hold"
    body = {"reason": "Inquiry moratorium"}

    missing = client.put(hold, json=body, headers=headers)
    assert (missing.status_code, missing.headers["content-type"]) == (
        428,
        "application/problem+json",
    )
    read = client.get(hold, headers=headers)
    assert (read.status_code, read.headers["ETag"], read.json()["version"]) == (200, '"1"', 1)
    held = client.put(hold, json=body, headers={**headers, "If-Match": '"1"'})
    assert held.status_code == 200, held.text
    assert (held.headers["ETag"], held.json()["version"], held.json()["held"]) == ('"2"', 2, True)

    # A correction from the read before the hold: refused, not applied over it.
    stale = client.patch(url, json={"la_reference": "R1"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    again = client.put(hold, json={"reason": "Other"}, headers={**headers, "If-Match": '"1"'})
    assert (again.status_code, again.json()["current_version"]) == (412, 2)
    assert client.delete(hold, headers=headers).status_code == 428
    lifted = client.delete(hold, headers={**headers, "If-Match": '"2"'})
    assert lifted.status_code == 200, lifted.text
    assert (lifted.headers["ETag"], lifted.json()["held"]) == ('"3"', False)
    assert client.get(url, headers=headers).json()["version"] == 3


def test_a_legal_holds_reason_is_personal_data_erased_at_retention(
    client: TestClient, factory: Factory, settings: Settings, sealer_db: Database
) -> None:
    """The reason is free text and may name the child: the audit row keeps it in its
    personal part (`note`), never chained, so it is erased at retention and the trail
    still verifies."""
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    reason = "Inquiry into the death of Aisha Testchild"
    held = client.put(
        f"/v1/children/{child['id']}/legal-hold",
        json={"reason": reason},
        headers={**headers, "If-Match": '"1"'},
    )
    assert held.status_code == 200, held.text
    [row] = [r for r in factory.audit_rows() if r["action"] == "child:record:legal_hold"]
    assert row["detail"]["note"] == reason
    assert "reason" not in row["detail"]
    assert row["personal_salt"] is not None

    def sealed() -> None:
        seal_all(sealer_db)
        Sealer(sealer_db, settings).checkpoint(utcnow())

    sealed()
    assert run_verify(db=factory.db, settings=settings).ok
    later = utcnow() + timedelta(days=settings.audit_personal_retention_days, minutes=1)
    assert erase_personal(factory.db, settings, later) >= 1
    [erased] = [r for r in factory.audit_rows() if r["id"] == row["id"]]
    assert "Testchild" not in json.dumps(erased["detail"])
    assert erased["detail"]["legal_hold"] is True  # what was done stays
    sealed()
    after = run_verify(db=factory.db, settings=settings)
    assert after.ok, after.problems
