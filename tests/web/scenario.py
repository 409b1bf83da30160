"""The data the journeys need, made through the API as its users would: Ealing's
children's social care (with its front door's numbers), an emergency department, a child
and her key worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient

from index_service.organisations.models import Organisation
from tests.factories import EALING, Factory, child_payload

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
