"""Per-user rate limits on searches and reads: 429 with Retry-After, audited; shared by
every instance because they are counted in PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from index_service.database import Database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import VALID_NHS_NUMBER, Factory, child_payload, nhs_number, other_child


@pytest.fixture
def strict_app(settings: Settings, db: Database) -> FastAPI:
    strict = settings.model_copy(
        update={"rate_limit_searches": 2, "rate_limit_reads": 3, "rate_limit_window_seconds": 600}
    )
    return create_app(strict, db=db)


@pytest.fixture
def strict(strict_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(strict_app, raise_server_exceptions=False) as test_client:
        yield test_client


def _four_reads_in_one_window(
    strict: TestClient, factory: Factory, csc: Any, location: str
) -> tuple[list[int], dict[str, str]]:
    """Four reads of one record by reader-1 (and their headers), all in one minute's
    window (`rate_limit_window_seconds`): if the minute turned while they were made (the
    count starts again in a new window), again as another reader, whose count starts
    from nothing."""
    for sub in ("reader-1", "reader-1-again"):
        headers = factory.headers_for(csc, roles=["data_manager"], sub=sub)
        minute = time.time() // 60
        statuses = [strict.get(location, headers=headers).status_code for _ in range(4)]
        if time.time() // 60 == minute:
            break
    return statuses, headers


def test_reads_over_the_limit_get_429_with_retry_after(
    strict: TestClient, factory: Factory
) -> None:
    csc = factory.organisation()
    headers = factory.headers_for(csc, roles=["data_manager"], sub="reader-1")
    colleague = factory.headers_for(csc, roles=["data_manager"], sub="reader-2")
    location = strict.post("/v1/children", json=child_payload(), headers=headers).headers[
        "Location"
    ]
    statuses, headers = _four_reads_in_one_window(strict, factory, csc, location)
    assert statuses == [200, 200, 200, 429]
    refused = strict.get(location, headers=headers)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert "Testchild" not in refused.text
    assert factory.audit_rows()[-1]["reason"] == "rate_limited"
    # Creating is not a read, and another user has a count of their own.
    assert strict.post("/v1/children", json=other_child(), headers=headers).status_code == 201
    assert strict.get(location, headers=colleague).status_code == 200


def test_searches_over_the_limit_get_429(strict: TestClient, factory: Factory) -> None:
    headers = factory.practitioner()
    search = {"nhs_number": VALID_NHS_NUMBER}
    statuses = [
        strict.post("/v1/enquiries", json=search, headers=headers).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert factory.count("enquiry") == 2


def test_creating_records_counts_as_searching(strict: TestClient, factory: Factory) -> None:
    """The duplicate guard runs the matcher and may show candidates: another door to a
    search, so it shares the search limit."""
    headers = factory.data_manager()
    statuses = [
        strict.post("/v1/children", json=other_child(), headers=headers).status_code
        for _ in range(2)
    ]
    search = strict.post("/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=headers)
    assert (statuses, search.status_code) == ([201, 201], 429)
    assert factory.count("child") == 2


def test_an_oversized_body_is_413_before_any_limit(strict: TestClient, factory: Factory) -> None:
    headers = factory.practitioner()
    body = b'{"family_name": "' + b"x" * 70_000 + b'"}'
    response = strict.post(
        "/v1/enquiries", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_changing_a_record_counts_as_reading_it(strict: TestClient, factory: Factory) -> None:
    """A change answers with the record, so re-saving cannot get round the read limit."""
    headers = factory.data_manager()
    created = strict.post("/v1/children", json=child_payload(), headers=headers)
    location, etag = created.headers["Location"], created.headers["ETag"]
    statuses = []
    for _ in range(4):
        response = strict.patch(
            location, json={"la_reference": "R1"}, headers={**headers, "If-Match": etag}
        )
        statuses.append(response.status_code)
        etag = response.headers.get("ETag", etag)
    assert statuses == [200, 200, 200, 429]


def test_match_answers_spend_the_read_budget(
    settings: Settings, db: Database, factory: Factory
) -> None:
    """A `match` answer carries the entry, so it is a read as well as a search: with two
    reads a window, the third match is 429 and discloses nothing. Searches that show
    only summaries (`possible_matches`, `not_found`) spend no read."""
    limited = settings.model_copy(
        update={"rate_limit_searches": 100, "rate_limit_reads": 2, "rate_limit_window_seconds": 600}
    )
    keeper = factory.data_manager()
    with TestClient(create_app(limited, db=db), raise_server_exceptions=False) as client:
        numbers = []
        for i in range(3):
            # Traced numbers: a match by the number alone needs a verified one (v4).
            payload = other_child(
                nhs_number=nhs_number(100 + i), nhs_number_status="verified_trace"
            )
            assert client.post("/v1/children", json=payload, headers=keeper).status_code == 201
            numbers.append(payload["nhs_number"])
        headers = factory.practitioner()
        for _ in range(3):
            nobody = client.post(
                "/v1/enquiries", json={"nhs_number": nhs_number(200)}, headers=headers
            )
            assert nobody.json()["outcome"] == "not_found", nobody.text
        answers = [
            client.post("/v1/enquiries", json={"nhs_number": n}, headers=headers) for n in numbers
        ]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert [a.json().get("outcome") for a in answers[:2]] == ["match", "match"]
        assert answers[2].json()["code"] == "rate_limited"
        assert "child" not in answers[2].json()
        assert factory.audit_rows()[-1]["reason"] == "rate_limited"


def test_a_match_counts_its_search_read_and_openings_in_one_statement(
    client: TestClient, factory: Factory, db: Database
) -> None:
    """A `match` answer is a search, a read and an opening (the many-children anomaly's
    count): three rows of the table, added to in one round trip at the end of the work,
    each total still enforced (the read budget above) and the openings' with the hour
    before (the anomaly tests)."""
    keeper = factory.data_manager()
    # A traced number: only a verified one decides a match on its own (model v4).
    payload = other_child(nhs_number=nhs_number(300), nhs_number_status="verified_trace")
    assert client.post("/v1/children", json=payload, headers=keeper).status_code == 201
    ed = factory.organisation(type="emergency_department")
    headers = factory.headers_for(ed, roles=["practitioner"], sub="counted-1")
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        answer = client.post(
            "/v1/enquiries", json={"nhs_number": payload["nhs_number"]}, headers=headers
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert answer.json()["outcome"] == "match", answer.text
    counting = [s for s in statements if "INTO rate_window" in s]
    assert len(counting) == 1
    with db.session() as session:
        buckets = session.execute(
            text("SELECT bucket, hits FROM rate_window WHERE principal LIKE '% counted-1'")
        ).all()
    assert sorted(buckets) == [("opened", 1), ("read", 1), ("search", 1)]


@pytest.mark.parametrize("url", ["/v1/data-quality/gaps?limit=200", "/v1/feeds/reviews"])
def test_data_manager_lists_of_children_count_as_reads(
    strict: TestClient, factory: Factory, url: str
) -> None:
    """A page of the gaps report names up to 200 children, and the feed rows under review
    show their candidates: both spend the read limit, as opening a record does."""
    headers = factory.data_manager()
    statuses = [strict.get(url, headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert factory.audit_rows()[-1]["reason"] == "rate_limited"
