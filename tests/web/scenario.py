"""The data the journeys need, made through the API as its users would: Ealing's
children's social care (with its front door's numbers), an emergency department, a child
and her key worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient

from index_service.access.devkeys import mint_dev_token
from index_service.organisations.models import Organisation
from tests.factories import EALING, HARINGEY, PURPOSE, VALID_NHS_NUMBER, Factory, child_payload

KEY_WORKER = "Sam Okafor"
KEY_WORKER_PHONE = "020 7946 0555"
FRONT_DOOR_PHONE = "020 7946 0100"
OUT_OF_HOURS_PHONE = "020 7946 0199"
CHILD_BORN = date(2016, 2, 11)


def age_today(born: date = CHILD_BORN) -> int:
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass
class Scenario:
    ealing: Organisation
    emergency_department: Organisation
    child_id: str


def a_child_with_a_key_worker(
    factory: Factory, client: TestClient, *, ed_code: str | None = None
) -> Scenario:
    ealing = factory.organisation(
        type="childrens_social_care",
        local_authority=EALING,
        code="DEMO-EAL-01",
        name="Ealing Children's Services",
        contact_phone=FRONT_DOOR_PHONE,
        out_of_hours_phone=OUT_OF_HOURS_PHONE,
        contact_email="mash@ealing.example",
    )
    emergency_department = factory.organisation(
        type="emergency_department",
        local_authority=EALING,
        code=ed_code or "DEMO-EAL-05",
        name="Ealing Hospital emergency department",
        contact_phone="020 7946 0500",
    )
    data_manager = factory.headers_for(ealing, roles=["data_manager"], sub="dm-1")
    created = client.post("/v1/children", json=child_payload(), headers=data_manager)
    assert created.status_code == 201, created.text
    child_id = created.json()["id"]
    social_worker = factory.headers_for(ealing, roles=["social_worker"], sub="sw-1")
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={
            "service": "Child protection team",
            "practitioner_name": KEY_WORKER,
            "practitioner_phone": KEY_WORKER_PHONE,
            "practitioner_email": "sam.okafor@ealing.example",
            "is_key_worker": True,
        },
        headers=social_worker,
    )
    assert involved.status_code == 201, involved.text
    return Scenario(ealing=ealing, emergency_department=emergency_department, child_id=child_id)


@dataclass
class WorkScenario:
    """Haringey's key worker (the `key-worker` persona) holds a child an ED doctor has
    just looked up (R1 to the key worker); two Haringey agencies looked up a child the
    index does not hold (R3 to Haringey's designated managers, two contacts of one
    child) and a third another unknown child."""

    haringey: Organisation
    child_id: str
    ed_enquiry_id: str | None  # the API look-up that raised R1, if the scenario made it


ED_DOCTOR_NAME = "Dr Test Doctor"
UNKNOWN_CHILD = {
    "given_names": "Zara",
    "family_name": "Unknownperson",
    "date_of_birth": "2015-04-03",
}


def the_key_workers_child(
    factory: Factory,
    client: TestClient,
    *,
    enquirer_type: str = "emergency_department",
    api_look_up: bool = True,
) -> WorkScenario:
    haringey = factory.organisation(
        type="childrens_social_care",
        local_authority=HARINGEY,
        code="DEMO-HRY-01",
        name="Haringey Children's Services",
        contact_phone="020 7946 0300",
        out_of_hours_phone="020 7946 0399",
        contact_email="mash@haringey.example",
    )
    enquirer_org = factory.organisation(
        type=enquirer_type,
        local_authority=EALING,
        code="DEMO-EAL-05",
        name="Ealing Hospital emergency department",
        contact_phone="020 7946 0500",
    )
    data_manager = factory.headers_for(haringey, roles=["data_manager"], sub="hry-dm")
    created = client.post(
        "/v1/children",
        # The number traced: the ED's enquiry by it alone is a match (model v4).
        json=child_payload(responsible_authority=HARINGEY, nhs_number_status="verified_trace"),
        headers=data_manager,
    )
    assert created.status_code == 201, created.text
    child_id = created.json()["id"]
    key_worker = factory.headers_for(haringey, roles=["social_worker"], sub="demo-key-worker")
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={
            "service": "Child protection team",
            "practitioner_phone": KEY_WORKER_PHONE,
            "is_key_worker": True,
        },
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    doctor = mint_dev_token(
        factory.settings,
        subject="ed-doctor-api",
        name=ED_DOCTOR_NAME,
        email="test.doctor@trust.example",
        organisation=enquirer_org.code,
        roles=["practitioner"],
    )
    headers = {"Authorization": f"Bearer {doctor}", **PURPOSE}
    ed_enquiry_id = None
    if api_look_up:  # else the test's own doctor looks the child up, through the pages
        enquired = client.post(
            "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=headers
        )
        assert enquired.status_code in (200, 201), enquired.text
        ed_enquiry_id = enquired.json()["id"]
    for code, kind, sub in (
        ("DEMO-HRY-11", "school", "hry-dsl"),
        ("DEMO-HRY-15", "police", "hry-pc"),
    ):
        agency = factory.organisation(type=kind, local_authority=HARINGEY, code=code)
        asked = client.post(
            "/v1/enquiries",
            json=UNKNOWN_CHILD,
            headers=factory.headers_for(agency, roles=["practitioner"], sub=sub),
        )
        assert asked.json()["outcome"] == "not_found", asked.text
    other = client.post(
        "/v1/enquiries",
        json={"given_names": "Bilal", "family_name": "Otherchild", "date_of_birth": "2012-09-20"},
        headers=factory.headers_for(agency, roles=["practitioner"], sub="hry-pc"),
    )
    assert other.json()["outcome"] == "not_found", other.text
    return WorkScenario(haringey=haringey, child_id=child_id, ed_enquiry_id=ed_enquiry_id)
