"""`seed-demo`'s story: the personas are the practitioners the demo children's
involvements name, the flags are raised by the agencies allowed to raise them, and the
story's children make the enquiry rules fire when the pages or the API are tried (R1,
R2, R3, R7, R8), through the real app and the real scheduler."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.access.devkeys import mint_dev_token
from index_service.access.objects import may_raise_flag
from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.alerts import scheduler
from index_service.demo.cases import (
    LOOKED_AFTER,
    ON_PLAN,
    SAME_ADDRESS,
    SCENARIO,
    SENSITIVE,
    SHIELDED,
    STORY_CHILDREN,
    UNKNOWN,
)
from index_service.demo.personas import PERSONAS, persona
from index_service.demo.places import EALING, HARINGEY
from index_service.demo.seed import SeedResult, seed_demo_data
from index_service.flags.models import FlagKind
from index_service.settings import DEV_ISSUER, Settings
from tests.conftest import TABLES
from tests.factories import Factory

CHILDREN = 24  # generated ones: enough for casework of every shape, quick to load


@pytest.fixture
def seeded(factory: Factory, settings: Settings) -> SeedResult:
    return _seed(factory, settings)


def _seed(factory: Factory, settings: Settings, seed: int = 7) -> SeedResult:
    with factory.db.transaction() as session:
        return seed_demo_data(
            session=session, children=CHILDREN, seed=seed, once=False, settings=settings
        )


def _as(settings: Settings, key: str, purpose: str = "safeguarding_concern") -> dict[str, str]:
    who = persona(key)
    token = mint_dev_token(
        settings,
        subject=who.subject,
        name=who.name,
        email=who.email,
        organisation=who.organisation_code,
        roles=[r.value for r in who.roles],
        ttl_seconds=600,
    )
    return {
        "Authorization": f"Bearer {token}",
        "Purpose-Of-Use": purpose,
        "Purpose-Text": "demo test",
    }


def _rows(factory: Factory, sql: str, **params: Any) -> list[dict[str, Any]]:
    with factory.db.session() as session:
        return [dict(r) for r in session.execute(text(sql), params).mappings()]


def _child_id(factory: Factory, nhs_number: str | None) -> str:
    [row] = _rows(factory, "SELECT id FROM child WHERE nhs_number = :n", n=nhs_number)
    return str(row["id"])


def _alerts(client: TestClient, settings: Settings, key: str) -> list[dict[str, Any]]:
    answer = client.get("/v1/alerts?limit=200", headers=_as(settings, key))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_loading_the_story_alerts_nobody_and_raises_every_kind_of_flag(
    seeded: SeedResult, factory: Factory
) -> None:
    assert seeded.story_children == len(STORY_CHILDREN)
    assert factory.count("child") == CHILDREN + len(STORY_CHILDREN)
    assert (seeded.tally.alerts, factory.count("alert")) == (0, 0)  # every inbox starts empty
    flags = _rows(
        factory,
        "SELECT f.kind, f.review_date, o.type FROM flag f "
        "JOIN organisation o ON o.id = f.organisation_id",
    )
    assert {f["kind"] for f in flags} == {k.value for k in FlagKind}
    for flag in flags:  # each raised by an agency allowed to raise its kind
        assert may_raise_flag(_of_type(flag["type"]), FlagKind(flag["kind"])), flag
    today = datetime.now(UTC).date()
    overdue = [f for f in flags if f["review_date"] < today]
    soon = [f for f in flags if today <= f["review_date"] <= today + timedelta(days=14)]
    assert len(overdue) == 1
    assert soon  # some are due for review within the next few weeks
    [event] = [e for e in factory.audit_rows() if e["action"] == "demo:data:load"]
    assert event["detail"]["involvements"] == seeded.tally.involvements


def test_the_personas_are_the_practitioners_the_involvements_name(
    seeded: SeedResult, factory: Factory
) -> None:
    codes = {r["code"] for r in _rows(factory, "SELECT code FROM organisation")}
    assert {p.organisation_code for p in PERSONAS} <= codes

    def held_by(key: str) -> list[dict[str, Any]]:
        return _rows(
            factory,
            "SELECT i.*, c.nhs_number FROM involvement i JOIN child c ON c.id = i.child_id "
            "WHERE practitioner_issuer = :iss AND practitioner_subject = :sub",
            iss=DEV_ISSUER,
            sub=persona(key).subject,
        )

    key_worker = held_by("key-worker")
    assert {i["nhs_number"] for i in key_worker if i["is_key_worker"]} >= {
        SCENARIO.nhs_number,
        ON_PLAN.nhs_number,
    }
    assert all(i["practitioner_name"] == persona("key-worker").name for i in key_worker)
    assert any(i["is_lead_professional"] for i in held_by("school-dsl"))
    assert held_by("police-officer")
    # The designated manager's authority holds children with flags.
    flagged = _rows(
        factory,
        "SELECT DISTINCT c.id FROM child c JOIN flag f ON f.child_id = c.id "
        "WHERE c.responsible_authority = :la AND f.ended_at IS NULL",
        la=HARINGEY.ons_code,
    )
    assert len(flagged) >= 2
    # Some of children's social care's workers have no login: named, with an email.
    named = _rows(factory, "SELECT * FROM involvement WHERE practitioner_issuer IS NULL")
    assert all(i["practitioner_email"] and i["practitioner_phone"] for i in named)


def test_the_seed_is_deterministic(factory: Factory, settings: Settings, database_url: str) -> None:
    query = (
        "SELECT n.given_names, n.family_name, i.service, i.practitioner_name, "
        "i.is_key_worker, i.start_date FROM involvement i "
        "JOIN child_name n ON n.child_id = i.child_id AND n.kind = 'legal' ORDER BY 1, 2, 3, 4"
    )
    _seed(factory, settings)
    first = _rows(factory, query)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    _seed(factory, settings)
    assert _rows(factory, query) == first
    assert len(first) > CHILDREN // 2


def test_the_scenario_enquiry_raises_r1_to_the_key_worker(
    seeded: SeedResult, client: TestClient, settings: Settings, factory: Factory
) -> None:
    doctor = _as(settings, "ed-doctor", "health_care")
    given, family = SCENARIO.other_names[0]
    answer = client.post(
        "/v1/enquiries",
        json={"given_names": given, "family_name": family, "age_years": 8, "postcode": "N17 6RU"},
        headers=doctor,
    )
    assert answer.status_code == 201, answer.text
    found = answer.json()
    # Her other name, her age and the postcode agree, and nobody else's do: a match under
    # model v4, which weighs the address and how rare the name is (v3 said "possible").
    assert found["outcome"] == "match"
    child_id = _child_id(factory, SCENARIO.nhs_number)
    assert [c["child_id"] for c in found["candidates"]] == [child_id]
    first = found["child"]["involvements"][0]
    assert (first["practitioner_name"], first["is_key_worker"]) == ("Sam Okafor", True)
    assert first["practitioner_phone"]
    [r1] = [a for a in _alerts(client, settings, "key-worker") if a["rule"] == "R1"]
    assert (r1["child_id"], r1["child_name"]) == (child_id, SCENARIO.name)
    assert r1["actor"]["name"] == persona("ed-doctor").name


def test_the_sensitive_involvement_is_masked_to_an_ed_doctor(
    seeded: SeedResult, client: TestClient, settings: Settings
) -> None:
    answer = client.post(
        "/v1/enquiries",
        json={"nhs_number": SENSITIVE.nhs_number},
        headers=_as(settings, "ed-doctor", "health_care"),
    )
    assert answer.json()["outcome"] == "match", answer.text
    involvements = answer.json()["child"]["involvements"]
    masked = [i for i in involvements if i["sensitive"]]
    assert len(masked) == 1
    assert masked[0]["notice"].startswith("A sensitive service is involved")
    assert "CAMHS" not in answer.text
    assert "mental health" not in answer.text
    # The lead professional is shown, and first, and hears of the enquiry.
    assert involvements[0]["practitioner_name"] == persona("school-dsl").name
    assert [a["rule"] for a in _alerts(client, settings, "school-dsl")] == ["R1"]


def test_the_looked_after_childs_worker_without_a_login_is_alerted_by_email(
    seeded: SeedResult, client: TestClient, settings: Settings, factory: Factory
) -> None:
    answer = client.post(
        "/v1/enquiries",
        json={"nhs_number": LOOKED_AFTER.nhs_number},
        headers=_as(settings, "ed-doctor", "health_care"),
    )
    child = answer.json()["child"]
    assert child["responsible_authority"] == EALING.ons_code  # though he lives in Haringey
    assert child["current_address"]["local_authority"] == HARINGEY.ons_code
    [worker] = [i for i in child["involvements"] if i["is_allocated_worker"]]
    [r1] = _rows(factory, "SELECT * FROM alert WHERE rule = 'R1'")
    assert r1["recipient_issuer"] is None
    assert r1["recipient_email"] == worker["practitioner_email"]
    assert r1["recipient_authority"] == EALING.ons_code  # its designated managers act for them


def test_the_shielded_child_is_shielded_and_reaching_it_alerts_its_data_managers(
    seeded: SeedResult, client: TestClient, settings: Settings, factory: Factory
) -> None:
    [row] = _rows(
        factory, "SELECT shielded FROM child WHERE nhs_number = :n", n=SHIELDED.nhs_number
    )
    assert row["shielded"] is True
    answer = client.post(
        "/v1/enquiries",
        json={"nhs_number": SHIELDED.nhs_number},
        headers=_as(settings, "ed-doctor", "health_care"),
    )
    child = answer.json()["child"]
    assert child["shielded"] is True
    assert "current_address" not in child
    assert SHIELDED.postcode not in answer.text
    scheduler.tick(db=factory.db, settings=settings, now=datetime.now(UTC))
    r7 = [a for a in _alerts(client, settings, "data-manager") if a["rule"] == "R7"]
    assert [a["child_id"] for a in r7] == [child["id"]]


def test_an_enquiry_at_the_plan_address_alerts_the_key_worker(
    seeded: SeedResult, client: TestClient, settings: Settings, factory: Factory
) -> None:
    answer = client.post(
        "/v1/enquiries",
        json={"nhs_number": SAME_ADDRESS.nhs_number},
        headers=_as(settings, "police-officer", "police_investigation"),
    )
    assert answer.json()["outcome"] == "match", answer.text
    assert ON_PLAN.name not in answer.text  # the enquirer is told nothing of the other child
    [r2] = [a for a in _alerts(client, settings, "key-worker") if a["rule"] == "R2"]
    assert r2["child_id"] == _child_id(factory, ON_PLAN.nhs_number)


def test_a_second_enquiry_about_the_unknown_child_alerts_haringey(
    seeded: SeedResult, client: TestClient, settings: Settings
) -> None:
    answer = client.post(
        "/v1/enquiries",
        json={
            "given_names": UNKNOWN.given_names,
            "family_name": UNKNOWN.family_name,
            "date_of_birth": UNKNOWN.date_of_birth.isoformat(),
            "postcode": UNKNOWN.postcode,
        },
        headers=_as(settings, "school-dsl", "education_welfare"),
    )
    found = answer.json()
    assert found["outcome"] == "not_found", answer.text
    assert [e["organisation_name"] for e in found["earlier_enquiries"]] == [
        "Haringey housing service (demo)"
    ]
    assert found["front_door"]["authority_code"] == HARINGEY.ons_code
    r3 = [a for a in _alerts(client, settings, "designated-manager") if a["rule"] == "R3"]
    assert [a["team"] for a in r3] == ["designated_managers"]


def test_the_overdue_plan_is_alerted_to_the_key_worker_who_raised_it(
    seeded: SeedResult, client: TestClient, settings: Settings, factory: Factory
) -> None:
    scheduler.tick(db=factory.db, settings=settings, now=datetime.now(UTC))
    [r8] = [a for a in _alerts(client, settings, "key-worker") if a["rule"] == "R8"]
    assert r8["child_id"] == _child_id(factory, ON_PLAN.nhs_number)


def _of_type(organisation_type: str) -> Principal:
    return Principal(
        issuer="t",
        subject="t",
        name="t",
        email="t@t.example",
        roles=frozenset({Role.PRACTITIONER}),
        organisation_id=uuid.uuid4(),
        organisation_code="T",
        organisation_type=organisation_type,
        local_authority=HARINGEY.ons_code,
    )
