"""One user opening more distinct children in an hour than the threshold leaves one
anomaly event for the auditors, once an hour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from index_service.audit.anomalies import MANY_CHILDREN
from index_service.database import Database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import Factory, other_child


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
    assert anomaly["detail"] == {"distinct_children": 4, "threshold": 3, "window": "1 hour"}
    assert anomaly["subject"] == "user-1"
    watchful.get(locations[4], headers=headers)
    assert len(_anomalies(factory)) == 1
