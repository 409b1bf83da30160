"""The SQL statements an enquiry that finds one child (`match`) and the opening of a
candidate cost, counted through the real app: a regression guard for the hot path (the
issue's aim is at most five for an enquiry that raises no alert). A count is
deterministic; time never is, so nothing here is timed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from index_service.database import Database
from index_service.organisations.models import Organisation
from tests.factories import VALID_NHS_NUMBER, Factory, child_payload

# A match: the rate look and directory number; matching's one statement (blocking, the
# candidates' rows with their names and addresses, the name frequencies); the enquiry
# row written with the whole entry read (`children/entry.py`); the counts; the audit
# row. Opening: the rate look; the enquiry; the entry; the counts; the audit row.
# (Before the entry and matching were one statement each: 17 (16 with involvements: the
# front door then unread) and 13.)
MATCH = {"nothing recorded": 5, "involved and flagged": 5}
OPEN = 5


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements sent through the app's engine meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@pytest.fixture
def child_id(client: TestClient, factory: Factory) -> str:
    created = client.post(
        "/v1/children",
        json=child_payload(nhs_number_status="verified_trace"),
        headers=factory.data_manager(),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _busy(client: TestClient, factory: Factory, child_id: str, school: Organisation) -> None:
    """A school's involvement (not a key worker: no R1 alert) and its concern flag."""
    teacher = factory.headers_for(school, roles=["practitioner"], sub="teacher")
    found = client.post("/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=teacher)
    assert found.json()["outcome"] == "match", found.text
    involved = client.post(
        f"/v1/children/{child_id}/involvements", json={"service": "Pastoral"}, headers=teacher
    )
    assert involved.status_code == 201, involved.text
    flagged = client.post(
        f"/v1/children/{child_id}/flags",
        json={"kind": "concern_raised", "area_of_concern": "parenting_capacity"},
        headers=teacher,
    )
    assert flagged.status_code == 201, flagged.text


def _match(client: TestClient, db: Database, headers: dict[str, str]) -> tuple[Any, list[str]]:
    with statements(db) as seen:
        answer = client.post(
            "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=headers
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "match"
    return answer.json(), seen


@pytest.mark.parametrize("case", list(MATCH))
def test_a_match_that_raises_no_alert_costs_its_statements(
    client: TestClient, factory: Factory, db: Database, child_id: str, case: str
) -> None:
    busy = case != "nothing recorded"
    if busy:
        _busy(client, factory, child_id, factory.organisation(type="school"))
    headers = factory.practitioner()
    _match(client, db, headers)  # the first fills the directory cache for this caller
    answer, seen = _match(client, db, headers)
    assert answer.get("alerts_raised") is None
    assert bool(answer["child"]["involvements"]) is busy
    assert len(seen) == MATCH[case], "\n".join(s[:120] for s in seen)


def test_opening_a_candidate_costs_its_statements(
    client: TestClient, factory: Factory, db: Database, child_id: str
) -> None:
    _busy(client, factory, child_id, factory.organisation(type="school"))
    headers = factory.practitioner()
    enquiry, _ = _match(client, db, headers)
    with statements(db) as seen:
        opened = client.get(f"/v1/enquiries/{enquiry['id']}/children/{child_id}", headers=headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["involvements"]
    assert len(seen) == OPEN, "\n".join(s[:120] for s in seen)
