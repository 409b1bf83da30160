"""A CSV feed through `POST /v1/feeds`, against PostgreSQL: a confident match updates the
entry with the supplier's provenance, an unknown child is created, a look-alike is queued
for the responsible authority's data managers, a malformed row is reported while the rest
is applied, and the same feed sent again changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.matching.normalise import family_name_key
from tests.factories import EALING, Factory, child_payload, create_confirming, nhs_number
from tests.feeds.conftest import STANDARD_ROW, agency_headers, csv_of, index_state

CSV = {"Content-Type": "text/csv"}


def _lookalikes(client: TestClient, headers: dict[str, str]) -> list[str]:
    """Two children with one name and date of birth and no identifiers: a row naming that
    child fits both equally, so the matcher cannot say which."""
    twin = child_payload(
        names=[{"kind": "legal", "given_names": "Farah", "family_name": "Lookalike"}],
        date_of_birth="2012-05-06",
        nhs_number=None,
        upn=None,
    )
    return [create_confirming(client, headers, twin) for _ in range(2)]


def _rows() -> list[dict[str, str]]:
    return [
        {**STANDARD_ROW, "gp_ods_code": "B82005", "gp_phone": "020 7946 0100"},
        {
            "source_record_id": "SRC-2",
            "given_names": "Gethin",
            "family_name": "Newchild",
            "date_of_birth": "2014-07-03",
            "address_line1": "4 Feed Street",
            "postcode": "W5 3BB",
            "carer_name": "Rhian Newchild",
            "carer_relationship": "mother",
            "responsible_authority": EALING,
        },
        {**STANDARD_ROW, "source_record_id": "SRC-3", "date_of_birth": "2016-13-45"},
        {
            "source_record_id": "SRC-4",
            "given_names": "Farah",
            "family_name": "Lookalike",
            "date_of_birth": "2012-05-06",
            "postcode": "W5 9ZZ",
            "address_line1": "8 Elsewhere Road",
            "responsible_authority": EALING,
        },
    ]


def _send(client: TestClient, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    response = client.post("/v1/feeds", content=body, headers={**headers, **CSV})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_a_csv_feed_updates_creates_queues_and_reports(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    existing = client.post("/v1/children", json=child_payload(), headers=manager)
    assert existing.status_code == 201
    standard = existing.json()["id"]
    twins = _lookalikes(client, manager)
    agency, agency_code = agency_headers(factory)

    report = _send(client, agency, csv_of(_rows()))

    outcomes = {r["source_record_id"] or f"row {r['row']}": r for r in report["rows"]}
    assert report["counts"] == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "queued_for_review": 1,
        "rejected": 1,
        "rows": 4,
    }
    updated, created, rejected, queued = (outcomes[f"SRC-{n}"] for n in range(1, 5))
    assert (updated["outcome"], updated["child_id"]) == ("updated", standard)
    assert "gp_practice" in updated["fields"]
    assert created["outcome"] == "created"
    assert rejected["outcome"] == "rejected"
    assert [p["field"] for p in rejected["problems"]] == ["date_of_birth"]
    assert "2016-13-45" not in str(rejected)  # a problem names the field, not the value
    assert (queued["outcome"], queued["child_id"]) == ("queued_for_review", None)
    # The gaps of the rows as sent go back to the supplier (Laming R12).
    assert "school_unknown" in updated["gaps"]
    assert {"gp_unknown", "school_unknown", "nhs_number_unknown"} <= set(created["gaps"])
    assert "carers_unknown" not in created["gaps"]

    # The confident match: the GP the agency supplied, with its provenance.
    child = client.get(f"/v1/children/{standard}", headers=manager).json()
    assert child["gp_practice"]["ods_code"] == "B82005"
    assert child["provenance"]["gp_practice"]["organisation"] == agency_code
    assert child["provenance"]["names"]["organisation"] == agency_code
    assert child.get("version", True)
    # Fields it did not supply keep their own provenance.
    assert child["provenance"]["education"]["organisation"] != agency_code

    # The new child, with the carer the row named.
    new = client.get(f"/v1/children/{created['child_id']}", headers=manager).json()
    assert new["names"][0]["given_names"] == "Gethin"
    assert [c["name"] for c in new["carers"]["people"]] == ["Rhian Newchild"]
    assert new["provenance"]["addresses"]["organisation"] == agency_code

    # The look-alike waits for Ealing's data managers, with both candidates.
    listed = client.get("/v1/feeds/reviews", headers=manager).json()
    assert listed["total"] == 1
    (review,) = listed["items"]
    assert review["source_record_id"] == "SRC-4"
    assert review["reason"] == "possible_match"
    assert sorted(review["candidate_ids"]) == sorted(twins)


def test_the_same_feed_sent_twice_changes_nothing(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    assert client.post("/v1/children", json=child_payload(), headers=manager).status_code == 201
    _lookalikes(client, manager)
    agency, _ = agency_headers(factory)
    body = csv_of(_rows())
    _send(client, agency, body)
    before = index_state(factory)
    feeds_before = factory.count("feed")

    again = _send(client, agency, body)

    assert again["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "queued_for_review": 0,
        "rejected": 1,  # reported again: nothing of it was kept
        "rows": 4,
    }
    assert index_state(factory) == before
    assert factory.count("feed") == feeds_before + 1  # the feed itself is on record


def test_one_audit_row_per_feed_and_the_children_it_touched(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    standard = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    agency, agency_code = agency_headers(factory)
    before = {r["id"] for r in factory.audit_rows()}

    report = _send(client, agency, csv_of(_rows()[:2]))

    rows = [r for r in factory.audit_rows() if r["id"] not in before]
    (feed_row,) = [r for r in rows if r["action"] == "child:feed:submit"]
    assert feed_row["detail"]["feed_id"] == report["feed_id"]
    assert feed_row["detail"]["counts"]["updated"] == 1
    assert feed_row["organisation"] == agency_code
    (applied,) = [r for r in rows if r["action"] == "child:feed:apply"]
    assert applied["detail"]["feed_id"] == report["feed_id"]
    created = next(r["child_id"] for r in report["rows"] if r["outcome"] == "created")
    assert {str(c) for c in applied["child_ids"]} == {standard, created}

    # "Who touched this child" finds the feed.
    auditor = factory.headers(roles=["auditor"])
    accesses = client.get(f"/v1/audit/children/{standard}/accesses", headers=auditor)
    assert accesses.status_code == 200, accesses.text
    assert "child:feed:apply" in {e["action"] for e in accesses.json()["accesses"]}


def test_a_data_manager_reviews_queued_rows(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    twins = _lookalikes(client, manager)
    agency, agency_code = agency_headers(factory)
    _send(client, agency, csv_of([_rows()[3], {**_rows()[3], "source_record_id": "SRC-5"}]))
    items = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
    first, second = sorted(items, key=lambda r: str(r["source_record_id"]))

    same = client.post(
        f"/v1/feeds/reviews/{first['id']}/resolve",
        json={"decision": "same_child", "child_id": twins[0]},
        headers=manager,
    )
    assert same.status_code == 200, same.text
    assert (same.json()["status"], same.json()["child_id"]) == ("same_child", twins[0])
    child = client.get(f"/v1/children/{twins[0]}", headers=manager).json()
    assert child["provenance"]["addresses"]["organisation"] == agency_code
    assert [a["postcode"] for a in child["addresses"] if a["current"]] == ["W5 9ZZ"]

    different = client.post(
        f"/v1/feeds/reviews/{second['id']}/resolve",
        json={"decision": "different_child"},
        headers=manager,
    )
    assert different.status_code == 200, different.text
    made = different.json()["child_id"]
    assert made not in twins
    assert client.get(f"/v1/children/{made}", headers=manager).status_code == 200

    again = client.post(
        f"/v1/feeds/reviews/{second['id']}/resolve", json={"decision": "ignored"}, headers=manager
    )
    assert again.status_code == 409
    assert client.get("/v1/feeds/reviews", headers=manager).json()["total"] == 0
    resolutions = [r for r in factory.audit_rows() if r["route"].endswith("/resolve")]
    assert [r["child_ids"] for r in resolutions if r["outcome"] == "success"] == [
        [__import__("uuid").UUID(twins[0])],
        [__import__("uuid").UUID(made)],
    ]


def test_a_review_names_one_of_its_candidates(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    _lookalikes(client, manager)
    other = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    agency, _ = agency_headers(factory)
    _send(client, agency, csv_of([_rows()[3]]))
    (review,) = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
    refused = client.post(
        f"/v1/feeds/reviews/{review['id']}/resolve",
        json={"decision": "same_child", "child_id": other},
        headers=manager,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "not_a_candidate"
    # Another authority's data manager does not see the review at all.
    haringey = factory.headers(roles=["data_manager"], local_authority="E09000014")
    assert client.get("/v1/feeds/reviews", headers=haringey).json()["total"] == 0
    hidden = client.post(
        f"/v1/feeds/reviews/{review['id']}/resolve", json={"decision": "ignored"}, headers=haringey
    )
    assert hidden.status_code == 404


def test_a_feed_says_how_far_it_vouches_for_nhs_numbers_and_keeps_name_counts(
    client: TestClient, factory: Factory
) -> None:
    """A number an agency's system traced is `trusted_feed` (the sender's word: decisive
    in matching); one it did not is `unverified` (evidence only); a data manager's feed's
    traced number is `verified_trace`, as their own trace through the API is, and an
    agency's word does not replace it. The names a feed writes count towards model v4's
    term frequencies, as the API's writes do."""
    agency, _code = agency_headers(factory)
    traced = {
        "source_record_id": "NHS-1",
        "given_names": "Ottoline",
        "family_name": "Feedcount",
        "date_of_birth": "2013-03-03",
        "nhs_number": nhs_number(501),
        "nhs_number_verified": "true",
        "address_line1": "1 Count Row",
        "postcode": "W5 3BB",
        "responsible_authority": EALING,
    }
    untraced = {
        **traced,
        "source_record_id": "NHS-2",
        "given_names": "Peregrine",
        "date_of_birth": "2011-04-04",
        "nhs_number": nhs_number(502),
        "nhs_number_verified": "false",
    }
    report = _send(client, agency, csv_of([traced, untraced]))
    assert report["counts"]["created"] == 2, [r["problems"] for r in report["rows"]]
    with factory.db.session() as session:
        statuses = dict(
            session.execute(
                text("SELECT nhs_number, nhs_number_status FROM child WHERE nhs_number IS NOT NULL")
            ).all()
        )
        counts = dict(
            session.execute(
                text("SELECT token, count FROM term_frequency WHERE kind = 'family'")
            ).all()
        )
    assert statuses == {nhs_number(501): "trusted_feed", nhs_number(502): "unverified"}
    assert counts[family_name_key("Feedcount")] == 2

    theirs = {
        **traced,
        "source_record_id": "NHS-3",
        "given_names": "Wilhelmina",
        "date_of_birth": "2012-05-05",
        "nhs_number": nhs_number(503),
    }
    assert _send(client, factory.data_manager(), csv_of([theirs]))["counts"]["created"] == 1
    again = _send(client, agency, csv_of([{**theirs, "gp_ods_code": "B82005"}]))
    assert again["counts"]["updated"] == 1, again["rows"]

    def status_of(number: str) -> str:
        with factory.db.session() as session:
            held = session.execute(
                text("SELECT nhs_number_status FROM child WHERE nhs_number = :n"), {"n": number}
            )
            return str(held.scalar_one())

    assert status_of(nhs_number(503)) == "verified_trace"
