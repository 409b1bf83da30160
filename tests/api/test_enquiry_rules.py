"""The enquiry rules R1 to R7 (DOMAIN.md), each positive and negative, through the HTTP
API against PostgreSQL: who is alerted, who is not, and what the enquirer is told."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.alerts import scheduler
from index_service.matching.contact_model import load_contact_model
from index_service.organisations.models import Organisation
from index_service.settings import Settings
from tests.factories import (
    EALING,
    HARINGEY,
    VALID_NHS_NUMBER,
    Factory,
    child_payload,
    create_confirming,
    other_child,
)

FULL = {
    "given_names": "Aisha",
    "family_name": "Testchild",
    "date_of_birth": "2016-02-11",
    "postcode": "W5 2AA",
    "nhs_number": "9992914173",
}


@dataclass
class People:
    """Named people in named organisations; every person has their own subject."""

    client: TestClient
    factory: Factory
    csc: Organisation
    haringey_csc: Organisation
    hospital: Organisation
    police: Organisation
    school: Organisation

    def as_(self, org: Organisation, sub: str, *roles: str) -> dict[str, str]:
        return self.factory.headers_for(org, roles=list(roles or ("practitioner",)), sub=sub)

    @property
    def data_manager(self) -> dict[str, str]:
        return self.as_(self.csc, "dm-dana", "data_manager")

    @property
    def key_worker(self) -> dict[str, str]:
        return self.as_(self.csc, "sw-kate", "social_worker")

    @property
    def designated_manager(self) -> dict[str, str]:
        return self.as_(self.csc, "dsm-dev", "designated_manager")

    def child(self, payload: dict[str, Any] | None = None) -> str:
        return create_confirming(self.client, self.data_manager, payload or child_payload())

    def involve(
        self, child_id: str, headers: dict[str, str], *, found: bool = False, **body: Any
    ) -> dict[str, Any]:
        """Record the caller's involvement; `found`: a practitioner outside the authority
        first finds the child by an enquiry (they reach it no other way)."""
        if found:
            assert self.enquire(headers, **FULL)["outcome"] == "match"
        response = self.client.post(
            f"/v1/children/{child_id}/involvements",
            json={"service": "Safeguarding", **body},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def enquire(self, headers: dict[str, str], **criteria: Any) -> dict[str, Any]:
        response = self.client.post("/v1/enquiries", json=criteria, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def alerts(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = self.client.get("/v1/alerts", headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def raise_flag(self, child_id: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/v1/children/{child_id}/flags", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def plan(self, child_id: str) -> dict[str, Any]:
        review = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
        return self.raise_flag(
            child_id,
            self.key_worker,
            kind="child_protection_plan",
            category="neglect",
            key_worker="Kate Worker",
            review_date=review,
        )


@pytest.fixture
def people(client: TestClient, factory: Factory) -> People:
    return People(
        client=client,
        factory=factory,
        csc=factory.organisation(),
        haringey_csc=factory.organisation(local_authority=HARINGEY),
        hospital=factory.organisation(type="emergency_department"),
        police=factory.organisation(type="police"),
        school=factory.organisation(type="school"),
    )


def _tick(factory: Factory, settings: Settings, now: datetime | None = None) -> Any:
    return scheduler.tick(db=factory.db, settings=settings, now=now or datetime.now(UTC))


# --- R1 ---------------------------------------------------------------------------------


def test_r1_the_key_worker_hears_of_another_agencys_enquiry_and_the_enquirer_sees_them_first(
    people: People,
) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    people.involve(
        child_id, people.key_worker, is_key_worker=True, practitioner_phone="020 7946 0100"
    )
    nurse = people.as_(people.hospital, "nurse-nia")

    answer = people.enquire(nurse, **FULL)

    assert answer["outcome"] == "match"
    involvements = answer["child"]["involvements"]
    assert involvements[0]["is_key_worker"] is True
    assert involvements[0]["practitioner_phone"] == "020 7946 0100"
    [alert] = people.alerts(people.key_worker)
    assert (alert["rule"], alert["child_id"], alert["enquiry_id"]) == ("R1", child_id, answer["id"])
    assert alert["actor"]["organisation_code"] == people.hospital.code
    assert alert["purpose"] == "safeguarding_concern"
    assert [a["rule"] for a in people.alerts(teacher)] == ["R4"]  # the key worker started


def test_r1_the_lead_professional_is_alerted_too(people: People) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True, is_lead_professional=True)
    people.enquire(people.as_(people.police, "pc-pat"), **FULL)
    assert [a["rule"] for a in people.alerts(teacher)] == ["R1"]


def test_r1_no_alert_for_an_enquiry_from_the_key_workers_own_organisation(people: People) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    colleague = people.as_(people.csc, "sw-sam", "social_worker")
    assert people.enquire(colleague, **FULL)["outcome"] == "match"
    assert people.alerts(people.key_worker) == []


def test_r1_repeated_enquiries_by_one_person_make_one_alert_another_persons_make_another(
    people: People,
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    nurse = people.as_(people.hospital, "nurse-nia")
    for _ in range(3):
        people.enquire(nurse, **FULL)
    assert len(people.alerts(people.key_worker)) == 1
    people.enquire(people.as_(people.hospital, "dr-dee"), **FULL)
    assert len(people.alerts(people.key_worker)) == 2


def test_r1_opening_a_possible_match_is_an_enquiry_about_that_child(people: People) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    nurse = people.as_(people.hospital, "nurse-nia")
    answer = people.enquire(
        nurse, given_names="Aisha", family_name="Testchild", date_of_birth="2016-02-11"
    )
    assert answer["outcome"] == "possible_matches"
    assert people.alerts(people.key_worker) == []  # summaries alone alert nobody
    opened = people.client.get(f"/v1/enquiries/{answer['id']}/children/{child_id}", headers=nurse)
    assert opened.status_code == 200, opened.text
    assert [a["rule"] for a in people.alerts(people.key_worker)] == ["R1"]


# --- R2 ---------------------------------------------------------------------------------


def _sibling(people: People, line1: str = "1 synthetic row", postcode: str = "W52AA") -> str:
    home = {
        "line1": line1,
        "town": "London",
        "postcode": postcode,
        "local_authority": EALING,
        "from_date": "2020-01-01",
    }
    return people.child(other_child(addresses=[home]))


def test_r2_a_child_at_the_address_of_a_child_on_a_plan_alerts_that_childs_key_worker(
    people: People,
) -> None:
    on_plan = people.child()
    people.involve(on_plan, people.key_worker, is_key_worker=True)
    people.plan(on_plan)
    sibling = _sibling(people)  # same address, written differently
    sibling_names = people.client.get(f"/v1/children/{sibling}", headers=people.data_manager).json()

    answer = people.enquire(
        people.as_(people.police, "pc-pat"),
        given_names=sibling_names["names"][0]["given_names"],
        family_name="Testchild",
        date_of_birth=sibling_names["date_of_birth"],
        postcode="W5 2AA",
    )

    assert answer["outcome"] == "match"
    assert answer["child"]["id"] == sibling
    assert on_plan not in str(answer)  # the enquirer is told nothing of the other child
    r2 = [a for a in people.alerts(people.key_worker) if a["rule"] == "R2"]
    assert [a["child_id"] for a in r2] == [on_plan]


@pytest.mark.parametrize(
    ("line1", "end_plan"),
    [
        pytest.param("3 Synthetic Row", False, id="same postcode, another house"),
        pytest.param("1 Synthetic Row", True, id="the plan has ended"),
    ],
)
def test_r2_not_for_another_house_nor_an_ended_plan(
    people: People, line1: str, end_plan: bool
) -> None:
    on_plan = people.child()
    people.involve(on_plan, people.key_worker, is_key_worker=True)
    flag = people.plan(on_plan)
    if end_plan:
        ended = people.client.post(f"/v1/flags/{flag['id']}/end", headers=people.key_worker)
        assert ended.status_code == 200, ended.text
    sibling = _sibling(people, line1=line1)
    details = people.client.get(f"/v1/children/{sibling}", headers=people.data_manager).json()
    people.enquire(
        people.as_(people.police, "pc-pat"),
        given_names=details["names"][0]["given_names"],
        family_name="Testchild",
        date_of_birth=details["date_of_birth"],
        postcode="W5 2AA",
    )
    assert [a for a in people.alerts(people.key_worker) if a["rule"] == "R2"] == []


def _home(line1: str, line2: str | None = None, uprn: str | None = None) -> dict[str, Any]:
    return {
        "line1": line1,
        **({"line2": line2} if line2 else {}),
        **({"uprn": uprn} if uprn else {}),
        "town": "London",
        "postcode": "W5 2AA",
        "local_authority": EALING,
        "from_date": "2020-01-01",
    }


def _r2_alerts_for_enquiry_at(
    people: People, plan_home: dict[str, Any], home: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """A child on a plan at `plan_home` (with a key worker), and an enquiry that finds
    another child living at `home`: the R2 alerts to the key worker."""
    on_plan = people.child(child_payload(addresses=[plan_home]))
    people.involve(on_plan, people.key_worker, is_key_worker=True)
    people.plan(on_plan)
    sibling = people.child(other_child(addresses=[home]))
    details = people.client.get(f"/v1/children/{sibling}", headers=people.data_manager).json()
    answer = people.enquire(
        people.as_(people.police, "pc-pat"),
        given_names=details["names"][0]["given_names"],
        family_name="Testchild",
        date_of_birth=details["date_of_birth"],
        postcode="W5 2AA",
    )
    assert answer["outcome"] == "match"
    return on_plan, [a for a in people.alerts(people.key_worker) if a["rule"] == "R2"]


@pytest.mark.parametrize(
    ("plan_home", "home"),
    [
        pytest.param(_home("12 Acacia Rd"), _home("12 ACACIA ROAD"), id="Rd and Road"),
        pytest.param(_home("4 High St"), _home("4 High Street"), id="St and Street"),
        pytest.param(_home("4 St Mary's Rd"), _home("4 Saint Marys Road"), id="St is Saint"),
        pytest.param(_home("Flat 3, 12 X Road"), _home("Flat 3", "12 X Road"), id="two lines"),
        pytest.param(_home("3/12 X Road"), _home("Apartment 3, 12 X Rd"), id="3/12 and Apt"),
        pytest.param(_home("12a X Road"), _home("12 A X Road"), id="12a and 12 A"),
        pytest.param(
            _home("Ground floor, 12 X Road", uprn="100021234567"),
            _home("12 X Road (GF)", uprn="100021234567"),
            id="the same UPRN",
        ),
    ],
)
def test_r2_same_address_written_another_way_alerts(
    people: People, plan_home: dict[str, Any], home: dict[str, Any]
) -> None:
    on_plan, r2 = _r2_alerts_for_enquiry_at(people, plan_home, home)
    assert [a["child_id"] for a in r2] == [on_plan]


@pytest.mark.parametrize(
    ("plan_home", "home"),
    [
        pytest.param(_home("Flat 4, 12 X Road"), _home("Flat 3", "12 X Road"), id="another flat"),
        pytest.param(_home("12 X Road"), _home("14 X Rd"), id="another number"),
        pytest.param(
            _home("12 X Road", uprn="100021234567"),
            _home("12 X Road", uprn="100021234568"),
            id="another UPRN",
        ),
    ],
)
def test_r2_not_for_another_flat_number_or_uprn(
    people: People, plan_home: dict[str, Any], home: dict[str, Any]
) -> None:
    _, r2 = _r2_alerts_for_enquiry_at(people, plan_home, home)
    assert r2 == []


# --- R3 ---------------------------------------------------------------------------------

UNKNOWN = {"given_names": "Zofia", "family_name": "Nowakowska", "date_of_birth": "2019-05-17"}


def test_r3_a_first_enquiry_keeps_a_contact_tells_the_enquirer_and_alerts_nobody(
    people: People, factory: Factory
) -> None:
    answer = people.enquire(people.as_(people.hospital, "nurse-nia"), **UNKNOWN)
    assert answer["outcome"] == "not_found"
    assert "not evidence that the child is safe" in answer["advice"]
    assert "refer to children's social care" in answer["advice"]
    assert answer["earlier_enquiries"] == []
    assert factory.count("enquiry_contact") == 1
    assert factory.count("alert") == 0


def test_r3_a_second_enquiry_by_the_same_person_is_not_a_second_enquiry(
    people: People, factory: Factory
) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **UNKNOWN)
    again = people.enquire(nurse, **UNKNOWN)
    assert again["earlier_enquiries"] == []
    assert factory.count("alert") == 0


def test_r3_a_second_enquiry_under_a_misspelt_name_alerts_the_designated_manager_and_the_first(
    people: People,
) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **UNKNOWN)
    police = people.as_(people.police, "pc-pat")

    answer = people.enquire(police, **{**UNKNOWN, "family_name": "Nowakowska".replace("ws", "sw")})

    assert answer["outcome"] == "not_found"
    [earlier] = answer["earlier_enquiries"]
    assert earlier["organisation_code"] == people.hospital.code
    assert earlier["email"] == "nurse-nia@test.example"
    [team_alert] = people.alerts(people.designated_manager)
    assert (team_alert["rule"], team_alert["team"], team_alert["authority"]) == (
        "R3",
        "designated_managers",
        EALING,
    )
    assert team_alert["actor"]["organisation_code"] == people.police.code
    [first] = people.alerts(nurse)
    assert first["rule"] == "R3"
    assert first["actor"]["organisation_code"] == people.police.code
    assert people.alerts(police) == []


def test_r3_an_earlier_enquirer_from_a_sensitive_service_is_reachable_but_not_named(
    people: People, factory: Factory
) -> None:
    """Told of an earlier enquiry about an unknown child, the new enquirer can reach a
    sexual health nurse by name and email, but is not told which service saw the child
    (as alerts do: access/sensitive.py)."""
    clinic = factory.organisation(type="sexual_health", contact_phone="020 7946 0555")
    nurse = people.as_(clinic, "nurse-sam")
    people.enquire(nurse, **UNKNOWN)

    answer = people.enquire(people.as_(people.police, "pc-pat"), **UNKNOWN)

    [earlier] = answer["earlier_enquiries"]
    assert earlier["organisation_code"] is None
    assert earlier["organisation_name"] == "a health service (name withheld)"
    assert earlier["phone"] is None
    assert (earlier["enquirer_name"], earlier["email"]) == ("Test User", "nurse-sam@test.example")
    assert clinic.code not in json.dumps(answer)
    assert clinic.name not in json.dumps(answer)
    # The designated managers listing contacts are told the same, and no more.
    listed = people.client.get("/v1/enquiry-contacts", headers=people.designated_manager)
    shown = {c["email"]: c for c in listed.json()["items"]}["nurse-sam@test.example"]
    assert (shown["organisation_code"], shown["phone"], shown["purpose_text"]) == (None, None, None)
    assert clinic.code not in listed.text
    assert clinic.name not in listed.text


def test_r3_the_child_lives_where_the_postcode_is_as_the_front_door_says(
    people: People,
) -> None:
    """An Ealing nurse and an Ealing police officer give a Haringey postcode and no
    authority: the front door they are given is Haringey's, and so are the designated
    managers who keep the contact and hear of the second enquiry (one answer for both)."""
    people.child()  # the index holds addresses at N17 6AB, in Haringey
    nurse = people.as_(people.hospital, "nurse-nia")
    first = people.enquire(nurse, **UNKNOWN, postcode="N17 6AB")
    assert first["front_door"]["authority_code"] == HARINGEY
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    listed = people.client.get("/v1/enquiry-contacts", headers=haringey_dm).json()["items"]
    assert [c["local_authority"] for c in listed] == [HARINGEY]
    second = people.enquire(people.as_(people.police, "pc-pat"), **UNKNOWN, postcode="N17 6AB")
    assert second["front_door"]["authority_code"] == HARINGEY
    assert [(a["rule"], a["authority"]) for a in people.alerts(haringey_dm)] == [("R3", HARINGEY)]
    assert people.alerts(people.designated_manager) == []


def test_r3_the_designated_manager_lists_and_closes_contacts_and_nobody_else_lists_them(
    people: People,
) -> None:
    people.enquire(people.as_(people.hospital, "nurse-nia"), **UNKNOWN)
    listed = people.client.get("/v1/enquiry-contacts", headers=people.designated_manager)
    assert listed.status_code == 200, listed.text
    [contact] = listed.json()["items"]
    assert contact["criteria"]["family_name"] == "Nowakowska"
    closed = people.client.post(
        f"/v1/enquiry-contacts/{contact['id']}/close",
        json={"reason": "referred to the front door"},
        headers=people.designated_manager,
    )
    assert closed.status_code == 200
    assert closed.json()["closed_at"] is not None
    assert (
        people.client.get("/v1/enquiry-contacts", headers=people.designated_manager).json()["items"]
        == []
    )
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    assert people.client.get("/v1/enquiry-contacts", headers=haringey_dm).json()["items"] == []
    nurse_list = people.client.get(
        "/v1/enquiry-contacts", headers=people.as_(people.hospital, "nurse-nia")
    )
    assert nurse_list.status_code == 403


def test_r3_a_closed_or_expired_contact_is_not_a_first_enquiry(
    people: People, factory: Factory, settings: Settings
) -> None:
    people.enquire(people.as_(people.hospital, "nurse-nia"), **UNKNOWN)
    _tick(
        factory,
        settings,
        datetime.now(UTC) + timedelta(days=settings.enquiry_contact_retention_days + 1),
    )
    assert factory.count("enquiry_contact") == 0  # destroyed on expiry
    answer = people.enquire(people.as_(people.police, "pc-pat"), **UNKNOWN)
    assert answer["earlier_enquiries"] == []


# Victoria's case (issue 13): a first enquiry gives names and an age at one postcode, a
# second the same names, a date of birth consistent with the age, and another postcode.
VICTORIA = {"given_names": "Anna", "family_name": "Kouao"}


def _born(age: int, *, days: int) -> str:
    """The date `age` years before today (the `age`th birthday of a child born then),
    moved by `days`."""
    today = date.today()
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - age, day=28)
    return (birthday + timedelta(days=days)).isoformat()


# A child who turns 9 tomorrow and one who turned 8 yesterday: an age of 8 fits both; their
# birth years differ by one, so one of them is a year off the middle of the year of life
# that the age is read as.
AGE_8_DATES = [_born(9, days=1), _born(8, days=-1)]


@pytest.mark.parametrize("born", AGE_8_DATES)
def test_r3_links_a_child_who_moved_between_enquiries(people: People, born: str) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **VICTORIA, age_years=8, postcode="N15 5AB")
    police = people.as_(people.police, "pc-pat")

    answer = people.enquire(police, **VICTORIA, date_of_birth=born, postcode="W5 2AA")

    assert answer["outcome"] == "not_found"
    assert [e["organisation_code"] for e in answer["earlier_enquiries"]] == [people.hospital.code]
    assert [a["rule"] for a in people.alerts(people.designated_manager)] == ["R3"]
    assert [a["rule"] for a in people.alerts(nurse)] == ["R3"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # other names altogether, the same age
        (
            {**VICTORIA, "age_years": 8},
            {"given_names": "Maria", "family_name": "Santos", "date_of_birth": _born(8, days=-1)},
        ),
        # the same common given name, another family name, another date
        (
            {**VICTORIA, "date_of_birth": _born(8, days=-40)},
            {"given_names": "Anna", "family_name": "Smith", "date_of_birth": _born(9, days=-150)},
        ),
        # the same common given name, another family name, an age and a date that fit it
        (
            {**VICTORIA, "age_years": 8},
            {"given_names": "Anna", "family_name": "Smith", "date_of_birth": _born(8, days=-1)},
        ),
        # two given names, one family name, born the same day: two children, not one
        (
            {"given_names": "Oliver", "family_name": "Smith", "date_of_birth": "2018-06-09"},
            {"given_names": "Jack", "family_name": "Smith", "date_of_birth": "2018-06-09"},
        ),
    ],
)
def test_r3_a_different_child_at_another_postcode_does_not_link(
    people: People, factory: Factory, first: dict[str, Any], second: dict[str, Any]
) -> None:
    people.enquire(people.as_(people.hospital, "nurse-nia"), **first, postcode="N15 5AB")
    answer = people.enquire(people.as_(people.police, "pc-pat"), **second, postcode="W5 2AA")
    assert answer["outcome"] == "not_found"
    assert answer["earlier_enquiries"] == []
    assert factory.count("alert") == 0


def test_r3_links_a_child_known_under_another_family_name_born_the_same_day(
    people: People,
) -> None:
    """A family name changes (a stepfather's, a mother's); a given name and an exact date
    of birth do not: the contact model links them, at another postcode too."""
    first = {"given_names": "Oliver", "family_name": "Smith", "date_of_birth": "2018-06-09"}
    people.enquire(people.as_(people.hospital, "nurse-nia"), **first, postcode="N15 5AB")
    second = {**first, "family_name": "Jones"}
    answer = people.enquire(people.as_(people.police, "pc-pat"), **second, postcode="W5 2AA")
    assert [e["organisation_code"] for e in answer["earlier_enquiries"]] == [people.hospital.code]


@pytest.mark.parametrize("aliases_first", [True, False])
def test_r3_compares_contacts_across_other_names_given(people: People, aliases_first: bool) -> None:
    """One enquirer knows the child as Victoria Climbié, also known as Anna Kouao; the
    other only as Anna Kouao. Whichever enquires first, with an age or a date, at
    whichever address, the second enquiry finds the first."""
    known_as_both = {
        "given_names": "Victoria",
        "family_name": "Climbie",
        "other_names": [{"given_names": "Anna", "family_name": "Kouao"}],
    }
    first, second = (known_as_both, VICTORIA) if aliases_first else (VICTORIA, known_as_both)
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **first, age_years=8, postcode="N15 5AB")

    answer = people.enquire(
        people.as_(people.police, "pc-pat"),
        **second,
        date_of_birth=_born(8, days=-1),
        postcode="W5 2AA",
    )

    assert [e["organisation_code"] for e in answer["earlier_enquiries"]] == [people.hospital.code]
    assert [a["rule"] for a in people.alerts(nurse)] == ["R3"]


def test_r3_repeats_by_one_person_make_one_contact_and_one_team_alert(
    people: People, factory: Factory
) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **UNKNOWN)
    people.enquire(nurse, **UNKNOWN)  # the first enquirer repeats before anyone else asks
    police = people.as_(people.police, "pc-pat")
    for _ in range(3):
        answer = people.enquire(police, **UNKNOWN)
        assert [e["organisation_code"] for e in answer["earlier_enquiries"]] == [
            people.hospital.code
        ]

    assert factory.count("enquiry_contact") == 2
    listed = people.client.get("/v1/enquiry-contacts", headers=people.designated_manager)
    counts = {
        c["organisation_code"]: (c["enquiry_count"], c["last_seen_at"] > c["created_at"])
        for c in listed.json()["items"]
    }
    assert counts == {people.hospital.code: (2, True), people.police.code: (3, True)}
    assert [a["rule"] for a in people.alerts(people.designated_manager)] == ["R3"]
    assert [a["rule"] for a in people.alerts(nurse)] == ["R3"]
    assert people.alerts(police) == []
    compared = [
        row["detail"]["enquiry_contact"]
        for row in factory.audit_rows()
        if "enquiry_contact" in (row["detail"] or {})
    ]
    assert [c["repeat"] for c in compared] == [False, True, False, True, True]
    assert {c["model_version"] for c in compared} == {load_contact_model().version}


def test_r3_a_repeat_adds_the_names_it_brings_and_twins_stay_two_contacts(
    people: People, factory: Factory
) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    people.enquire(nurse, **UNKNOWN, postcode="W5 2AA")
    people.enquire(
        nurse,
        **UNKNOWN,
        postcode="W5 2AA",
        other_names=[{"given_names": "Zosia", "family_name": "Kowalska"}],
    )
    people.enquire(nurse, **{**UNKNOWN, "given_names": "Maja"}, postcode="W5 2AA")  # her twin

    listed = people.client.get("/v1/enquiry-contacts", headers=people.designated_manager)
    by_name = {c["criteria"]["given_names"]: c for c in listed.json()["items"]}
    assert sorted(by_name) == ["Maja", "Zofia"]
    assert by_name["Zofia"]["enquiry_count"] == 2
    assert by_name["Zofia"]["criteria"]["other_names"] == [
        {"given_names": "Zosia", "family_name": "Kowalska"}
    ]
    assert by_name["Maja"]["enquiry_count"] == 1
    # someone else asking under the name only the repeat gave finds the nurse's enquiry
    answer = people.enquire(
        people.as_(people.police, "pc-pat"),
        given_names="Zosia",
        family_name="Kowalska",
        year_of_birth=2019,
    )
    assert people.hospital.code in [e["organisation_code"] for e in answer["earlier_enquiries"]]
    assert factory.count("enquiry_contact") == 3


def test_r3_the_same_enquiry_sent_twice_at_once_makes_one_contact(
    people: People, factory: Factory
) -> None:
    """One enquirer's not-found enquiries are serialised: the second sees the first's
    contact and updates it."""
    nurse = people.as_(people.hospital, "nurse-nia")
    start = threading.Barrier(2)

    def send() -> str:
        start.wait()
        return str(people.enquire(nurse, **UNKNOWN)["outcome"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(lambda _: send(), range(2))) == ["not_found"] * 2
    assert factory.count("enquiry_contact") == 1


def test_r3_two_different_enquirers_still_make_their_own_alerts(people: People) -> None:
    nurse = people.as_(people.hospital, "nurse-nia")
    police = people.as_(people.police, "pc-pat")
    teacher = people.as_(people.school, "t-tom")
    for who in (nurse, police, teacher):
        people.enquire(who, **UNKNOWN)

    team = people.alerts(people.designated_manager)
    assert sorted(a["actor"]["organisation_code"] for a in team) == sorted(
        [people.police.code, people.school.code]
    )
    assert sorted(a["actor"]["organisation_code"] for a in people.alerts(nurse)) == sorted(
        [people.police.code, people.school.code]
    )
    assert [a["actor"]["organisation_code"] for a in people.alerts(police)] == [people.school.code]


@pytest.mark.parametrize("said", [True, False])
def test_r3_alerts_the_designated_managers_where_the_newest_enquiry_says_the_child_lives(
    people: People, factory: Factory, said: bool
) -> None:
    """The earlier enquiry's authority (Ealing) and the newest enquiry's: the authority it
    names (`said`), else the enquirer's own (a Haringey police force): each team once."""
    people.enquire(people.as_(people.hospital, "nurse-nia"), **UNKNOWN)
    if said:
        officer = people.as_(people.police, "pc-pat")
        people.enquire(officer, **UNKNOWN, lives_in_local_authority=HARINGEY)
    else:
        haringey_police = factory.organisation(type="police", local_authority=HARINGEY)
        people.enquire(people.as_(haringey_police, "pc-hal"), **UNKNOWN)

    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    for team, authority in ((people.designated_manager, EALING), (haringey_dm, HARINGEY)):
        [alert] = people.alerts(team)
        assert (alert["rule"], alert["team"], alert["authority"]) == (
            "R3",
            "designated_managers",
            authority,
        )


# --- R4 ---------------------------------------------------------------------------------


def test_r4_a_flag_raised_and_ended_tells_everyone_involved_but_the_raiser(people: People) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    people.involve(child_id, people.key_worker, is_key_worker=True)
    flag = people.raise_flag(
        child_id, teacher, kind="concern_raised", area_of_concern="parenting_capacity"
    )
    assert [a["reason"] for a in people.alerts(people.key_worker)] == ["flag_raised"]
    assert [a["reason"] for a in people.alerts(teacher)] == ["involvement_started"]
    ended = people.client.post(f"/v1/flags/{flag['id']}/end", headers=teacher)
    assert ended.status_code == 200, ended.text
    reasons = sorted(a["reason"] for a in people.alerts(people.key_worker))
    assert reasons == ["flag_ended", "flag_raised"]


def test_r4_an_involvement_starting_and_ending_tells_the_others(people: People) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    teacher = people.as_(people.school, "t-tom")
    involvement = people.involve(child_id, teacher, found=True)
    assert [a["reason"] for a in people.alerts(people.key_worker)] == [
        "involvement_started",
        "enquiry_about_your_child",
    ]
    ended = people.client.post(
        f"/v1/involvements/{involvement['id']}/end", json={}, headers=teacher
    )
    assert ended.status_code == 200, ended.text
    assert sorted(a["reason"] for a in people.alerts(people.key_worker) if a["rule"] == "R4") == [
        "involvement_ended",
        "involvement_started",
    ]
    again = people.client.post(
        f"/v1/involvements/{involvement['id']}/end", json={}, headers=teacher
    )
    assert again.status_code == 409


def test_only_childrens_social_care_raises_a_plan_and_a_flag_carries_its_required_fields(
    people: People,
) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    review = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    plan = {
        "kind": "child_protection_plan",
        "category": "neglect",
        "key_worker": "Kate Worker",
        "review_date": review,
    }
    refused = people.client.post(f"/v1/children/{child_id}/flags", json=plan, headers=teacher)
    assert refused.status_code == 403
    assert refused.json()["code"] == "flag_not_yours_to_raise"
    no_category = {k: v for k, v in plan.items() if k != "category"}
    missing = people.client.post(
        f"/v1/children/{child_id}/flags", json=no_category, headers=people.key_worker
    )
    assert missing.status_code == 422
    made = people.raise_flag(child_id, people.key_worker, **plan)
    assert made["details"] == {"category": "neglect", "key_worker": "Kate Worker"}
    shown = people.enquire(people.as_(people.police, "pc-pat"), **FULL)["child"]["flags"]
    assert [(f["kind"], f["contact_name"]) for f in shown] == [
        ("child_protection_plan", "Test User")
    ]


def test_flags_past_their_review_date_are_listed_for_whoever_raised_them(
    people: People, factory: Factory
) -> None:
    child_id = people.child()
    flag = people.plan(child_id)
    with factory.db.transaction() as session:
        from sqlalchemy import text

        session.execute(
            text("UPDATE flag SET review_date = current_date - 1 WHERE id = :id"),
            {"id": flag["id"]},
        )
    overdue = people.client.get("/v1/flags/overdue", headers=people.key_worker).json()["items"]
    assert [(f["id"], f["child_id"]) for f in overdue] == [(flag["id"], child_id)]
    other = people.as_(people.school, "t-tom")
    assert people.client.get("/v1/flags/overdue", headers=other).json()["items"] == []
    reviewed = people.client.post(
        f"/v1/flags/{flag['id']}/review",
        json={"review_date": (datetime.now(UTC).date() + timedelta(days=60)).isoformat()},
        headers=people.key_worker,
    )
    assert reviewed.status_code == 200, reviewed.text
    assert people.client.get("/v1/flags/overdue", headers=people.key_worker).json()["items"] == []


# --- R5 ---------------------------------------------------------------------------------


def _move(people: People, child_id: str, authority: str, postcode: str) -> None:
    current = people.client.get(f"/v1/children/{child_id}", headers=people.data_manager)
    home = {
        "line1": "5 New Street",
        "town": "London",
        "postcode": postcode,
        "local_authority": authority,
        "from_date": "2026-01-01",
    }
    moved = people.client.patch(
        f"/v1/children/{child_id}",
        json={"addresses": [home]},
        headers={**people.data_manager, "If-Match": current.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text


def test_r5_a_move_to_another_authority_alerts_both_designated_managers_and_the_key_worker(
    people: People,
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    _move(people, child_id, HARINGEY, "N17 6AB")
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    for headers in (people.designated_manager, haringey_dm, people.key_worker):
        assert [(a["rule"], a["child_id"]) for a in people.alerts(headers)] == [("R5", child_id)]


def test_r5_a_shielded_childs_move_is_told_only_to_its_responsible_authority(
    people: People,
) -> None:
    """An alert to the designated managers of the authority a shielded child moved into
    would tell them where it lives: only the responsible authority's (and the key
    worker) hear of the move."""
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    current = people.client.get(f"/v1/children/{child_id}", headers=people.data_manager)
    shielded = people.client.put(
        f"/v1/children/{child_id}/shield",
        headers={**people.data_manager, "If-Match": current.headers["ETag"]},
    )
    assert shielded.status_code == 200, shielded.text
    _move(people, child_id, HARINGEY, "N17 6AB")
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    assert people.alerts(haringey_dm) == []
    for headers in (people.designated_manager, people.key_worker):
        assert [(a["rule"], a["child_id"]) for a in people.alerts(headers)] == [("R5", child_id)]


def test_r5_a_move_within_the_authority_alerts_nobody(people: People) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    _move(people, child_id, EALING, "W13 9AA")
    assert people.alerts(people.designated_manager) == []
    assert people.alerts(people.key_worker) == []


# --- R6 ---------------------------------------------------------------------------------


def _r1_alert(people: People) -> dict[str, Any]:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)
    [alert] = people.alerts(people.key_worker)
    return alert


def test_r6_an_unacknowledged_alert_escalates_once_to_the_designated_managers_when_due(
    people: People, factory: Factory, settings: Settings
) -> None:
    alert = _r1_alert(people)
    due = datetime.fromisoformat(alert["due_at"])
    _tick(factory, settings, due - timedelta(minutes=1))
    assert people.alerts(people.designated_manager) == []
    _tick(factory, settings, due + timedelta(minutes=1))
    _tick(factory, settings, due + timedelta(hours=5))
    [escalation] = people.alerts(people.designated_manager)
    assert (escalation["rule"], escalation["escalation_of"]) == ("R6", alert["id"])
    assert escalation["due_at"] is None


def test_r6_an_acknowledged_alert_does_not_escalate(
    people: People, factory: Factory, settings: Settings
) -> None:
    alert = _r1_alert(people)
    acked = people.client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=people.key_worker)
    assert acked.status_code == 200
    assert acked.json()["acknowledged_by"].endswith("sw-kate")
    again = people.client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=people.key_worker)
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    _tick(factory, settings, datetime.fromisoformat(alert["due_at"]) + timedelta(days=3))
    assert people.alerts(people.designated_manager) == []


def test_an_alert_is_read_and_acknowledged_only_by_its_recipient(people: People) -> None:
    alert = _r1_alert(people)
    stranger = people.as_(people.hospital, "nurse-nia")
    assert people.client.get(f"/v1/alerts/{alert['id']}", headers=stranger).status_code == 404
    refused = people.client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=stranger)
    assert refused.status_code == 404
    assert (
        people.client.get(f"/v1/alerts/{alert['id']}", headers=people.key_worker).status_code == 200
    )


# --- R7 ---------------------------------------------------------------------------------


def test_r7_reaching_a_shielded_record_alerts_the_responsible_authoritys_data_managers(
    people: People, factory: Factory, settings: Settings
) -> None:
    haringey_dm = people.as_(people.haringey_csc, "dm-hana", "data_manager")
    child_id = create_confirming(
        people.client,
        haringey_dm,
        child_payload(responsible_authority=HARINGEY, nhs_number_status="verified_trace"),
    )
    version = people.client.get(f"/v1/children/{child_id}", headers=haringey_dm).headers["ETag"]
    shielded = people.client.put(
        f"/v1/children/{child_id}/shield", headers={**haringey_dm, "If-Match": version}
    )
    assert shielded.status_code == 200, shielded.text
    people.client.get(f"/v1/children/{child_id}", headers=haringey_dm)  # its own: no alert
    _tick(factory, settings)
    assert people.alerts(haringey_dm) == []

    # It lives in Ealing, which gives Ealing no reach to a shielded child: an enquiry does.
    seen = people.client.post(
        "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=people.key_worker
    )
    assert seen.json()["child"]["shielded"] is True
    _tick(factory, settings)
    _tick(factory, settings)
    [alert] = people.alerts(haringey_dm)
    assert (alert["rule"], alert["child_id"], alert["team"]) == ("R7", child_id, "data_managers")
    assert alert["actor"]["organisation_code"] == people.csc.code
    assert people.alerts(people.data_manager) == []  # Ealing's data managers: not theirs


# --- the Climbié walk-through -----------------------------------------------------------


def test_the_climbie_walk_through(people: People, factory: Factory) -> None:
    """A hospital enquires about "Anna Kouao", unknown. The police later enquire about
    "Victoria Climbie", known to them also as Anna Kouao, same date of birth, another
    address: they are told of the hospital's enquiry, and Haringey's designated manager
    is alerted. Once children's social care records her under both names with a key
    worker, a school's enquiry alerts that key worker."""
    haringey = HARINGEY
    hospital = factory.organisation(type="hospital", local_authority=haringey)
    police = factory.organisation(type="police", local_authority=haringey)
    school = factory.organisation(type="school", local_authority=haringey)
    born = "2018-11-02"
    nurse = people.as_(hospital, "nurse-north-mid")
    first = people.enquire(
        nurse, given_names="Anna", family_name="Kouao", date_of_birth=born, postcode="N15 5AB"
    )
    assert first["outcome"] == "not_found"

    officer = people.as_(police, "pc-haringey")
    second = people.enquire(
        officer,
        given_names="Victoria",
        family_name="Climbie",
        other_names=[{"given_names": "Anna", "family_name": "Kouao"}],
        date_of_birth=born,
        postcode="N17 0AA",
    )
    assert second["outcome"] == "not_found"
    assert [e["organisation_code"] for e in second["earlier_enquiries"]] == [hospital.code]
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    assert [a["rule"] for a in people.alerts(haringey_dm)] == ["R3"]
    assert [a["rule"] for a in people.alerts(nurse)] == ["R3"]

    record = child_payload(
        names=[
            {"kind": "legal", "given_names": "Victoria", "family_name": "Climbié"},
            {"kind": "alias", "given_names": "Anna", "family_name": "Kouao"},
        ],
        date_of_birth=born,
        nhs_number=None,
        upn=None,
        responsible_authority=haringey,
        addresses=[
            {
                "line1": "2 Somerset Gardens",
                "town": "London",
                "postcode": "N17 0AA",
                "local_authority": haringey,
                "from_date": "2025-07-01",
            }
        ],
    )
    child_id = create_confirming(
        people.client, people.as_(people.haringey_csc, "dm-hana", "data_manager"), record
    )
    social_worker = people.as_(people.haringey_csc, "sw-lisa", "social_worker")
    people.involve(child_id, social_worker, is_key_worker=True)

    teacher = people.as_(school, "t-haringey")
    found = people.enquire(
        teacher,
        given_names="Victoria",
        family_name="Climbie",
        date_of_birth=born,
        postcode="N17 0AA",
    )
    assert found["outcome"] == "match"
    assert found["child"]["id"] == child_id
    r1 = [a for a in people.alerts(social_worker) if a["rule"] == "R1"]
    assert [(a["child_id"], a["actor"]["organisation_code"]) for a in r1] == [
        (child_id, school.code)
    ]


def test_r6_an_alert_raised_through_the_api_on_friday_evening_escalates_on_monday_evening(
    people: People, factory: Factory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock of the alert rules is set to a Friday at 17:00 (London) for the enquiry;
    the scheduler is then run at chosen moments: nothing over the weekend."""
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    monkeypatch.setattr("index_service.alerts.flows.utcnow", lambda: friday_evening)
    alert = _r1_alert(people)
    assert datetime.fromisoformat(alert["due_at"]) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    for moment in (
        datetime(2026, 11, 28, 17, 1, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 29, 17, 1, tzinfo=UTC),  # Sunday
        datetime(2026, 11, 30, 16, 59, tzinfo=UTC),  # Monday, a minute early
    ):
        _tick(factory, settings, moment)
        assert people.alerts(people.designated_manager) == [], moment
    _tick(factory, settings, datetime(2026, 11, 30, 17, 1, tzinfo=UTC))
    [escalation] = people.alerts(people.designated_manager)
    assert (escalation["rule"], escalation["escalation_of"]) == ("R6", alert["id"])
