"""The auditors' API through HTTP: search, scope, pagination, exports (CSV and a FHIR R4
bundle that validates), one child's access report, one practitioner's activity, and the
chain's verification. Every auditor request is an audit event itself."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle

from index_service.audit.sealer import Sealer
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings
from tests.audit.conftest import seal_all
from tests.factories import EALING, HARINGEY, Factory, child_payload

BY_NAME = {"family_name": "Testchild", "given_names": "Aisha", "date_of_birth": "2016-02-11"}


def _world(client: TestClient, factory: Factory) -> dict[str, Any]:
    """Ealing keeps a child; an Ealing GP and a Haringey hospital enquire and find it; a
    Haringey data manager keeps a child of their own."""
    ealing_dm = factory.headers_for(factory.organisation(), roles=["data_manager"], sub="dm-e")
    created = client.post("/v1/children", json=child_payload(), headers=ealing_dm)
    assert created.status_code == 201, created.text
    haringey = factory.organisation(local_authority=HARINGEY)
    haringey_dm = factory.headers_for(haringey, roles=["data_manager"], sub="dm-h")
    other = client.post(
        "/v1/children",
        json=child_payload(
            names=[{"kind": "legal", "given_names": "Zed", "family_name": "Otherchild"}],
            nhs_number=None,
            upn=None,
            date_of_birth="2012-05-05",
            responsible_authority=HARINGEY,
            addresses=[],
        ),
        headers=haringey_dm,
    )
    assert other.status_code == 201, other.text
    gp = factory.organisation(type="gp_practice")
    hospital = factory.organisation(type="hospital", local_authority=HARINGEY)
    gp_headers = factory.headers_for(gp, roles=["practitioner"], sub="gp-1")
    hospital_headers = factory.headers_for(hospital, roles=["practitioner"], sub="nurse-1")
    assert client.post("/v1/enquiries", json=BY_NAME, headers=gp_headers).status_code == 201
    assert client.post("/v1/enquiries", json=BY_NAME, headers=hospital_headers).status_code == 201
    return {
        "child": created.json()["id"],
        "other_child": other.json()["id"],
        "gp": gp,
        "hospital": hospital,
    }


def _auditor(factory: Factory, authority: str = EALING, sub: str = "aud-1") -> dict[str, str]:
    org = factory.organisation(local_authority=authority)
    return factory.headers_for(org, roles=["auditor"], sub=sub)


def _national(factory: Factory) -> dict[str, str]:
    org = factory.organisation(type="index_operator")
    return factory.headers_for(org, roles=["national_auditor"], sub="nat-1")


def _all_events(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/audit/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_an_auditor_sees_their_authoritys_part_of_the_trail_and_a_national_auditor_all(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    ealing = _all_events(client, _auditor(factory), action="child:*")
    national = _all_events(client, _national(factory), action="child:*")
    # Ealing's: its data manager's record, the GP's enquiry, the Haringey hospital's
    # enquiry about an Ealing child; not Haringey's own child.
    assert len(ealing) == 3
    assert all(world["other_child"] not in e["child_ids"] for e in ealing)
    assert len(national) == 4
    assert {e["id"] for e in ealing} < {e["id"] for e in national}


def test_search_filters_by_child_practitioner_organisation_purpose_and_outcome(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    auditor = _national(factory)
    about_child = _all_events(client, auditor, child_id=world["child"])
    assert {e["action"] for e in about_child} == {"child:record:create", "child:enquiry:create"}
    by_gp = _all_events(client, auditor, subject="gp-1")
    assert [e["organisation"] for e in by_gp] == [world["gp"].code]
    by_org = _all_events(client, auditor, organisation=world["hospital"].code)
    assert [e["subject"] for e in by_org] == ["nurse-1"]
    purposeful = _all_events(client, auditor, purpose="safeguarding_concern", action="child:*")
    assert len(purposeful) == 4
    assert _all_events(client, auditor, outcome="refused", action="child:*") == []


def test_pages_follow_one_another_without_repeats_newest_first(
    client: TestClient, factory: Factory
) -> None:
    _world(client, factory)
    events = _all_events(client, _national(factory), action="child:*")
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times, reverse=True)
    assert len({e["id"] for e in events}) == len(events) == 4


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "bad_cursor"),
        ({"since": "2026-01-01T00:00:00"}, "naive_time"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "empty_window"),
        ({"outcome": "maybe"}, "invalid_input"),
        ({"limit": 0}, "invalid_input"),
        ({"limit": 501}, "invalid_input"),
        ({"child_id": "12"}, "invalid_input"),
        ({"subject": "a\x00b"}, "invalid_input"),
        ({"action": "child:\x1b*"}, "invalid_input"),
    ],
)
def test_bad_search_input_is_a_problem_document(
    client: TestClient, factory: Factory, params: dict[str, Any], code: str
) -> None:
    response = client.get("/v1/audit/events", params=params, headers=_national(factory))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_an_auditors_search_is_itself_an_audit_event_with_its_filter(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    client.get("/v1/audit/events", params={"child_id": world["child"]}, headers=_auditor(factory))
    row = factory.audit_rows()[-1]
    assert row["action"] == "audit:event:search"
    assert row["subject"] == "aud-1"
    assert row["detail"]["filter"] == {"child_id": world["child"]}
    assert [str(c) for c in row["child_ids"]] == [world["child"]]
    assert row["detail"]["returned"] == 3


def test_the_csv_export_has_the_selection_and_defuses_formulas(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    headers = _auditor(factory)
    client.get("/v1/audit/events", headers={**headers, "User-Agent": "=HYPERLINK(1)"})
    response = client.get("/v1/audit/events/export.csv", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["action"] for r in rows} >= {"child:record:create", "audit:event:search"}
    assert any(world["child"] in r["child_ids"].split(";") for r in rows)
    agents = [r["user_agent"] for r in rows if r["action"] == "audit:event:search"]
    assert agents == ["'=HYPERLINK(1)"]
    assert factory.audit_rows()[-1]["detail"]["format"] == "csv"


def test_the_fhir_export_is_a_bundle_of_valid_r4_audit_events(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    client.get("/v1/audit/events", headers={"Authorization": "Bearer not-a-token"})
    response = client.get("/v1/audit/events/export.fhir", headers=_national(factory))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = json.loads(response.text)
    Bundle.model_validate(bundle)
    resources = [entry["resource"] for entry in bundle["entry"]]
    # Four child requests, the refused token, and this export (recorded before it streams).
    assert len(resources) == 6
    assert resources[0]["subtype"][0]["code"] == "audit:event:export"
    for resource in resources:
        event = FhirAuditEvent.model_validate(resource)
        assert event.type is not None
        assert event.recorded is not None
        assert event.agent
        assert all(a.requestor is not None for a in event.agent)
        assert event.source is not None
        assert event.source.observer is not None
    enquiry = next(r for r in resources if r["subtype"][0]["code"] == "child:enquiry:create")
    assert enquiry["action"] == "E"
    assert enquiry["purposeOfEvent"][0]["coding"][0]["code"] == "safeguarding_concern"
    children = [e["what"]["identifier"]["value"] for e in enquiry["entity"][:-1]]
    assert children == [world["child"]]
    query = json.loads(base64.b64decode(enquiry["entity"][-1]["query"]))
    assert query == {
        "date_of_birth": "2016-02-11",
        "family_name": "Testchild",
        "given_names": "Aisha",
    }  # what was searched for
    refused = next(r for r in resources if r["outcome"] == "4")
    assert refused["agent"][0]["who"]["display"] == "unauthenticated caller"


def test_the_child_access_report_says_who_looked_when_from_where_and_why(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    response = client.get(
        f"/v1/audit/children/{world['child']}/accesses", headers=_auditor(factory)
    )
    assert response.status_code == 200, response.text
    accesses = response.json()["accesses"]
    assert [a["practitioner"]["subject"] for a in accesses] == ["nurse-1", "gp-1", "dm-e"]
    nurse = accesses[0]
    assert nurse["practitioner"]["organisation_name"] == world["hospital"].name
    assert nurse["purpose"] == "safeguarding_concern"
    assert nurse["purpose_text"] == "synthetic test enquiry"
    assert nurse["client_address"] == "testclient"
    row = factory.audit_rows()[-1]
    assert row["action"] == "audit:report:read"
    assert [str(c) for c in row["child_ids"]] == [world["child"]]


def test_an_auditor_cannot_report_on_another_authoritys_child(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    response = client.get(
        f"/v1/audit/children/{world['other_child']}/accesses", headers=_auditor(factory)
    )
    assert response.status_code == 404
    haringey = _auditor(factory, HARINGEY, sub="aud-h")
    assert (
        client.get(
            f"/v1/audit/children/{world['other_child']}/accesses", headers=haringey
        ).status_code
        == 200
    )


def test_the_practitioner_activity_report_counts_what_they_did(
    client: TestClient, factory: Factory
) -> None:
    world = _world(client, factory)
    gp_headers = factory.headers_for(world["gp"], roles=["practitioner"], sub="gp-1")
    client.post("/v1/enquiries", json={"family_name": "Nobody"}, headers=gp_headers)
    response = client.get(
        "/v1/audit/practitioners/activity",
        params={"issuer": "urn:index-service:local-development", "subject": "gp-1"},
        headers=_auditor(factory),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    counts = {(c["action"], c["outcome"]): c["count"] for c in body["counts"]}
    assert counts == {
        ("child:enquiry:create", "success"): 1,
        ("child:enquiry:create", "refused"): 1,
    }
    assert body["distinct_children"] == 1
    assert body["practitioner"]["organisation"] == world["gp"].code
    assert len(body["events"]["items"]) == 2


def test_the_verify_route_gives_the_clis_answer(
    client: TestClient,
    factory: Factory,
    db: Database,
    sealer_db: Database,
    settings: Settings,
    database_url: str,
) -> None:
    _world(client, factory)
    seal_all(sealer_db)
    Sealer(sealer_db, settings).checkpoint(utcnow())
    auditor = _auditor(factory)
    intact = client.get("/v1/audit/verify", headers=auditor)
    assert intact.status_code == 200, intact.text
    assert intact.json()["ok"] is True
    assert intact.json()["events_checked"] == 4
    with psycopg.connect(database_url, autocommit=True) as superuser:
        superuser.execute("SET session_replication_role = replica")
        victim = superuser.execute(
            "SELECT event_id::text FROM audit_seal WHERE position = 2"
        ).fetchone()
        assert victim is not None
        superuser.execute(
            "UPDATE audit_event SET purpose = 'curiosity' WHERE id = %s", (victim[0],)
        )
    broken = client.get("/v1/audit/verify", headers=auditor).json()
    assert broken["ok"] is False
    assert broken["first_bad"]["event_id"] == victim[0]
    assert broken["first_bad"]["position"] == 2
    # The quick walk starts after the checkpoint (position 4): it does not see this edit.
    quick = client.get("/v1/audit/verify", params={"incremental": True}, headers=auditor)
    assert quick.json()["verified_from"] == 4
    assert quick.json()["ok"] is True


def test_the_chain_is_verified_one_month_at_a_time(
    client: TestClient,
    factory: Factory,
    db: Database,
    sealer_db: Database,
    settings: Settings,
    database_url: str,
) -> None:
    from datetime import UTC, datetime

    from index_service.audit.retention import ensure_partitions

    ensure_partitions(db, datetime(2025, 5, 1, tzinfo=UTC), ahead=0)
    with psycopg.connect(database_url, autocommit=True) as owner:
        for day in (3, 4):
            owner.execute(
                "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
                " child_ids, method, route, request_id, instance, detail) VALUES"
                " (gen_random_uuid(), %s, 'child:record:read', 'success', 200, '{}', '{}',"
                " 'GET', '/', 'r', 'test', '{}')",
                (datetime(2025, 5, day, tzinfo=UTC),),
            )
    auditor = _auditor(factory)
    seal_all(sealer_db)
    Sealer(sealer_db, settings).checkpoint(utcnow())
    answer = client.get("/v1/audit/verify", params={"period": "2025-05"}, headers=auditor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True
    assert (answer.json()["period"], answer.json()["period_events"]) == ("2025-05", 2)
    wrong = client.get("/v1/audit/verify", params={"period": "2025-5"}, headers=auditor)
    assert wrong.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/audit/events",
        "/v1/audit/events/export.csv",
        "/v1/audit/reports/out-of-hours",
        "/v1/audit/verify",
    ],
)
def test_only_auditors_use_the_audit_routes(
    client: TestClient, factory: Factory, path: str
) -> None:
    for roles in (["data_manager"], ["practitioner"], ["designated_manager"]):
        response = client.get(path, headers=factory.headers(roles=roles))
        assert response.status_code == 403, (roles, response.text)
    admin = factory.headers(roles=["administrator"], type="index_operator")
    assert client.get(path, headers=admin).status_code == 403


def test_where_a_shielded_child_lives_stays_with_the_responsible_authority(
    client: TestClient, factory: Factory
) -> None:
    """Ealing shields a child and moves it to a secret address in Haringey: Haringey's
    auditor cannot find the child's events (the change of address among them), nor
    report on the child; Ealing's can."""
    ealing_dm = factory.headers_for(factory.organisation(), roles=["data_manager"], sub="dm-e")
    child = client.post("/v1/children", json=child_payload(), headers=ealing_dm).json()
    url = f"/v1/children/{child['id']}"
    shielded = client.put(f"{url}/shield", headers={**ealing_dm, "If-Match": '"1"'})
    assert shielded.status_code == 200, shielded.text
    secret = {
        "line1": "3 Secret Close",
        "town": "London",
        "postcode": "N17 6AB",
        "local_authority": HARINGEY,
        "from_date": "2026-01-01",
    }
    moved = client.patch(
        url,
        json={"addresses": [secret]},
        headers={**ealing_dm, "If-Match": shielded.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    haringey = _auditor(factory, HARINGEY, sub="aud-h")
    assert _all_events(client, haringey, child_id=child["id"]) == []
    exported = client.get("/v1/audit/events/export.csv", headers=haringey)
    assert "Secret Close" not in exported.text
    assert (
        client.get(f"/v1/audit/children/{child['id']}/accesses", headers=haringey).status_code
        == 404
    )
    ealing = _all_events(client, _auditor(factory), child_id=child["id"])
    assert "child:record:update" in {e["action"] for e in ealing}


def test_a_local_auditor_does_not_see_the_index_operators_staffs_events(
    client: TestClient, factory: Factory
) -> None:
    """The operator organisation carries a local authority code (Ealing's here), but its
    administrators' acts are the national auditors' only: not in Ealing's auditor's
    search, exports or practitioner activity report. An ordinary Ealing practitioner's
    events still are."""
    operator = factory.organisation(type="index_operator", local_authority=EALING)
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    listed = client.get("/v1/organisations", headers=admin)
    assert listed.status_code == 200, listed.text
    gp = factory.organisation(type="gp_practice", local_authority=EALING)
    gp_headers = factory.headers_for(gp, roles=["practitioner"], sub="gp-1")
    assert client.post("/v1/enquiries", json=BY_NAME, headers=gp_headers).status_code == 201
    ealing = _auditor(factory)
    seen = _all_events(client, ealing, action="admin:*")
    assert seen == []
    assert _all_events(client, ealing, organisation=operator.code) == []
    assert [e["subject"] for e in _all_events(client, ealing, action="child:*")] == ["gp-1"]
    for export in ("/v1/audit/events/export.csv", "/v1/audit/events/export.fhir"):
        exported = client.get(export, headers=ealing)
        assert exported.status_code == 200, exported.text
        assert "admin-1" not in exported.text
        assert "gp-1" in exported.text
    dev = "urn:index-service:local-development"
    activity = client.get(
        "/v1/audit/practitioners/activity",
        params={"issuer": dev, "subject": "admin-1"},
        headers=ealing,
    )
    assert activity.status_code == 200, activity.text
    assert activity.json()["counts"] == []
    national = _national(factory)
    assert [e["subject"] for e in _all_events(client, national, action="admin:*")] == ["admin-1"]
    theirs = client.get(
        "/v1/audit/practitioners/activity",
        params={"issuer": dev, "subject": "admin-1"},
        headers=national,
    )
    assert theirs.json()["counts"] == [
        {"action": "admin:organisation:read", "outcome": "success", "count": 1}
    ]


def test_a_local_auditor_does_not_see_a_national_auditors_look_at_their_child(
    client: TestClient, factory: Factory
) -> None:
    """A national auditor's child-scoped search names the child in its own event; that
    event is still the operator's staff's, and Ealing's auditor does not see it (though
    it is about Ealing's child). Ealing's own auditor's look at the same child is theirs."""
    world = _world(client, factory)
    child_id = world["child"]
    national = _national(factory)
    looked = client.get("/v1/audit/events", params={"child_id": child_id}, headers=national)
    assert looked.status_code == 200, looked.text
    ealing = _auditor(factory)
    mine = client.get("/v1/audit/events", params={"child_id": child_id}, headers=ealing)
    assert mine.status_code == 200, mine.text
    about_the_child = _all_events(client, ealing, child_id=child_id)
    assert "aud-1" in {e["subject"] for e in about_the_child}
    assert "nat-1" not in {e["subject"] for e in about_the_child}
    assert "nat-1" not in {e["subject"] for e in _all_events(client, ealing, action="audit:*")}
    assert "nat-1" in {e["subject"] for e in _all_events(client, national, child_id=child_id)}
