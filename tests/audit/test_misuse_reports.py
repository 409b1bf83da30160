"""Each misuse report, on one seeded week of activity, returns the cases planted for it
and nothing else. The week is 2 to 8 March 2026 (GMT, so London time is UTC, and no bank
holiday); everything the set-up does through the API happens now, outside that week."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.alerts.models import Alert
from index_service.audit.models import AuditEvent
from index_service.children.models import ShieldedAccess
from index_service.database import Database
from index_service.involvements.models import Involvement
from index_service.main import create_app
from index_service.organisations.models import Organisation
from index_service.settings import DEV_ISSUER, Settings
from tests.factories import EALING, HARINGEY, Factory, child_payload, other_child

WEEK = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-09T00:00:00Z"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def watchful(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The service with a many-children threshold of 3 distinct children an hour."""
    app = create_app(settings.model_copy(update={"anomaly_distinct_children_per_hour": 3}), db=db)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Week:
    children: dict[str, str]
    orgs: dict[str, Organisation]
    planted: dict[str, set[str]] = field(default_factory=dict)  # report -> event/alert ids


class Planter:
    def __init__(self, db: Database, orgs: dict[str, Organisation]) -> None:
        self.db = db
        self.orgs = orgs

    def event(
        self,
        who: str,
        org: str,
        action: str,
        when: datetime,
        children: list[str],
        **detail: Any,
    ) -> str:
        event = AuditEvent(
            occurred_at=when,
            action=action,
            outcome="success",
            status_code=200,
            issuer=DEV_ISSUER,
            subject=who,
            actor_name=f"Synthetic {who}",
            organisation=self.orgs[org].code,
            roles=["practitioner"],
            child_ids=[uuid.UUID(c) for c in children],
            purpose="safeguarding_concern",
            purpose_text="planted",
            method="GET",
            route="/planted",
            request_id=detail.pop("request_id", uuid.uuid4().hex),
            instance="planted",
            detail=detail,
        )
        with self.db.transaction() as session:
            session.add(event)
        return str(event.id)

    def alert(self, due: datetime, acknowledged: datetime | None, child: str) -> str:
        alert = Alert(
            rule="R1",
            reason="child_enquired_about",
            child_id=uuid.UUID(child),
            recipient_team="designated_managers",
            recipient_authority=EALING,
            occurred_at=due,
            created_at=due,
            due_at=due,
            acknowledged_at=acknowledged,
            dedupe_key=uuid.uuid4().hex,
        )
        with self.db.transaction() as session:
            session.add(alert)
        return str(alert.id)


@pytest.fixture
def week(watchful: TestClient, factory: Factory, db: Database) -> Week:
    orgs = {
        "ealing_csc": factory.organisation(),
        "ealing_gp": factory.organisation(type="gp_practice"),
        "haringey_hospital": factory.organisation(type="hospital", local_authority=HARINGEY),
    }
    dm = factory.headers_for(orgs["ealing_csc"], roles=["data_manager"], sub="dm-setup")
    haringey_dm = factory.headers_for(
        factory.organisation(local_authority=HARINGEY), roles=["data_manager"], sub="dm-h"
    )
    haringey_address = [
        {
            "line1": "2 Synthetic Road",
            "town": "London",
            "postcode": "N17 6AB",
            "local_authority": HARINGEY,
            "from_date": "2020-01-01",
        }
    ]

    def kept(headers: dict[str, str], payload: dict[str, Any]) -> str:
        response = watchful.post("/v1/children", json=payload, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    children = {
        "A": kept(dm, child_payload()),
        "B": kept(dm, other_child()),
        "E": kept(dm, other_child()),
        "F": kept(dm, other_child()),
        "C": kept(
            haringey_dm,
            other_child(responsible_authority=HARINGEY, addresses=haringey_address),
        ),
        "D": kept(
            haringey_dm,
            other_child(responsible_authority=HARINGEY, addresses=haringey_address),
        ),
    }
    with db.transaction() as session:  # the Ealing GP works with D
        session.add(
            Involvement(
                child_id=uuid.UUID(children["D"]),
                organisation_id=orgs["ealing_gp"].id,
                service="General practice",
                practitioner_name="Synthetic GP",
                start_date=date(2025, 1, 1),
            )
        )
    plant = Planter(db, orgs)
    w = Week(children=children, orgs=orgs)
    c = children
    opened = "child:enquiry:open"

    # Ordinary work: in hours, in area, led somewhere. None of it is reported.
    plant.event("gp-1", "ealing_gp", opened, at(3, 10), [c["A"]])
    plant.event("gp-1", "ealing_gp", opened, at(4, 11), [c["D"]])  # Haringey's, but involved
    plant.event("gp-2", "ealing_gp", "child:enquiry:create", at(5, 9), [c["A"]], outcome="match")
    plant.event(
        "gp-2",
        "ealing_gp",
        "child:enquiry:create",
        at(5, 9, 30),
        [c["A"]],
        outcome="possible_matches",
        enquiry_id="E2",
    )
    plant.event("gp-2", "ealing_gp", opened, at(5, 9, 35), [c["A"]], enquiry_id="E2")
    for hour, child in zip((9, 10, 12, 14), "ABEF", strict=True):  # four children, four hours
        plant.event("gp-3", "ealing_gp", opened, at(6, hour, 30), [c[child]])

    # Out of hours: late on a Tuesday, and on a Saturday.
    w.planted["out-of-hours"] = {
        plant.event("gp-1", "ealing_gp", opened, at(3, 23, 30), [c["A"]]),
        plant.event("gp-1", "ealing_gp", opened, at(7, 11), [c["A"]]),
    }
    # Out of area, with no involvement: a Haringey nurse opens Ealing's A; the Ealing GP
    # opens Haringey's C. The nurse's look at shielded B is both shielded and out of area.
    shielded_look = plant.event(
        "nurse-1", "haringey_hospital", opened, at(3, 15), [c["B"]], request_id="req-shielded"
    )
    w.planted["out-of-area"] = {
        plant.event("nurse-1", "haringey_hospital", opened, at(4, 10), [c["A"]]),
        plant.event("gp-1", "ealing_gp", opened, at(4, 12), [c["C"]]),
        shielded_look,
    }
    with db.transaction() as session:
        session.add(
            ShieldedAccess(
                child_id=uuid.UUID(c["B"]),
                responsible_authority=EALING,
                accessed_at=at(3, 15),
                issuer=DEV_ISSUER,
                subject="nurse-1",
                organisation_code=orgs["haringey_hospital"].code,
                action=opened,
                request_id="req-shielded",
            )
        )
    w.planted["shielded-accesses"] = {shielded_look}
    # Searches that led nowhere: nobody found; possible matches never opened.
    w.planted["fruitless-searches"] = {
        plant.event(
            "gp-2", "ealing_gp", "child:enquiry:create", at(5, 10), [], outcome="not_found"
        ),
        plant.event(
            "gp-2",
            "ealing_gp",
            "child:enquiry:create",
            at(5, 11),
            [c["A"]],
            outcome="possible_matches",
            enquiry_id="E1",
        ),
    }
    # Many children: four distinct children within forty minutes (threshold 3).
    for minute, child in zip((0, 10, 20, 30), "ABEF", strict=True):
        last = plant.event("dm-x", "ealing_csc", "child:record:read", at(5, 14, minute), [c[child]])
    w.planted["many-children"] = {last}
    # Alerts: one never acknowledged, one acknowledged late; one in time, one out of the week.
    plant.alert(at(3, 10), at(3, 9), c["A"])
    plant.alert(datetime(2026, 4, 1, 10, tzinfo=UTC), None, c["A"])
    w.planted["overdue-alerts"] = {
        plant.alert(at(4, 10), None, c["A"]),
        plant.alert(at(4, 10), at(4, 12), c["A"]),
    }
    return w


def _national(factory: Factory) -> dict[str, str]:
    org = factory.organisation(type="index_operator")
    return factory.headers_for(org, roles=["national_auditor"], sub="nat-1")


def _report(client: TestClient, headers: dict[str, str], name: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/audit/reports/{name}", params=WEEK, headers=headers)
    assert response.status_code == 200, response.text
    cases: list[dict[str, Any]] = response.json()["cases"]
    return cases


@pytest.mark.parametrize(
    "name",
    [
        "shielded-accesses",
        "fruitless-searches",
        "out-of-hours",
        "out-of-area",
        "many-children",
    ],
)
def test_each_event_report_returns_the_planted_cases_and_nothing_else(
    watchful: TestClient, factory: Factory, week: Week, name: str
) -> None:
    cases = _report(watchful, _national(factory), name)
    assert {c["event_id"] for c in cases} == week.planted[name]
    assert len(cases) == len(week.planted[name])


def test_the_overdue_alerts_report_returns_the_planted_alerts_and_nothing_else(
    watchful: TestClient, factory: Factory, week: Week
) -> None:
    cases = _report(watchful, _national(factory), "overdue-alerts")
    assert {c["alert_id"] for c in cases} == week.planted["overdue-alerts"]


def test_the_many_children_case_says_how_many_and_who(
    watchful: TestClient, factory: Factory, week: Week
) -> None:
    (case,) = _report(watchful, _national(factory), "many-children")
    assert case["practitioner"]["subject"] == "dm-x"
    assert case["note"].startswith("4 distinct children")


def test_the_out_of_area_case_names_only_the_unexplained_children(
    watchful: TestClient, factory: Factory, week: Week
) -> None:
    cases = _report(watchful, _national(factory), "out-of-area")
    by_event = {c["event_id"]: c for c in cases}
    assert all(len(c["child_ids"]) == 1 for c in by_event.values())
    assert week.children["D"] not in {c["child_ids"][0] for c in cases}


def test_an_auditor_gets_only_their_authoritys_cases(
    watchful: TestClient, factory: Factory, week: Week
) -> None:
    haringey = factory.headers_for(
        factory.organisation(local_authority=HARINGEY), roles=["auditor"], sub="aud-h"
    )
    ealing = factory.headers_for(factory.organisation(), roles=["auditor"], sub="aud-e")
    # gp-1's late looks: an Ealing GP looking at an Ealing child.
    assert _report(watchful, haringey, "out-of-hours") == []
    assert {c["event_id"] for c in _report(watchful, ealing, "out-of-hours")} == (
        week.planted["out-of-hours"]
    )
    assert _report(watchful, haringey, "overdue-alerts") == []


def test_a_report_is_itself_an_audit_event(
    watchful: TestClient, factory: Factory, week: Week
) -> None:
    _report(watchful, _national(factory), "out-of-hours")
    row = factory.audit_rows()[-1]
    assert row["action"] == "audit:report:read"
    assert row["detail"]["report"] == "out-of-hours"
    assert row["detail"]["cases"] == 2


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2025-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, 422),
        ({"since": "2026-03-01T00:00:00"}, 422),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, 422),
    ],
)
def test_a_report_window_must_be_sane(
    watchful: TestClient, factory: Factory, params: dict[str, str], status: int
) -> None:
    response = watchful.get(
        "/v1/audit/reports/out-of-hours", params=params, headers=_national(factory)
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


def test_an_unknown_report_is_a_problem(watchful: TestClient, factory: Factory) -> None:
    response = watchful.get("/v1/audit/reports/everything", headers=_national(factory))
    assert response.status_code == 422


def test_bank_holidays_are_out_of_hours_and_british_summer_time_is_london_time(
    watchful: TestClient, factory: Factory, db: Database
) -> None:
    gp = factory.organisation(type="gp_practice")
    plant = Planter(db, {"gp": gp})
    child = str(uuid.uuid4())
    opened = "child:enquiry:open"
    plant.event("gp-1", "gp", opened, datetime(2026, 4, 2, 11, tzinfo=UTC), [child])  # Thursday
    # 07:30 UTC is 08:30 in London in summer time: in hours.
    plant.event("gp-1", "gp", opened, datetime(2026, 4, 7, 7, 30, tzinfo=UTC), [child])
    planted = {
        plant.event("gp-1", "gp", opened, datetime(2026, 4, 3, 11, tzinfo=UTC), [child]),
        plant.event("gp-1", "gp", opened, datetime(2026, 4, 6, 11, tzinfo=UTC), [child]),
        # 17:30 UTC is 18:30 in London: out of hours.
        plant.event("gp-1", "gp", opened, datetime(2026, 4, 8, 17, 30, tzinfo=UTC), [child]),
    }
    response = watchful.get(
        "/v1/audit/reports/out-of-hours",
        params={"since": "2026-04-01T00:00:00Z", "until": "2026-04-09T00:00:00Z"},
        headers=_national(factory),
    )
    assert response.status_code == 200, response.text
    cases = response.json()["cases"]
    assert {c["event_id"] for c in cases} == planted
    assert "Friday 03 April" in cases[0]["note"]
