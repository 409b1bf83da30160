"""One user opening more distinct children in an hour than the threshold leaves one
anomaly event for the auditors, once an hour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from index_service.audit.anomalies import MANY_CHILDREN
from index_service.database import Database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import Factory, nhs_number, other_child


@pytest.fixture
def watchful(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"anomaly_distinct_children_per_hour": 3}), db=db)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _anomalies(factory: Factory) -> list[dict[str, object]]:
    return [r for r in factory.audit_rows() if r["action"] == MANY_CHILDREN]


def test_opening_many_distinct_children_in_an_hour_is_recorded_once(
    watchful: TestClient, factory: Factory
) -> None:
    headers = factory.data_manager()
    keeper = factory.data_manager()
    locations = [
        watchful.post(
            "/v1/children",
            json=other_child(la_reference=f"R{i}"),
            headers=keeper,
        ).headers["Location"]
        for i in range(5)
    ]
    for location in locations[:3] + locations[:3]:  # the same three, twice: not over
        assert watchful.get(location, headers=headers).status_code == 200
    assert _anomalies(factory) == []
    watchful.get(locations[3], headers=headers)  # the fourth distinct child
    (anomaly,) = _anomalies(factory)
    assert anomaly["detail"] == {
        "distinct_children": 4,
        "threshold": 3,
        "window": "1 hour",
        "email": "user-1@test.example",  # the actor's, as on every event of theirs
    }
    assert anomaly["subject"] == "user-1"
    watchful.get(locations[4], headers=headers)
    assert len(_anomalies(factory)) == 1


def _practitioner(factory: Factory, sub: str) -> dict[str, str]:
    hospital = factory.organisation(type="hospital")
    return factory.headers_for(hospital, roles=["practitioner"], sub=sub)


def test_match_answers_disclose_children_and_count_towards_the_many_children_anomaly(
    watchful: TestClient, factory: Factory
) -> None:
    """A `match` answer carries the entry: four of them about distinct children (over
    the threshold of three) leave one anomaly event, and the auditors' many-children
    report names the user. Summaries among `possible_matches` are not openings: a user
    shown as many of them leaves no event and is not reported."""
    keeper = factory.data_manager()
    children = []
    for i in range(4):
        # Traced numbers: only a verified number decides a match (model v4).
        payload = other_child(nhs_number=nhs_number(i), nhs_number_status="verified_trace")
        created = watchful.post("/v1/children", json=payload, headers=keeper)
        assert created.status_code == 201, created.text
        children.append(payload)
    browser = _practitioner(factory, "browser-1")
    for payload in children:
        name = payload["names"][0]
        shown = watchful.post(
            "/v1/enquiries",
            json={
                "family_name": name["family_name"],
                "given_names": name["given_names"],
                "year_of_birth": int(payload["date_of_birth"][:4]),
            },
            headers=browser,
        )
        assert shown.json()["outcome"] == "possible_matches", shown.text
    assert _anomalies(factory) == []
    bulk = _practitioner(factory, "bulk-1")
    for payload in children:
        answer = watchful.post(
            "/v1/enquiries", json={"nhs_number": payload["nhs_number"]}, headers=bulk
        )
        assert answer.json()["outcome"] == "match", answer.text
        assert "child" in answer.json()
    (anomaly,) = _anomalies(factory)
    assert anomaly["subject"] == "bulk-1"
    assert anomaly["detail"] == {
        "distinct_children": 4,
        "threshold": 3,
        "window": "1 hour",
        "email": "bulk-1@test.example",
    }
    national = factory.headers(roles=["national_auditor"], type="index_operator")
    report = watchful.get("/v1/audit/reports/many-children", headers=national)
    assert report.status_code == 200, report.text
    assert [c["practitioner"]["subject"] for c in report.json()["cases"]] == ["bulk-1"]


def test_under_the_threshold_an_opening_does_not_read_the_users_audit_trail(
    watchful: TestClient, factory: Factory, db: Database
) -> None:
    """The count of openings per hour bounds the distinct children: a user under the
    threshold costs one upsert, not a read of their hour of audit events (a busy service
    account's thousands)."""
    keeper = factory.data_manager()
    location = watchful.post("/v1/children", json=other_child(), headers=keeper).headers["Location"]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):  # three openings: at the threshold, not over it
            assert watchful.get(location, headers=keeper).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "FROM audit_event" in s]
    assert _anomalies(factory) == []
