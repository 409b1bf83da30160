"""Unborn children (DOMAIN.md "What a record holds"): a pre-birth plan is held against the
unborn child, and found by an enquiry about the expectant mother from the health
organisations that see pregnant women, through the HTTP API against PostgreSQL. The
answer says that a plan exists and whom to contact, nothing more; the key worker hears
of it (R1); anyone else is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.access.sensitive import SENSITIVE_NOTICE
from index_service.involvements.service import record_involvement
from index_service.organisations.models import Organisation
from tests.factories import EALING, Factory, child_payload, create_confirming, nhs_number

MOTHER = {
    "given_names": "Shanice",
    "family_name": "Examplemum",
    "date_of_birth": "1998-04-17",
    "nhs_number": nhs_number(5),
}
HOME = {
    "line1": "14 Maple Court",
    "town": "London",
    "postcode": "W5 3BB",
    "local_authority": EALING,
    "from_date": "2025-06-01",
}


def _due() -> str:
    return (datetime.now(UTC).date() + timedelta(days=60)).isoformat()


def unborn_payload(**changes: Any) -> dict[str, Any]:
    unborn: dict[str, Any] = {
        "names": [{"kind": "legal", "given_names": "Unborn", "family_name": "Examplemum"}],
        "date_of_birth": _due(),
        "date_of_birth_precision": "estimated",
        "nhs_number": None,
        "upn": None,
        "addresses": [HOME],
        "carers": {"status": "unknown", "people": []},
        "gp_practice": {"status": "unknown"},
        "education": {"status": "not_of_school_age"},
        "mother": MOTHER,
    }
    return child_payload(**{**unborn, **changes})


class Setting:
    def __init__(self, client: TestClient, factory: Factory) -> None:
        self.client = client
        self.factory = factory
        self.csc = factory.organisation()

    def as_(self, org: Organisation, sub: str, *roles: str) -> dict[str, str]:
        return self.factory.headers_for(org, roles=list(roles or ("practitioner",)), sub=sub)

    @property
    def data_manager(self) -> dict[str, str]:
        return self.as_(self.csc, "dm-dana", "data_manager")

    @property
    def key_worker(self) -> dict[str, str]:
        return self.as_(self.csc, "sw-kate", "social_worker")

    def plan(self, *, flagged: bool = True) -> str:
        """An unborn child with its key worker, on an unborn child protection plan (unless
        not `flagged`); its id."""
        response = self.client.post(
            "/v1/children", json=unborn_payload(), headers=self.data_manager
        )
        assert response.status_code == 201, response.text
        child_id = str(response.json()["id"])
        involved = self.client.post(
            f"/v1/children/{child_id}/involvements",
            json={
                "service": "Child protection",
                "is_key_worker": True,
                "practitioner_phone": "020 7946 0100",
            },
            headers=self.key_worker,
        )
        assert involved.status_code == 201, involved.text
        if flagged:
            self.raise_plan(child_id)
        return child_id

    def raise_plan(self, child_id: str) -> dict[str, Any]:
        """The unborn child protection plan flag, raised by the key worker."""
        raised = self.client.post(
            f"/v1/children/{child_id}/flags",
            json={
                "kind": "unborn_child_protection_plan",
                "expected_date_of_delivery": _due(),
                "mother_given_names": MOTHER["given_names"],
                "mother_family_name": MOTHER["family_name"],
                "mother_date_of_birth": MOTHER["date_of_birth"],
                "review_date": _due(),
            },
            headers=self.key_worker,
        )
        assert raised.status_code == 201, raised.text
        return dict(raised.json())

    def ask(self, headers: dict[str, str], **mother: Any) -> Any:
        return self.client.post("/v1/enquiries", json={"expectant_mother": mother}, headers=headers)

    def alerts(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = self.client.get("/v1/alerts", headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture
def setting(client: TestClient, factory: Factory) -> Setting:
    return Setting(client, factory)


def test_an_ed_practitioners_enquiry_about_the_mother_finds_the_plan_and_whom_to_contact(
    setting: Setting, factory: Factory
) -> None:
    child_id = setting.plan()
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")

    response = setting.ask(
        nurse,
        given_names="Shanice",
        family_name="Examplemum",
        date_of_birth="1998-04-17",
        postcode="w5 3bb",
        address_line1="14 Maple Ct",
    )

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["outcome"] == "match"
    plan = answer["pre_birth_plan"]
    assert "pre-birth plan" in plan["notice"]
    [worker] = plan["contacts"]
    assert worker["is_key_worker"] is True
    assert worker["practitioner_phone"] == "020 7946 0100"
    assert worker["organisation_code"] == setting.csc.code
    assert "service" not in worker  # whom to call, nothing of the work
    assert "start_date" not in worker
    assert plan["contact"]["organisation_code"] == setting.csc.code
    # Nothing more: no child, no candidate, nothing of the record or of the mother.
    assert set(answer) == {
        "id",
        "outcome",
        "candidates",
        "pre_birth_plan",
        "model_version",
        "created_at",
    }
    assert answer["candidates"] == []
    text = json.dumps(answer)
    for withheld in (child_id, _due(), "Maple", "1998-04-17", "Examplemum", MOTHER["nhs_number"]):
        assert withheld not in text

    [alert] = setting.alerts(setting.key_worker)
    assert (alert["rule"], alert["child_id"], alert["enquiry_id"]) == ("R1", child_id, answer["id"])

    rows = [r for r in factory.audit_rows() if r["action"] == "child:enquiry:create"]
    [row] = rows
    assert [str(c) for c in row["child_ids"]] == [child_id]
    assert row["detail"]["about"] == "expectant_mother"
    assert row["detail"]["outcome"] == "match"
    assert row["detail"]["criteria"]["expectant_mother"]["family_name"] == "Examplemum"
    assert row["detail"]["criteria_given"] == [
        "address_line1",
        "date_of_birth",
        "family_name",
        "given_names",
        "postcode",
    ]


def test_the_enquiry_finds_no_child_to_open(setting: Setting, factory: Factory) -> None:
    """The plan's answer is not a way into the child's record: the enquiry shows no
    candidate, so opening the child through it is the same 404 as any stranger's."""
    child_id = setting.plan()
    nurse = setting.as_(factory.organisation(type="hospital"), "mw-mia")
    answer = setting.ask(nurse, **MOTHER).json()
    assert answer["outcome"] == "match"
    opened = setting.client.get(f"/v1/enquiries/{answer['id']}/children/{child_id}", headers=nurse)
    assert opened.status_code == 404


def test_a_different_woman_with_the_same_names_is_not_found(
    setting: Setting, factory: Factory
) -> None:
    setting.plan()
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")

    response = setting.ask(
        nurse,
        given_names="Shanice",
        family_name="Examplemum",
        date_of_birth="1996-09-03",
        postcode="W5 3BB",
    )

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["outcome"] == "not_found"
    assert answer.get("pre_birth_plan") is None
    assert "not evidence" in answer["advice"]
    assert answer["front_door"]["authority_code"] == EALING
    assert setting.alerts(setting.key_worker) == []
    assert factory.count("enquiry_contact") == 0  # R3 is about children, not women


def test_the_same_names_and_date_without_more_is_a_match_only_when_nobody_else_fits(
    setting: Setting, factory: Factory
) -> None:
    """Two women with the same names and date of birth (another address, no NHS number
    given): neither is a confident match, so no plan is named."""
    setting.plan()
    other = unborn_payload(
        addresses=[{**HOME, "line1": "3 Birch Road", "postcode": "W13 9XY"}],
        mother={**MOTHER, "nhs_number": nhs_number(6)},
        confirmed_distinct_from=[],
    )
    created = setting.client.post("/v1/children", json=other, headers=setting.data_manager)
    if created.status_code == 409:
        other["confirmed_distinct_from"] = [c["child_id"] for c in created.json()["candidates"]]
        created = setting.client.post("/v1/children", json=other, headers=setting.data_manager)
    assert created.status_code == 201, created.text
    setting.raise_plan(created.json()["id"])
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")
    answer = setting.ask(
        nurse, given_names="Shanice", family_name="Examplemum", date_of_birth="1998-04-17"
    ).json()
    assert answer["outcome"] == "not_found"
    assert setting.alerts(setting.key_worker) == []


@pytest.mark.parametrize("kind", ["hospital", "gp_practice", "health_visiting"])
def test_the_health_organisations_that_see_pregnant_women_may_ask(
    setting: Setting, factory: Factory, kind: str
) -> None:
    setting.plan()
    headers = setting.as_(factory.organisation(type=kind), f"{kind}-user")
    answer = setting.ask(headers, **MOTHER)
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "match"


@pytest.mark.parametrize("kind", ["police", "school", "childrens_social_care"])
def test_any_other_organisation_is_refused_and_nothing_is_kept(
    setting: Setting, factory: Factory, kind: str
) -> None:
    setting.plan()
    headers = setting.as_(factory.organisation(type=kind), f"{kind}-user")
    response = setting.ask(headers, **MOTHER)
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_maternity_setting"
    row = factory.audit_rows()[-1]
    assert (row["action"], row["outcome"], row["reason"]) == (
        "child:enquiry:create",
        "refused",
        "not_a_maternity_setting",
    )
    assert factory.count("enquiry") == 0
    assert setting.alerts(setting.key_worker) == []


def test_an_enquiry_is_about_a_mother_or_a_child_not_both(
    setting: Setting, factory: Factory
) -> None:
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")
    response = setting.client.post(
        "/v1/enquiries",
        json={"expectant_mother": MOTHER, "family_name": "Examplemum"},
        headers=nurse,
    )
    assert response.status_code == 422


def test_the_data_manager_sees_the_mother_and_a_social_worker_does_not(
    setting: Setting,
) -> None:
    child_id = setting.plan()
    kept = setting.client.get(f"/v1/children/{child_id}", headers=setting.data_manager).json()
    assert kept["mother"] == {**MOTHER}
    seen = setting.client.get(f"/v1/children/{child_id}", headers=setting.key_worker).json()
    assert "mother" not in seen
    assert "names" in seen


def test_a_mother_on_a_born_childs_record_is_refused(setting: Setting, factory: Factory) -> None:
    born = child_payload(mother=MOTHER)
    response = setting.client.post("/v1/children", json=born, headers=setting.data_manager)
    assert response.status_code == 422
    assert response.json()["code"] == "mother_only_for_unborn_child"
    assert factory.count("child") == 0
    assert factory.count("child_mother") == 0

    created = setting.client.post(
        "/v1/children", json=child_payload(), headers=setting.data_manager
    )
    assert created.status_code == 201, created.text
    child_id = created.json()["id"]
    patched = setting.client.patch(
        f"/v1/children/{child_id}",
        json={"mother": MOTHER},
        headers={**setting.data_manager, "If-Match": '"1"'},
    )
    assert patched.status_code == 422
    assert patched.json()["code"] == "mother_only_for_unborn_child"
    assert factory.count("child_mother") == 0


def test_the_mother_is_changed_and_removed_through_patch(setting: Setting) -> None:
    child_id = setting.plan()
    url = f"/v1/children/{child_id}"
    changed = setting.client.patch(
        url,
        json={"mother": {**MOTHER, "family_name": "Examplewife"}},
        headers={**setting.data_manager, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["mother"]["family_name"] == "Examplewife"
    removed = setting.client.patch(
        url, json={"mother": None}, headers={**setting.data_manager, "If-Match": '"2"'}
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["mother"] is None


def test_a_mothers_date_of_birth_is_a_womans(setting: Setting) -> None:
    too_late = unborn_payload(mother={**MOTHER, "date_of_birth": date.today().isoformat()})
    too_late["mother"]["date_of_birth"] = (date.today() + timedelta(days=1)).isoformat()
    response = setting.client.post("/v1/children", json=too_late, headers=setting.data_manager)
    assert response.status_code == 422


def test_a_merge_moves_the_mother_to_the_survivor_and_an_unmerge_gives_her_back(
    setting: Setting, factory: Factory
) -> None:
    client, dm = setting.client, setting.data_manager
    first = create_confirming(client, dm, unborn_payload(mother=None))
    second = create_confirming(
        client,
        dm,
        unborn_payload(
            names=[{"kind": "legal", "given_names": "Baby", "family_name": "Examplemum"}]
        ),
    )

    setting.raise_plan(first)

    def etag(child_id: str) -> str:
        return str(client.get(f"/v1/children/{child_id}", headers=dm).headers["ETag"])

    merged = client.post(
        f"/v1/children/{first}/merges",
        json={"merged_id": second, "merged_version": int(etag(second).strip('"'))},
        headers={**dm, "If-Match": etag(first)},
    )
    assert merged.status_code == 201, merged.text
    assert client.get(f"/v1/children/{first}", headers=dm).json()["mother"] == MOTHER
    nurse = setting.as_(factory.organisation(type="hospital"), "mw-mia")
    answer = setting.ask(nurse, **MOTHER).json()
    assert answer["outcome"] == "match"
    assert factory.audit_rows()[-1]["child_ids"] == [uuid.UUID(first)]

    undone = client.post(
        f"/v1/children/{first}/merges/{merged.json()['id']}/undo",
        headers={**dm, "If-Match": etag(first)},
    )
    assert undone.status_code == 200, undone.text
    assert client.get(f"/v1/children/{first}", headers=dm).json()["mother"] is None
    assert client.get(f"/v1/children/{second}", headers=dm).json()["mother"] == MOTHER


def test_a_shielded_plan_names_its_authority_never_its_worker_and_the_access_is_kept(
    setting: Setting, factory: Factory
) -> None:
    child_id = setting.plan()
    etag = setting.client.get(f"/v1/children/{child_id}", headers=setting.data_manager).headers[
        "ETag"
    ]
    shielded = setting.client.put(
        f"/v1/children/{child_id}/shield", headers={**setting.data_manager, "If-Match": etag}
    )
    assert shielded.status_code == 200, shielded.text
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")

    answer = setting.ask(nurse, **MOTHER).json()

    assert answer["outcome"] == "match"
    assert answer["pre_birth_plan"]["contacts"] == []
    assert answer["pre_birth_plan"]["contact"]["organisation_code"] == setting.csc.code
    assert factory.count("shielded_access") == 1  # for the data manager's alert (R7)


def principal_of(organisation: Organisation) -> Principal:
    """A practitioner of `organisation`, to record its involvement directly."""
    return Principal(
        issuer="urn:test",
        subject="worker",
        name="Worker",
        email="w@x.example",
        roles=frozenset({Role.PRACTITIONER}),
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_type=organisation.type,
        local_authority=organisation.local_authority,
    )


def _answer(response: Any) -> dict[str, Any]:
    """An answer without what differs between any two enquiries (its id and time)."""
    assert response.status_code == 201, response.text
    return {k: v for k, v in response.json().items() if k not in ("id", "created_at")}


def test_a_sensitive_lead_professional_shows_as_the_childs_entry_shows_it(
    setting: Setting, factory: Factory
) -> None:
    """A substance-misuse service's lead professional on the plan: the hospital learns
    only that a sensitive service is involved and the authority's contact, exactly the
    item the child's entry shows to anyone outside that service; the key worker in full."""
    child_id = setting.plan()
    clinic = factory.organisation(type="substance_misuse", local_authority=EALING)
    with factory.db.transaction() as session:
        record_involvement(
            session=session,
            caller=principal_of(clinic),
            child_id=uuid.UUID(child_id),
            service="Drug and alcohol service",
            practitioner_name="Dr Confidential Worker",
            practitioner_phone="020 7946 0777",
            practitioner_email="cw@clinic.example",
            start_date=date(2026, 1, 5),
            is_lead_professional=True,
        )
    nurse = setting.as_(factory.organisation(type="hospital"), "mw-mia")

    answer = setting.ask(nurse, **MOTHER).json()

    assert answer["outcome"] == "match"
    key_worker, sensitive = answer["pre_birth_plan"]["contacts"]
    assert key_worker["is_key_worker"] is True
    assert key_worker["practitioner_phone"] == "020 7946 0100"
    assert sensitive == {
        "sensitive": True,
        "notice": SENSITIVE_NOTICE,
        "contact": answer["pre_birth_plan"]["contact"],
    }
    text = json.dumps(answer)
    for withheld in (clinic.code, clinic.name, "Confidential", "0777", "cw@clinic", "Drug"):
        assert withheld not in text
    entry = setting.client.get(f"/v1/children/{child_id}", headers=setting.key_worker).json()
    assert sensitive in entry["involvements"]


def test_the_organisations_own_sensitive_worker_is_named_to_it(
    setting: Setting, factory: Factory
) -> None:
    """As in the entry, the organisation that holds a sensitive involvement sees it in
    full: a hospital's own lead professional, marked sensitive, is named to the hospital
    and masked to another."""
    child_id = setting.plan()
    hospital = factory.organisation(type="hospital")
    with factory.db.transaction() as session:
        record_involvement(
            session=session,
            caller=principal_of(hospital),
            child_id=uuid.UUID(child_id),
            service="Specialist midwife",
            practitioner_name="Midwife Marked",
            practitioner_phone="020 7946 0555",
            start_date=date(2026, 1, 5),
            is_lead_professional=True,
            sensitive=True,
        )
    own = setting.ask(setting.as_(hospital, "mw-mia"), **MOTHER).json()
    other = setting.ask(
        setting.as_(factory.organisation(type="emergency_department"), "ed-eve"), **MOTHER
    ).json()
    [own_midwife] = [c for c in own["pre_birth_plan"]["contacts"] if not c.get("is_key_worker")]
    assert own_midwife["practitioner_name"] == "Midwife Marked"
    assert own_midwife["sensitive"] is True
    [masked] = [c for c in other["pre_birth_plan"]["contacts"] if not c.get("is_key_worker")]
    assert masked["notice"] == SENSITIVE_NOTICE
    assert "Midwife Marked" not in json.dumps(other)


def _end_flag(setting: Setting, child_id: str, flag: dict[str, Any] | None) -> None:
    assert flag is not None
    ended = setting.client.post(f"/v1/flags/{flag['id']}/end", headers=setting.key_worker)
    assert ended.status_code == 200, ended.text


def _born(setting: Setting, child_id: str, flag: dict[str, Any] | None) -> None:
    """The birth recorded: the date of birth exact, yesterday (the plan not yet ended)."""
    url = f"/v1/children/{child_id}"
    etag = setting.client.get(url, headers=setting.data_manager).headers["ETag"]
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    born = setting.client.patch(
        url,
        json={"date_of_birth": yesterday, "date_of_birth_precision": "exact"},
        headers={**setting.data_manager, "If-Match": etag},
    )
    assert born.status_code == 200, born.text


def _due_days_ago(days: int) -> Any:
    def overdue(setting: Setting, child_id: str, flag: dict[str, Any] | None) -> None:
        """Time passed: the expected date of delivery `days` ago, no birth recorded."""
        with setting.factory.db.transaction() as session:
            session.execute(
                text("UPDATE child SET date_of_birth = :due WHERE id = :id"),
                {"due": datetime.now(UTC).date() - timedelta(days=days), "id": child_id},
            )

    return overdue


def _nothing(setting: Setting, child_id: str, flag: dict[str, Any] | None) -> None:
    pass


@pytest.mark.parametrize(
    ("flagged", "then"),
    [
        pytest.param(False, _nothing, id="no plan flag was ever raised"),
        pytest.param(True, _end_flag, id="the plan has ended"),
        pytest.param(True, _born, id="the child is born"),
        pytest.param(True, _due_days_ago(15), id="due over a fortnight ago"),
    ],
)
def test_only_an_unborn_child_on_an_active_plan_is_found_through_its_mother(
    setting: Setting, factory: Factory, flagged: bool, then: Any
) -> None:
    """A mother row alone says nothing: without an active unborn child protection plan
    on a child still unborn, the answer is the same `not_found` as before the index held
    her at all, no alert, no child in the audit row."""
    nurse = setting.as_(factory.organisation(type="hospital"), "mw-mia")
    unknown = _answer(setting.ask(nurse, **MOTHER))
    child_id = setting.plan(flagged=False)
    flag = setting.raise_plan(child_id) if flagged else None
    then(setting, child_id, flag)

    answer = _answer(setting.ask(nurse, **MOTHER))

    assert answer == unknown
    assert answer["outcome"] == "not_found"
    assert [a for a in setting.alerts(setting.key_worker) if a["rule"] == "R1"] == []
    [*_, row] = [r for r in factory.audit_rows() if r["action"] == "child:enquiry:create"]
    assert row["child_ids"] in (None, [])


def test_an_overdue_baby_with_no_birth_recorded_is_still_found(
    setting: Setting, factory: Factory
) -> None:
    """Past the expected date by days, not weeks: she is most likely at maternity now."""
    child_id = setting.plan()
    _due_days_ago(3)(setting, child_id, None)
    nurse = setting.as_(factory.organisation(type="hospital"), "mw-mia")
    assert setting.ask(nurse, **MOTHER).json()["outcome"] == "match"


def test_a_shielded_childs_address_never_decides_the_answer_about_its_mother(
    setting: Setting, factory: Factory
) -> None:
    """Her names and date of birth alone are not a confident match; her true address
    would make one, but under the shield the address counts for nobody outside the
    record's keepers: the true address, another one and none give the same answer."""
    child_id = setting.plan()
    nurse = setting.as_(factory.organisation(type="emergency_department"), "nurse-nia")
    names = {k: MOTHER[k] for k in ("given_names", "family_name", "date_of_birth")}
    at_home = {**names, "postcode": "W5 3BB", "address_line1": "14 Maple Court"}
    assert setting.ask(nurse, **at_home).json()["outcome"] == "match"  # unshielded
    etag = setting.client.get(f"/v1/children/{child_id}", headers=setting.data_manager).headers[
        "ETag"
    ]
    shielded = setting.client.put(
        f"/v1/children/{child_id}/shield", headers={**setting.data_manager, "If-Match": etag}
    )
    assert shielded.status_code == 200, shielded.text

    answers = [
        _answer(setting.ask(nurse, **asked))
        for asked in (at_home, {**names, "postcode": "N17 6AB", "address_line1": "2 Elm Row"})
    ]

    assert answers[0] == answers[1]
    assert answers[0]["outcome"] == "not_found"
    assert factory.count("shielded_access") == 0  # nothing was reached
