"""Safe answers in alerts (issue 13), through the HTTP API against PostgreSQL: a sensitive
service is never named by an alert (R4) and an enquirer from one is reachable without
being named (R1); an allocated worker without a login is recorded, named to enquirers
and alerted by email; a flag past its review date alerts its raiser and the data
managers (R8); an alert reads in plain English, names the child only to whom the
record would, and its acknowledgement keeps a note."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.alerts import scheduler
from index_service.organisations.models import Organisation
from index_service.settings import Settings
from tests.api.test_enquiry_rules import FULL, People
from tests.factories import HARINGEY, Factory, other_child

DM_PHONE = "020 8825 0000"
DM_EMAIL = "data.managers@ealing.example"
CLINIC_PHONE = "020 7946 0999"
CLINIC_DIRECT = "07700 900123"
NOTICE = "A sensitive service is involved: contact the data manager."


@pytest.fixture
def people(client: TestClient, factory: Factory) -> People:
    return People(
        client=client,
        factory=factory,
        csc=factory.organisation(contact_phone=DM_PHONE, contact_email=DM_EMAIL),
        haringey_csc=factory.organisation(local_authority=HARINGEY),
        hospital=factory.organisation(type="emergency_department", contact_phone="020 1111 2222"),
        police=factory.organisation(type="police"),
        school=factory.organisation(type="school"),
    )


@pytest.fixture
def clinic(factory: Factory) -> Organisation:
    return factory.organisation(type="sexual_health", contact_phone=CLINIC_PHONE)


def _alert_rows(factory: Factory) -> list[dict[str, Any]]:
    with factory.db.session() as session:
        rows = session.execute(text("SELECT to_jsonb(a) FROM alert AS a")).scalars()
        return [dict(r) for r in rows]


def _tick(factory: Factory, settings: Settings, now: datetime | None = None) -> Any:
    return scheduler.tick(db=factory.db, settings=settings, now=now or datetime.now(UTC))


# --- item 3: sensitive services ---------------------------------------------------------


def test_r4_a_sensitive_involvement_alert_names_neither_the_service_nor_the_clinician(
    people: People, clinic: Organisation, factory: Factory
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    nurse = people.as_(clinic, "nurse-sh")
    involvement = people.involve(
        child_id,
        nurse,
        found=True,
        service="Young people's clinic",
        practitioner_phone=CLINIC_DIRECT,
        sensitive=True,
    )
    ended = people.client.post(f"/v1/involvements/{involvement['id']}/end", json={}, headers=nurse)
    assert ended.status_code == 200, ended.text

    alerts = people.alerts(people.key_worker)
    r4 = [a for a in alerts if a["rule"] == "R4"]
    assert sorted(a["reason"] for a in r4) == ["involvement_ended", "involvement_started"]
    for alert in r4:
        assert alert["actor"] == {
            "sensitive": True,
            "notice": NOTICE,
            "name": None,
            "organisation_code": people.csc.code,
            "organisation_name": people.csc.name,
            "phone": DM_PHONE,
            "email": DM_EMAIL,
        }
        assert alert["reason_text"].endswith(NOTICE)
        assert alert["purpose_text"] is None  # the clinic's own words could name it
    shown = json.dumps(r4)
    stored = json.dumps([r for r in _alert_rows(factory) if r["rule"] == "R4"])
    for secret in (clinic.code, clinic.name, CLINIC_PHONE, CLINIC_DIRECT, "nurse-sh", "Young"):
        assert secret not in shown, secret
        assert secret not in stored, secret


def test_a_flag_raised_by_a_sensitive_service_names_it_neither_in_the_entry_nor_in_alerts(
    people: People, factory: Factory
) -> None:
    """Any agency may raise a concern: a sexual health clinic's flag shows to the key
    worker (in the entry and in the R4 alert) as a sensitive service's, with the data
    manager's contact; the clinic itself still sees its own flag in full."""
    clinic = factory.organisation(type="sexual_health", contact_phone="020 7946 0777")
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    nurse = people.as_(clinic, "nurse-sh")
    assert people.enquire(nurse, **FULL)["outcome"] == "match"
    people.raise_flag(
        child_id,
        nurse,
        kind="concern_raised",
        area_of_concern="parenting_capacity",
        contact_phone="07700 900456",
    )
    entry = people.client.get(f"/v1/children/{child_id}", headers=people.key_worker).json()
    [flag] = entry["flags"]
    assert (flag["kind"], flag["sensitive"], flag["notice"]) == ("concern_raised", True, NOTICE)
    assert (flag["organisation_code"], flag["contact_phone"]) == (people.csc.code, DM_PHONE)
    [r4] = [a for a in people.alerts(people.key_worker) if a["rule"] == "R4"]
    assert (r4["actor"]["sensitive"], r4["purpose_text"]) == (True, None)
    shown = json.dumps([entry, r4])
    for secret in (clinic.code, clinic.name, "020 7946 0777", "07700 900456", "nurse-sh"):
        assert secret not in shown, secret
    own = people.enquire(nurse, **FULL)["child"]["flags"]
    assert [(f["organisation_code"], f["sensitive"]) for f in own] == [(clinic.code, False)]


def test_r4_by_an_organisation_holding_a_sensitive_involvement_does_not_name_it(
    people: People, factory: Factory
) -> None:
    """A hospital holds a sensitive (marked) involvement with the child; when it raises a
    concern, the key worker can reach its nurse but is not told which organisation, nor
    the nurse's own words of purpose."""
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    nurse = people.as_(people.hospital, "nurse-h")
    people.involve(child_id, nurse, found=True, sensitive=True)
    people.raise_flag(child_id, nurse, kind="concern_raised", area_of_concern="parenting_capacity")
    r4 = [a for a in people.alerts(people.key_worker) if a["reason"] == "flag_raised"]
    [alert] = r4
    assert alert["actor"]["organisation_code"] is None
    assert alert["actor"]["email"] == "nurse-h@test.example"
    assert alert["purpose_text"] is None
    assert people.hospital.code not in json.dumps(alert)


def test_r4_a_non_sensitive_involvement_alert_still_names_the_organisation_and_practitioner(
    people: People,
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.involve(child_id, people.as_(people.school, "t-tom"), found=True)
    [r4] = [a for a in people.alerts(people.key_worker) if a["rule"] == "R4"]
    assert r4["actor"]["sensitive"] is False
    assert r4["actor"]["notice"] is None
    assert (r4["actor"]["organisation_code"], r4["actor"]["name"]) == (
        people.school.code,
        "Test User",
    )
    assert r4["actor"]["email"] == "t-tom@test.example"
    assert NOTICE not in r4["reason_text"]


def test_r1_an_enquirer_from_a_sensitive_service_is_reachable_but_their_service_is_not_named(
    people: People, clinic: Organisation
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(clinic, "nurse-sh"), **FULL)
    [r1] = people.alerts(people.key_worker)
    assert r1["rule"] == "R1"
    assert r1["actor"] == {
        "sensitive": False,
        "notice": None,
        "name": "Test User",
        "organisation_code": None,
        "organisation_name": "a health service (name withheld)",
        "phone": None,
        "email": "nurse-sh@test.example",
    }
    assert clinic.code not in json.dumps(r1)
    assert CLINIC_PHONE not in json.dumps(r1)
    assert r1["purpose_text"] is None  # the nurse's own words could name the service


def test_r1_an_enquirer_whose_organisation_holds_a_sensitive_involvement_is_not_named_by_it(
    people: People,
) -> None:
    """The hospital is not a sensitive service by type; its first enquiry names it. Once
    it holds a sensitive involvement with the child, a colleague's enquiry does not."""
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.involve(child_id, people.as_(people.hospital, "nurse-nia"), found=True, sensitive=True)
    people.enquire(people.as_(people.hospital, "dr-dee"), **FULL)
    r1 = sorted(
        (a for a in people.alerts(people.key_worker) if a["rule"] == "R1"),
        key=lambda a: a["created_at"],
    )
    assert [a["actor"]["organisation_code"] for a in r1] == [people.hospital.code, None]
    assert r1[1]["actor"]["name"] == "Test User"
    assert r1[1]["actor"]["email"] == "dr-dee@test.example"
    assert people.hospital.code not in json.dumps(r1[1])


# --- item 12: a practitioner without a login -------------------------------------------


def _name_allocated_worker(people: People, child_id: str, **extra: Any) -> dict[str, Any]:
    response = people.client.post(
        f"/v1/children/{child_id}/involvements",
        json={
            "service": "Children in need team",
            "practitioner_name": "Alex Allocated",
            "practitioner_phone": "020 8825 1234",
            "practitioner_email": "alex.allocated@ealing.example",
            "is_allocated_worker": True,
            **extra,
        },
        headers=people.key_worker,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_r1_alerts_the_allocated_worker_named_without_a_login_by_email(
    people: People, factory: Factory
) -> None:
    child_id = people.child()
    named = _name_allocated_worker(people, child_id)
    assert (named["practitioner_name"], named["is_allocated_worker"]) == ("Alex Allocated", True)

    answer = people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)

    [first] = answer["child"]["involvements"]  # named to the enquirer, with how to reach them
    assert (
        first["practitioner_name"],
        first["practitioner_phone"],
        first["is_allocated_worker"],
    ) == (
        "Alex Allocated",
        "020 8825 1234",
        True,
    )
    [row] = [r for r in _alert_rows(factory) if r["rule"] == "R1"]
    assert (row["recipient_issuer"], row["recipient_email"], row["recipient_name"]) == (
        None,
        "alex.allocated@ealing.example",
        "Alex Allocated",
    )
    with factory.db.session() as session:
        channels = session.execute(
            text("SELECT channel, email_to FROM alert_delivery WHERE alert_id = :id"),
            {"id": row["id"]},
        ).all()
    assert [tuple(c) for c in channels] == [("email", "alex.allocated@ealing.example")]
    # They cannot sign in: their authority's designated managers see it and acknowledge it.
    [seen] = people.alerts(people.designated_manager)
    assert seen["id"] == row["id"]
    acked = people.client.post(
        f"/v1/alerts/{row['id']}/acknowledge",
        json={"note": "passed to Alex by phone"},
        headers=people.designated_manager,
    )
    assert acked.status_code == 200, acked.text
    haringey_dm = people.as_(people.haringey_csc, "dsm-hal", "designated_manager")
    assert people.alerts(haringey_dm) == []
    assert people.alerts(people.as_(people.csc, "sw-sam", "social_worker")) == []


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        pytest.param("teacher", {}, 403, "may_not_name_practitioner", id="not social care"),
        pytest.param(
            "social_worker",
            {"practitioner_email": None},
            422,
            "practitioner_email_required",
            id="no email",
        ),
        pytest.param(
            "teacher",
            {"practitioner_name": None},
            403,
            "not_a_key_worker",
            id="a practitioner calling themselves allocated worker",
        ),
    ],
)
def test_only_social_care_names_a_practitioner_without_a_login_and_with_an_email(
    people: People, factory: Factory, who: str, body: dict[str, Any], status: int, code: str
) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    before = factory.count("involvement")
    response = people.client.post(
        f"/v1/children/{child_id}/involvements",
        json={
            "service": "Children in need team",
            "practitioner_name": "Alex Allocated",
            "practitioner_email": "alex.allocated@ealing.example",
            "is_allocated_worker": True,
            **body,
        },
        headers=teacher if who == "teacher" else people.key_worker,
    )
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert factory.count("involvement") == before


# --- item 14: flags past their review date (R8) ----------------------------------------


def _overdue(factory: Factory, flag_id: str, days: int = 1) -> None:
    with factory.db.transaction() as session:
        session.execute(
            text("UPDATE flag SET review_date = current_date - :days WHERE id = :id"),
            {"id": flag_id, "days": days},
        )


def test_r8_a_flag_past_its_review_date_alerts_the_raiser_and_the_data_managers_once(
    people: People, factory: Factory, settings: Settings
) -> None:
    child_id = people.child()
    overdue = people.plan(child_id)
    people.plan(people.child(other_child()))  # not yet due: no alert
    ended = people.plan(people.child(other_child()))
    assert people.client.post(f"/v1/flags/{ended['id']}/end", headers=people.key_worker).is_success
    _overdue(factory, overdue["id"])
    _overdue(factory, ended["id"])

    for _ in range(3):
        _tick(factory, settings)

    [mine] = [a for a in people.alerts(people.key_worker) if a["rule"] == "R8"]
    [team] = [a for a in people.alerts(people.data_manager) if a["rule"] == "R8"]
    assert (mine["child_id"], mine["reason"], mine["due_at"]) == (
        child_id,
        "flag_past_review_date",
        None,
    )
    assert (team["child_id"], team["team"]) == (child_id, "data_managers")
    assert "review date" in mine["reason_text"]
    # Reviewed to a new date which then passes too: told again, once.
    later = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    reviewed = people.client.post(
        f"/v1/flags/{overdue['id']}/review", json={"review_date": later}, headers=people.key_worker
    )
    assert reviewed.status_code == 200, reviewed.text
    _overdue(factory, overdue["id"], days=2)
    _tick(factory, settings)
    _tick(factory, settings)
    assert len([a for a in people.alerts(people.key_worker) if a["rule"] == "R8"]) == 2
    assert people.alerts(people.as_(people.school, "t-tom")) == []
    events = [r for r in factory.audit_rows() if r["action"] == "alert:raise"]
    assert [r["detail"]["rule"] for r in events] == ["R8", "R8"]


# --- item 18: plain English, the child's name, a note ----------------------------------


def test_an_alert_says_its_reason_in_plain_english(people: People) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)
    [alert] = people.alerts(people.key_worker)
    assert alert["reason_text"] == (
        "Someone from another agency enquired about a child you are the key worker, "
        "lead professional or allocated worker for."
    )


def test_an_alert_names_the_child_only_to_whom_the_record_shows_the_name(
    people: People, factory: Factory, settings: Settings
) -> None:
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)
    assert {a["child_name"] for a in people.alerts(people.key_worker)} == {"Aisha Testchild"}
    [to_teacher] = people.alerts(teacher)  # a practitioner of another agency: no name
    assert to_teacher["child_id"] == child_id
    assert to_teacher["child_name"] is None
    assert "Aisha" not in json.dumps(to_teacher)

    # Once shielded, only its data managers are told its name.
    current = people.client.get(f"/v1/children/{child_id}", headers=people.data_manager)
    shielded = people.client.put(
        f"/v1/children/{child_id}/shield",
        headers={**people.data_manager, "If-Match": current.headers["ETag"]},
    )
    assert shielded.status_code == 200, shielded.text
    assert {a["child_name"] for a in people.alerts(people.key_worker)} == {None}
    assert "Aisha" not in json.dumps(people.alerts(people.key_worker))
    people.client.get(f"/v1/children/{child_id}", headers=people.key_worker)  # R7
    _tick(factory, settings)
    [r7] = people.alerts(people.data_manager)
    assert (r7["rule"], r7["child_name"]) == ("R7", "Aisha Testchild")


def test_acknowledging_keeps_a_note_of_what_was_done_and_audits_it(
    people: People, factory: Factory
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)
    people.enquire(people.as_(people.hospital, "dr-dee"), **FULL)
    first, second = people.alerts(people.key_worker)
    url = f"/v1/alerts/{first['id']}/acknowledge"

    acked = people.client.post(url, json={"note": "called the ED back"}, headers=people.key_worker)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_note"] == "called the ED back"
    again = people.client.post(url, json={"note": "something else"}, headers=people.key_worker)
    assert again.json()["acknowledged_note"] == "called the ED back"  # the first stands
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    rows = [
        r
        for r in factory.audit_rows()
        if r["route"] == "/v1/alerts/{alert_id}/acknowledge" and r["detail"].get("note")
    ]
    # Each request's row keeps the note it sent, and says whether the alert kept it.
    assert [(r["detail"]["note"], r["detail"]["note_kept"]) for r in rows] == [
        ("called the ED back", True),
        ("something else", False),
    ]
    # Without a note (no body at all) it still works.
    plain = people.client.post(f"/v1/alerts/{second['id']}/acknowledge", headers=people.key_worker)
    assert plain.status_code == 200, plain.text
    assert plain.json()["acknowledged_note"] is None


@pytest.mark.parametrize(
    "note",
    [
        pytest.param("called\nthe ED back", id="line break"),
        pytest.param("called the ED\x00 back", id="NUL"),
        pytest.param("x" * 201, id="over 200 characters"),
        pytest.param("", id="empty"),
        pytest.param(42, id="not text"),
    ],
)
def test_acknowledging_with_a_bad_note_is_refused_and_nothing_is_stored(
    people: People, factory: Factory, note: Any
) -> None:
    child_id = people.child()
    people.involve(child_id, people.key_worker, is_key_worker=True)
    people.enquire(people.as_(people.hospital, "nurse-nia"), **FULL)
    [alert] = people.alerts(people.key_worker)
    response = people.client.post(
        f"/v1/alerts/{alert['id']}/acknowledge", json={"note": note}, headers=people.key_worker
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    [row] = [r for r in _alert_rows(factory) if r["id"] == alert["id"]]
    assert (row["acknowledged_at"], row["acknowledged_note"]) == (None, None)
