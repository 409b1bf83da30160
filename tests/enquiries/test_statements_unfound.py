"""What an enquiry that shows no entry costs the database, counted through the real app:
the SQL statements of one `not_found` and of one `possible_matches` enquiry by a caller
whose organisation and front door the process has already cached. Every statement is a
round trip on a held connection; the issue's aim is at most five for an enquiry that
raises no alert. Pinned so that a new round trip on this path is a decision, not an
accident (counts only: no time is ever asserted)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from index_service.database import Database
from tests.factories import EALING, Factory, child_payload

# Finds the standard child by blocking (its family name, W5 2AA), yet none fits: a
# `not_found` whose matching loads and scores a candidate.
UNKNOWN = {
    "family_name": "Testchild",
    "given_names": "Zebedee",
    "date_of_birth": "2011-01-01",
    "postcode": "W5 2AA",
}
# Names and a date of birth alone never disclose the entry: a summary to open.
NAMESAKE = {"family_name": "Testchild", "given_names": "Aisha", "date_of_birth": "2016-02-11"}


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _enquire(
    client: TestClient, db: Database, headers: dict[str, str], body: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    with _statements(db) as sent:
        answer = client.post("/v1/enquiries", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json(), sent


def _listed(sent: list[str]) -> str:
    return "\n".join(f"{i + 1}. {s[:160]}" for i, s in enumerate(sent))


def _front_door_and_turn_before_the_contacts(sent: list[str]) -> None:
    """The front door's organisation from the directory's cache, not the table; the
    enquirer's turn (R3's advisory lock) in the statement that looks up where the child
    lives, a statement before the one that reads the earlier contacts (a statement sees
    only what was committed when it began)."""
    assert not any("FROM organisation" in s for s in sent), _listed(sent)
    (turn,) = [i for i, s in enumerate(sent) if "pg_advisory_xact_lock" in s]
    (read,) = [i for i, s in enumerate(sent) if s.startswith("SELECT enquiry_contact.")]
    assert turn < read, _listed(sent)
    assert "enquiry_contact" not in sent[turn]


def _warm(client: TestClient, factory: Factory) -> dict[str, str]:
    """The standard child kept in Ealing, whose children's social care takes part; a
    practitioner whose first enquiry (a `not_found` in Ealing) has filled the caches."""
    factory.organisation(local_authority=EALING)  # Ealing's front door
    kept = client.post(
        "/v1/children",
        json=child_payload(nhs_number_status="verified_trace"),
        headers=factory.data_manager(),
    )
    assert kept.status_code == 201, kept.text
    headers = factory.practitioner()
    warm = client.post(
        "/v1/enquiries", json={**UNKNOWN, "family_name": "Warmingup"}, headers=headers
    )
    assert warm.json()["outcome"] == "not_found", warm.text
    return headers


NOT_FOUND_FIRST = 8
NOT_FOUND_REPEAT = 8
NOT_FOUND_NO_CANDIDATE = 8
POSSIBLE = 5


def test_a_not_found_enquiry_and_its_repeat(
    client: TestClient, factory: Factory, db: Database
) -> None:
    headers = _warm(client, factory)
    first, sent = _enquire(client, db, headers, UNKNOWN)
    assert first["outcome"] == "not_found"
    assert first["front_door"]["contact"] is not None  # Ealing's, where W5 2AA lies
    assert len(sent) == NOT_FOUND_FIRST, _listed(sent)
    _front_door_and_turn_before_the_contacts(sent)
    again, sent = _enquire(client, db, headers, UNKNOWN)  # the same contact, seen again
    assert again["outcome"] == "not_found"
    assert len(sent) == NOT_FOUND_REPEAT, _listed(sent)
    assert factory.count("enquiry_contact") == 2  # the warm-up's and this one's


def test_a_not_found_enquiry_with_no_candidate(
    client: TestClient, factory: Factory, db: Database
) -> None:
    headers = _warm(client, factory)
    body = {
        "family_name": "Nobodyhere",
        "given_names": "Zed",
        "date_of_birth": "2012-03-04",
        "lives_in_local_authority": EALING,
    }
    answer, sent = _enquire(client, db, headers, body)
    assert (answer["outcome"], answer["candidates"]) == ("not_found", [])
    assert len(sent) == NOT_FOUND_NO_CANDIDATE, _listed(sent)
    _front_door_and_turn_before_the_contacts(sent)


def test_a_possible_matches_enquiry(client: TestClient, factory: Factory, db: Database) -> None:
    headers = _warm(client, factory)
    answer, sent = _enquire(client, db, headers, NAMESAKE)
    assert answer["outcome"] == "possible_matches"
    assert len(answer["candidates"]) == 1
    assert len(sent) == POSSIBLE, _listed(sent)
