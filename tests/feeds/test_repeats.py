"""Rows of one feed about one new child make one entry (Laming R78), CSV and FHIR alike:
the same names and date of birth, the same NHS number, or the same row key. A later row
confidently the same child updates the entry the first made; one that is not waits for
review, naming it. The same feed sent again changes nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.feeds.records import NHS_NUMBER_SYSTEM
from index_service.feeds.repeats import Round
from index_service.matching.records import Person, PersonName
from tests.factories import EALING, Factory, nhs_number
from tests.feeds.conftest import agency_headers, csv_of, index_state
from tests.feeds.test_fhir_feed import FHIR, patient

CSV = {"Content-Type": "text/csv"}
NEW = {
    "source_record_id": "R-1",
    "given_names": "Zainab",
    "family_name": "Repeatchild",
    "date_of_birth": "2015-03-04",
    "address_line1": "3 Twice Road",
    "town": "London",
    "postcode": "W5 3BD",
    "responsible_authority": EALING,
}
NUMBER = nhs_number(4242)


def _entries(factory: Factory, family: str = "Repeatchild") -> list[Any]:
    with factory.db.session() as session:
        query = text("SELECT DISTINCT child_id FROM child_name WHERE family_name = :family")
        return [row[0] for row in session.execute(query, {"family": family})]


def _send(client: TestClient, headers: dict[str, str], body: bytes, kind: dict[str, str]) -> Any:
    response = client.post("/v1/feeds", content=body, headers={**headers, **kind})
    assert response.status_code == 200, response.text
    return response.json()


def _one_entry(client: TestClient, factory: Factory, report: dict[str, Any]) -> None:
    """One entry; the first row made it, the second updated it or waits for review
    naming it."""
    (entry,) = _entries(factory)
    first, second = report["rows"]
    assert (first["outcome"], first["child_id"]) == ("created", str(entry))
    if second["outcome"] == "updated":
        assert second["child_id"] == str(entry)
    else:
        assert second["outcome"] == "queued_for_review"
        manager = factory.data_manager()
        (review,) = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
        assert str(entry) in review["candidate_ids"]


SECOND_ROWS = {
    "same names and date of birth": {"source_record_id": "R-2", "gp_ods_code": "B82005"},
    "same names and date of birth, another address": {
        "source_record_id": "R-2",
        "address_line1": "8 Other Street",
        "postcode": "W13 0AA",
    },
    "same NHS number": {"source_record_id": "R-2", "given_names": "Zaynab", "nhs_number": NUMBER},
    "same row key": {"gp_ods_code": "B82005"},
}


@pytest.mark.parametrize("second", SECOND_ROWS.values(), ids=SECOND_ROWS.keys())
def test_two_csv_rows_about_one_new_child_make_one_entry(
    client: TestClient, factory: Factory, second: dict[str, str]
) -> None:
    agency, _ = agency_headers(factory)
    first = {**NEW, "nhs_number": NUMBER} if "nhs_number" in second else NEW
    body = csv_of([first, {**first, **second}])

    report = _send(client, agency, body, CSV)

    _one_entry(client, factory, report)
    before = index_state(factory)
    again = _send(client, agency, body, CSV)
    assert again["counts"]["unchanged"] == 2
    assert index_state(factory) == before


def test_one_row_key_about_two_different_children_waits_for_review(
    client: TestClient, factory: Factory
) -> None:
    """The agency's one record sent twice in a feed, the second time as nobody the first
    resembles: one entry, and the second row waits for its data managers."""
    agency, _ = agency_headers(factory)
    other = {
        **NEW,
        "given_names": "Gethin",
        "family_name": "Elsewhere",
        "date_of_birth": "2011-09-30",
    }
    report = _send(client, agency, csv_of([NEW, other]), CSV)

    first, second = report["rows"]
    assert first["outcome"] == "created"
    assert second["outcome"] == "queued_for_review"
    assert _entries(factory, "Elsewhere") == []
    (review,) = client.get("/v1/feeds/reviews", headers=factory.data_manager()).json()["items"]
    assert review["reason"] == "several_rows_for_one_child"
    assert review["candidate_ids"][0] == first["child_id"]


def _bundle(*patients: dict[str, Any]) -> bytes:
    entries = [{"fullUrl": f"Patient/{p['id']}", "resource": p} for p in patients]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


ADDRESS = [{"line": ["3 Twice Road"], "city": "London", "postalCode": "W5 3BD"}]
IDENTIFIED = [{"system": NHS_NUMBER_SYSTEM, "value": NUMBER}]
SECOND_PATIENTS = {
    "same names and date of birth": patient(
        "F-2", "Zainab", "Repeatchild", "2015-03-04", address=ADDRESS
    ),
    "same NHS number": patient(
        "F-2", "Zaynab", "Repeatchild", "2015-03-04", address=ADDRESS, identifier=IDENTIFIED
    ),
    "same row key": patient("F-1", "Zainab", "Repeatchild", "2015-03-04"),
}


@pytest.mark.parametrize("second", SECOND_PATIENTS.values(), ids=SECOND_PATIENTS.keys())
def test_two_patients_of_a_bundle_about_one_new_child_make_one_entry(
    client: TestClient, factory: Factory, second: dict[str, Any]
) -> None:
    agency, _ = agency_headers(factory)
    first = patient("F-1", "Zainab", "Repeatchild", "2015-03-04", address=ADDRESS)
    if "identifier" in second:
        first["identifier"] = IDENTIFIED
    body = _bundle(first, second)

    report = _send(client, agency, body, FHIR)

    _one_entry(client, factory, report)
    before = index_state(factory)
    assert _send(client, agency, body, FHIR)["counts"]["unchanged"] == 2
    assert index_state(factory) == before


def _person(given: str, family: str, born: str, *, nhs: str | None = None) -> Person:
    return Person(
        names=(PersonName(given, family),),
        date_of_birth=date.fromisoformat(born),
        postcodes=("W5 3BD",),
        nhs_number=nhs,
    )


def test_a_round_holds_back_the_rows_the_resolver_could_find_an_earlier_entry_for() -> None:
    batch = Round()
    batch.applied("R-1", _person("Zainab", "Repeatchild", "2015-03-04", nhs=NUMBER), created=True)
    holds = batch.holds
    assert holds("R-2", _person("Zainab", "Repeatchild", "2015-03-04"), creates=True)
    assert holds("R-2", _person("Zaynab", "Repeatchild", "2015-03-04"), creates=True)
    assert holds("R-2", _person("Amira", "Other", "2012-01-01", nhs=NUMBER), creates=True)
    assert holds("R-1", _person("Amira", "Other", "2012-01-01"), creates=False)  # row key
    # Nobody the resolver could take for her: written in the same round.
    assert not holds("R-3", _person("Amira", "Other", "2012-01-01"), creates=True)
    assert not holds("R-3", _person("Zainab", "Repeatchild", "2015-03-04"), creates=False)
