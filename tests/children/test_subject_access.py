"""Subject access through the API: everything the index holds about one child, with
provenance, and who looked at it and why; produced by the responsible authority's data
manager, audited; a shielded record in full to them, a sensitive service still only as
the notice (names and purpose withheld in the list of who looked too)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.access.sensitive import (
    SENSITIVE_NOTICE,
    WITHHELD_ORGANISATION,
    WITHHELD_PRACTITIONER,
)
from index_service.involvements.service import record_involvement
from index_service.organisations.models import Organisation
from tests.api.test_pre_birth_enquiries import MOTHER, Setting
from tests.factories import (
    HARINGEY,
    PURPOSE,
    VALID_NHS_NUMBER,
    Factory,
    child_payload,
    create_confirming,
)

# Kept by a data manager who traced the NHS number: an enquiry by the number alone is a
# match only on a verified number (model v4).
TRACED = {"nhs_number_status": "verified_trace"}


def _clinician(clinic: Organisation) -> Principal:
    return Principal(
        issuer="urn:test",
        subject="clinician",
        name="Dr Sensitive Worker",
        email="c@clinic.example",
        roles=frozenset({Role.PRACTITIONER}),
        organisation_id=clinic.id,
        organisation_code=clinic.code,
        organisation_type=clinic.type,
        local_authority=clinic.local_authority,
    )


def test_the_data_manager_gets_everything_held_and_who_looked_and_why(
    client: TestClient, factory: Factory
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw")
    child_id = create_confirming(client, dm, child_payload(**TRACED))
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Child protection", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    flag = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}
    assert client.post(f"/v1/children/{child_id}/flags", json=flag, headers=key_worker).is_success
    clinic = factory.organisation(type="sexual_health", local_authority=HARINGEY)
    with factory.db.transaction() as session:
        record_involvement(
            session=session,
            caller=_clinician(clinic),
            child_id=uuid.UUID(child_id),
            service="Young people's clinic",
            practitioner_name="Dr Sensitive Worker",
            start_date=date(2024, 1, 1),
            sensitive=True,
        )
    nurse = factory.practitioner()
    nurse = {**nurse, "Purpose-Text": "A&E attendance, head injury"}
    assert client.post("/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=nurse)
    clinic_nurse = {
        **factory.headers_for(clinic, roles=["practitioner"], sub="clinic-nurse"),
        "Purpose-Text": "clinic words that name the clinic",
    }
    assert client.post(
        "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=clinic_nurse
    ).is_success
    etag = client.get(f"/v1/children/{child_id}", headers=dm).headers["ETag"]
    assert client.put(
        f"/v1/children/{child_id}/shield", headers={**dm, "If-Match": etag}
    ).is_success

    response = client.get(f"/v1/children/{child_id}/subject-access", headers=dm)
    assert response.status_code == 200, response.text
    report = response.json()
    record = report["record"]
    # The whole record, shielded or not, with each field's provenance.
    assert record["nhs_number"] == VALID_NHS_NUMBER
    assert record["addresses"][0]["postcode"] == "W5 2AA"
    assert record["provenance"]["names"]["organisation"] == csc.code
    assert report["legal_hold"] is False
    services = [i.get("service") for i in report["involvements"]]
    assert services == [None, "Child protection"]  # in the order they started
    [sensitive] = [i for i in report["involvements"] if i["sensitive"]]
    assert sensitive["notice"] == SENSITIVE_NOTICE
    assert "Dr Sensitive" not in response.text
    assert [f["kind"] for f in report["flags"]] == ["concern_raised"]
    assert {a["reason"] for a in report["alerts"]} >= {"enquiry_about_your_child"}
    looks = report["accesses"]
    nurse_look = next(a for a in looks if a["purpose_text"] == "A&E attendance, head injury")
    assert nurse_look["action"] == "child:enquiry:create"
    assert nurse_look["purpose"] == PURPOSE["Purpose-Of-Use"]
    clinic_look = next(a for a in looks if a["name"] and a["organisation"] == WITHHELD_ORGANISATION)
    assert clinic_look["purpose_text"] is None
    assert "clinic words" not in response.text
    assert clinic.name not in response.text

    # Audited: one row naming the child, by the data manager.
    [row] = [r for r in factory.audit_rows() if r["action"] == "child:record:subject_access"]
    assert row["child_ids"] == [uuid.UUID(child_id)]
    assert (row["outcome"], row["subject"]) == ("success", "dm")


def test_a_merged_entry_points_to_the_survivors_report(
    client: TestClient, factory: Factory
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(upn=None, **TRACED))
    second = create_confirming(
        client,
        dm,
        child_payload(
            names=[{"kind": "legal", "given_names": "Bethany", "family_name": "Otherly"}],
            nhs_number=None,
        ),
    )
    version = int(client.get(f"/v1/children/{second}", headers=dm).headers["ETag"].strip('"'))
    etag = client.get(f"/v1/children/{first}", headers=dm).headers["ETag"]
    merged = client.post(
        f"/v1/children/{first}/merges",
        json={"merged_id": second, "merged_version": version},
        headers={**dm, "If-Match": etag},
    )
    assert merged.status_code == 201
    refused = client.get(f"/v1/children/{second}/subject-access", headers=dm)
    assert refused.status_code == 409
    assert refused.json()["merged_into"] == first
    report = client.get(f"/v1/children/{first}/subject-access", headers=dm).json()
    assert [(m["survivor_id"], m["merged_id"]) for m in report["merges"]] == [(first, second)]
    names = {(n["given_names"], n["family_name"]) for n in report["record"]["names"]}
    assert ("Bethany", "Otherly") in names


def test_an_unborn_childs_report_has_the_expectant_mothers_part_with_the_enquiries_about_her(
    client: TestClient, factory: Factory
) -> None:
    """DOMAIN.md: the unborn child protection plan carries the mother's identity; the
    report says all the index holds, so her identity (table child_mother), who supplied
    it, and the enquiries about her that found the plan are in it, apart from the child's
    record so that the data manager can give her that part on its own."""
    setting = Setting(client, factory)
    child_id = setting.plan()
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")
    asked = setting.ask(
        {**nurse, "Purpose-Text": "Booked in at maternity triage"},
        given_names=MOTHER["given_names"],
        family_name=MOTHER["family_name"],
        date_of_birth=MOTHER["date_of_birth"],
        postcode="W5 3BB",
    )
    assert asked.json()["outcome"] == "match", asked.text

    response = client.get(f"/v1/children/{child_id}/subject-access", headers=setting.data_manager)
    assert response.status_code == 200, response.text
    mother = response.json()["mother"]
    assert mother["identity"] == MOTHER
    assert mother["supplied_by"]["organisation"] == setting.csc.code
    [enquiry] = mother["enquiries"]
    assert enquiry["action"] == "child:enquiry:create"
    assert enquiry["purpose_text"] == "Booked in at maternity triage"
    # Her enquiry is also among everything that named the child; the key worker's
    # recording of an involvement is not an enquiry about her.
    assert len(response.json()["accesses"]) > 1

    born = create_confirming(client, setting.data_manager, child_payload(**TRACED))
    plain = client.get(f"/v1/children/{born}/subject-access", headers=setting.data_manager)
    assert plain.json()["mother"] is None


def test_an_alert_to_a_sensitive_services_worker_does_not_name_them(
    client: TestClient, factory: Factory
) -> None:
    """R4 reaches every current worker, the clinic's too: the report's alerts do not name
    the practitioners its involvements hide."""
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw")
    child_id = create_confirming(client, dm, child_payload(**TRACED))
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Child protection", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    # A clinic by type, and a GP practice that marks its involvement sensitive.
    clinic = factory.organisation(type="sexual_health", local_authority=HARINGEY)
    practice = factory.organisation(type="gp_practice", local_authority=HARINGEY)
    for office, name in ((clinic, "Dr Sensitive Worker"), (practice, "Dr Marked Worker")):
        person = replace(_clinician(office), subject=name, name=name)
        with factory.db.transaction() as session:
            record_involvement(
                session=session,
                caller=person,
                child_id=uuid.UUID(child_id),
                service="Young people's clinic",
                practitioner_name=name,
                practitioner_email="c@clinic.example",
                start_date=date(2024, 1, 1),
                sensitive=office is practice,
            )
    flag = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}
    assert client.post(f"/v1/children/{child_id}/flags", json=flag, headers=key_worker).is_success
    with factory.db.session() as session:
        told = set(
            session.execute(
                text("SELECT recipient_name FROM alert WHERE reason = 'flag_raised'")
            ).scalars()
        )
    assert {"Dr Sensitive Worker", "Dr Marked Worker"} <= told  # the leak's precondition

    response = client.get(f"/v1/children/{child_id}/subject-access", headers=dm)
    assert response.status_code == 200, response.text
    assert "Sensitive Worker" not in response.text
    assert "Marked Worker" not in response.text
    recipients = [a["recipient"] for a in response.json()["alerts"]]
    assert recipients.count(WITHHELD_PRACTITIONER) >= 2
