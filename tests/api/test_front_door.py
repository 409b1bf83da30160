"""Whom to call when the index has nothing to say (issue 13, items 16 and 17).

A `not_found` answer names the children's social care front door of the authority where
the child lives (the one given, else the postcode's, else the enquirer's own): in hours,
secure email, and the emergency duty team out of hours; so children's social care must
have both numbers. A `match` on a record with no current involvement and no active flag
carries the same warning as `not_found`: absence of a record is not evidence of safety."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from index_service.organisations.front_door import postcode_authority_lookups
from index_service.organisations.models import Organisation
from tests.factories import EALING, HARINGEY, VALID_NHS_NUMBER, Factory, child_payload

UNKNOWN_CHILD = {
    "given_names": "Nobody",
    "family_name": "Unrecorded",
    "date_of_birth": "2015-05-05",
}
NOT_EVIDENCE = "This is not evidence that the child is safe."
CSC = {
    "type": "childrens_social_care",
    "contact_phone": "020 7946 0311",
    "contact_email": "mash@haringey.demo.example",
    "out_of_hours_phone": "020 7946 0399",
}


def _admin(factory: Factory) -> dict[str, str]:
    return factory.headers(roles=["administrator"], type="index_operator")


def _enquire(client: TestClient, headers: dict[str, str], **criteria: Any) -> dict[str, Any]:
    response = client.post("/v1/enquiries", json=criteria, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- Organisations: children's social care is reachable in and out of hours -------------


@pytest.mark.parametrize("missing", ["contact_phone", "out_of_hours_phone"])
def test_childrens_social_care_without_in_hours_and_out_of_hours_phones_is_refused(
    client: TestClient, factory: Factory, missing: str
) -> None:
    admin = _admin(factory)
    before = factory.count("organisation")
    body = {"code": "CSCNOPHONE", "name": "Unreachable CSC", "local_authority": EALING, **CSC}
    del body[missing]
    response = client.post("/v1/organisations", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert missing in response.json()["errors"][0]["message"]
    assert factory.count("organisation") == before


def test_childrens_social_care_with_both_phones_and_others_without_are_accepted(
    client: TestClient, factory: Factory
) -> None:
    admin = _admin(factory)
    body = {"code": "CSCREACH", "name": "Reachable CSC", "local_authority": HARINGEY, **CSC}
    created = client.post("/v1/organisations", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["out_of_hours_phone"] == "020 7946 0399"
    read = client.get(f"/v1/organisations/{created.json()['id']}", headers=admin)
    assert read.json()["out_of_hours_phone"] == "020 7946 0399"
    school = {"code": "NOPHONESCH", "name": "School", "type": "school", "local_authority": EALING}
    assert client.post("/v1/organisations", json=school, headers=admin).status_code == 201


def test_the_database_refuses_childrens_social_care_without_out_of_hours_phone(
    factory: Factory,
) -> None:
    """The rule holds below the API too (the CLI, a script): a CHECK constraint."""
    unreachable = Organisation(
        code="CSCRAW",
        name="Raw",
        type="childrens_social_care",
        local_authority=EALING,
        contact_phone="020 7946 0311",
    )
    with factory.db.session() as session:
        session.add(unreachable)
        with pytest.raises(IntegrityError, match="ck_organisation_csc_reachable"):
            session.flush()
        session.rollback()
    assert factory.count("organisation") == 0


# --- Item 16: not_found names the front door ------------------------------------------


def test_not_found_names_the_front_door_of_the_authority_given(
    client: TestClient, factory: Factory
) -> None:
    factory.organisation(local_authority=HARINGEY, name="Haringey Children's Services", **CSC)
    nurse = factory.practitioner()  # an Ealing emergency department
    answer = _enquire(client, nurse, **UNKNOWN_CHILD, lives_in_local_authority=HARINGEY)
    assert answer["outcome"] == "not_found"
    assert answer["front_door"] == {
        "authority_code": HARINGEY,
        "authority_name": "Haringey",
        "contact": {
            "organisation_code": answer["front_door"]["contact"]["organisation_code"],
            "organisation_name": "Haringey Children's Services",
            "phone": "020 7946 0311",
            "email": "mash@haringey.demo.example",
            "out_of_hours_phone": "020 7946 0399",
        },
    }
    assert "front_door" in answer["advice"]


def test_a_deactivated_childrens_social_care_is_never_the_front_door(
    client: TestClient, factory: Factory
) -> None:
    """A service that no longer takes part (reorganised under a new code, say) is not
    whom a worried practitioner is told to call: the authority's active one is."""
    admin = _admin(factory)
    old = factory.organisation(
        local_authority=HARINGEY, code="HRY-A1", name="Haringey (old service)", **CSC
    )
    factory.organisation(
        local_authority=HARINGEY,
        code="HRY-B1",
        name="Haringey Children's Services",
        **{**CSC, "contact_phone": "020 7946 0312"},
    )
    gone = client.put(
        f"/v1/organisations/{old.id}/deactivation",
        json={"reason": "replaced by HRY-B1"},
        headers=admin,
    )
    assert gone.status_code == 200, gone.text
    nurse = factory.practitioner()
    answer = _enquire(client, nurse, **UNKNOWN_CHILD, lives_in_local_authority=HARINGEY)
    contact = answer["front_door"]["contact"]
    assert (contact["organisation_code"], contact["phone"]) == ("HRY-B1", "020 7946 0312")


def test_not_found_front_door_is_the_postcodes_authority_by_the_index_addresses(
    client: TestClient, factory: Factory
) -> None:
    factory.organisation(local_authority=HARINGEY, **CSC)
    ealing_csc = factory.organisation(local_authority=EALING)
    manager = factory.headers_for(ealing_csc, roles=["data_manager"])
    # A recorded child once lived at N17 6AB, in Haringey (the standard child's old address).
    assert client.post("/v1/children", json=child_payload(), headers=manager).status_code == 201
    nurse = factory.practitioner()

    same_postcode = _enquire(client, nurse, **UNKNOWN_CHILD, postcode="n17 6ab")
    assert same_postcode["front_door"]["authority_code"] == HARINGEY
    same_district = _enquire(client, nurse, **UNKNOWN_CHILD, postcode="N17 9ZZ")
    assert same_district["front_door"]["authority_code"] == HARINGEY
    # A postcode the index holds no address near: the enquirer's own authority.
    elsewhere = _enquire(client, nurse, **UNKNOWN_CHILD, postcode="SE1 7PB")
    assert elsewhere["front_door"]["authority_code"] == EALING
    assert elsewhere["front_door"]["authority_name"] == "Ealing"
    # The authority given wins over the postcode.
    given = _enquire(
        client, nurse, **UNKNOWN_CHILD, postcode="N17 6AB", lives_in_local_authority=EALING
    )
    assert given["front_door"]["authority_code"] == EALING


def test_not_found_front_door_never_counts_a_shielded_childs_address(
    client: TestClient, factory: Factory
) -> None:
    ealing_csc = factory.organisation(local_authority=EALING)
    manager = factory.headers_for(ealing_csc, roles=["data_manager"])
    created = client.post("/v1/children", json=child_payload(), headers=manager)
    assert created.status_code == 201, created.text
    shield = f"/v1/children/{created.json()['id']}/shield"
    shielded = client.put(shield, headers={**manager, "If-Match": '"1"'})
    assert shielded.status_code == 200, shielded.text
    answer = _enquire(client, factory.practitioner(), **UNKNOWN_CHILD, postcode="N17 6AB")
    assert answer["front_door"]["authority_code"] == EALING  # not the refuge's Haringey


def test_not_found_without_a_place_names_the_enquirers_own_authority(
    client: TestClient, factory: Factory
) -> None:
    csc = factory.organisation(local_authority=EALING, name="Ealing Front Door")
    answer = _enquire(client, factory.practitioner(), **UNKNOWN_CHILD)
    assert answer["front_door"]["authority_code"] == EALING
    assert answer["front_door"]["contact"]["organisation_code"] == csc.code
    assert answer["front_door"]["contact"]["out_of_hours_phone"] == "020 7946 0999"


def test_not_found_front_door_of_an_authority_not_in_the_index_still_names_it(
    client: TestClient, factory: Factory
) -> None:
    answer = _enquire(
        client, factory.practitioner(), **UNKNOWN_CHILD, lives_in_local_authority="E10000014"
    )
    assert answer["front_door"] == {
        "authority_code": "E10000014",
        "authority_name": "Hampshire",
        "contact": None,
    }


# --- Item 17: a match with nothing recorded carries the same warning ----------------------


@pytest.fixture
def recorded_child(client: TestClient, factory: Factory) -> tuple[str, dict[str, str]]:
    """A child of Ealing with no involvement and no flag, its NHS number traced (only a
    verified number decides a match); its authority's social worker."""
    csc = factory.organisation(local_authority=EALING, name="Ealing Children's Services")
    created = client.post(
        "/v1/children",
        json=child_payload(nhs_number_status="verified_trace"),
        headers=factory.headers_for(csc, roles=["data_manager"]),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), factory.headers_for(csc, roles=["social_worker"], sub="sw")


def test_a_match_with_no_involvement_and_no_flag_warns_that_absence_is_not_evidence_of_safety(
    client: TestClient, factory: Factory, recorded_child: tuple[str, dict[str, str]]
) -> None:
    answer = _enquire(client, factory.practitioner(), nhs_number=VALID_NHS_NUMBER)
    assert answer["outcome"] == "match"
    assert answer["child"]["involvements"] == []
    assert answer["child"]["flags"] == []
    assert NOT_EVIDENCE in answer["advice"]
    assert answer["front_door"]["authority_code"] == EALING  # where the child lives now
    assert answer["front_door"]["contact"]["organisation_name"] == "Ealing Children's Services"


def test_a_match_with_an_involvement_carries_no_warning(
    client: TestClient, factory: Factory, recorded_child: tuple[str, dict[str, str]]
) -> None:
    child_id, social_worker = recorded_child
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Family support"},
        headers=social_worker,
    )
    assert involved.status_code == 201, involved.text
    answer = _enquire(client, factory.practitioner(), nhs_number=VALID_NHS_NUMBER)
    assert answer["outcome"] == "match"
    assert answer["advice"] is None  # the answer names whom to call instead
    assert "front_door" not in answer


def test_a_match_with_a_flag_carries_no_warning(
    client: TestClient, factory: Factory, recorded_child: tuple[str, dict[str, str]]
) -> None:
    child_id, social_worker = recorded_child
    flag = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}
    raised = client.post(f"/v1/children/{child_id}/flags", json=flag, headers=social_worker)
    assert raised.status_code == 201, raised.text
    answer = _enquire(client, factory.practitioner(), nhs_number=VALID_NHS_NUMBER)
    assert answer["child"]["involvements"] == []
    assert answer["advice"] is None
    assert "front_door" not in answer


@pytest.mark.parametrize("lookup", [0, 1], ids=["postcode", "district"])
def test_the_front_doors_postcode_lookups_read_an_index(factory: Factory, lookup: int) -> None:
    """The district lookup (`LIKE 'W5 %'`) is an index lookup too (a prefix index with
    pattern ops): not a scan of every address in England on each not-found enquiry.
    With sequential scans priced out, a plan that still scans has no index to use."""
    query = postcode_authority_lookups("W5 9ZZ")[lookup]
    with factory.db.session() as session:
        connection = session.connection()
        compiled = query.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(row[0] for row in rows)
    # The postcode is an index's condition (of an index scan, or of the bitmap index scan
    # under a heap scan), not only a filter over addresses read some other way.
    assert any("Index Cond" in line and "postcode" in line for line in plan.splitlines()), plan
