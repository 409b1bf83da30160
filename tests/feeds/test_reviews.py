"""The review queue (`feeds/reviews.py`): a row confidently matched to a child the sender
may not update waits for that child's responsible authority (whose data managers may act
on it), never for the authority the row names, and the sender learns no more than the
duplicate guard of `POST /v1/children` tells it; "same child" follows a merge and refuses
an archived child; a resolved review keeps no row; destroyed children take their reviews
and row keys with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from index_service.alerts import scheduler
from index_service.feeds.models import FeedReview, FeedRowKey
from index_service.settings import Settings
from tests.factories import EALING, HARINGEY, Factory, child_payload, other_child
from tests.feeds.conftest import STANDARD_ROW, agency_headers, csv_of

# The report's keys for any row: nothing in it says why a row was queued.
REPORT_KEYS = {"row", "source_record_id", "outcome", "child_id", "fields", "gaps", "problems"}


def _feed(client: TestClient, headers: dict[str, str], rows: list[dict[str, str]]) -> Any:
    response = client.post(
        "/v1/feeds", content=csv_of(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    return response


def _reviews(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    listed = client.get("/v1/feeds/reviews", headers=headers)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def _resolve(client: TestClient, headers: dict[str, str], review_id: str, **body: Any) -> Any:
    return client.post(f"/v1/feeds/reviews/{review_id}/resolve", json=body, headers=headers)


def _shielded_child(client: TestClient, manager: dict[str, str]) -> str:
    child_id = str(client.post("/v1/children", json=child_payload(), headers=manager).json()["id"])
    shield = client.put(f"/v1/children/{child_id}/shield", headers={**manager, "If-Match": '"1"'})
    assert shield.status_code == 200, shield.text
    return child_id


def test_a_shielded_match_waits_for_its_own_authority_not_the_one_the_row_names(
    client: TestClient, factory: Factory
) -> None:
    ealing = factory.data_manager()
    child_id = _shielded_child(client, ealing)
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    agency, _ = agency_headers(factory)
    # The agency's row says Haringey is responsible: Haringey must not learn of the record.
    row = {**STANDARD_ROW, "source_record_id": "SH-1", "responsible_authority": HARINGEY}

    response = _feed(client, agency, [row])

    (sent,) = response.json()["rows"]
    assert set(sent) == REPORT_KEYS
    assert (sent["outcome"], sent["child_id"], sent["fields"]) == ("queued_for_review", None, [])
    assert child_id not in response.text
    # No more than the duplicate guard tells the same agency of the same record: that it
    # may be a duplicate, never which child nor that it is shielded.
    guard = client.post(
        "/v1/children",
        json=child_payload(responsible_authority=HARINGEY),
        headers=agency,
    )
    assert (guard.status_code, guard.json()["candidates"]) == (409, [])
    assert child_id not in guard.text
    assert "shield" not in guard.text.lower()
    # Haringey's data managers see nothing; Ealing's decide, and may act.
    assert _reviews(client, haringey) == []
    (review,) = _reviews(client, ealing)
    assert (review["reason"], review["candidate_ids"]) == ("shielded_record", [child_id])
    same = _resolve(client, ealing, review["id"], decision="same_child", child_id=child_id)
    assert same.status_code == 200, same.text
    assert same.json()["child_id"] == child_id


def test_a_data_managers_feed_never_learns_another_authoritys_shielded_record(
    client: TestClient, factory: Factory
) -> None:
    ealing = factory.data_manager()
    child_id = _shielded_child(client, ealing)
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)

    response = _feed(
        client,
        haringey,
        [{**STANDARD_ROW, "source_record_id": "SH-2", "responsible_authority": HARINGEY}],
    )

    (sent,) = response.json()["rows"]
    assert (sent["outcome"], sent["child_id"]) == ("queued_for_review", None)
    assert child_id not in response.text
    # The sender's own authority's queue holds nothing naming the shielded record.
    assert _reviews(client, haringey) == []
    assert [r["reason"] for r in _reviews(client, ealing)] == ["shielded_record"]


def test_another_authoritys_child_in_a_data_managers_feed_waits_for_that_authority(
    client: TestClient, factory: Factory
) -> None:
    ealing = factory.data_manager()
    child_id = client.post("/v1/children", json=child_payload(), headers=ealing).json()["id"]
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)

    _feed(
        client,
        haringey,
        [{**STANDARD_ROW, "source_record_id": "OA-1", "responsible_authority": HARINGEY}],
    )

    assert _reviews(client, haringey) == []
    (review,) = _reviews(client, ealing)
    assert (review["reason"], review["candidate_ids"]) == ("outside_your_authority", [child_id])
    same = _resolve(client, ealing, review["id"], decision="same_child", child_id=child_id)
    assert same.status_code == 200, same.text


def _queued(factory: Factory, candidates: list[str], *, source: str = "Q-1") -> str:
    """A feed row the matcher could not decide, as `feeds/service.py` queues one."""
    record = other_child(responsible_authority=EALING)
    record["names"] = [{"kind": "legal", "given_names": "Zara", "family_name": "Feedrow"}]
    review = FeedReview(
        feed_id=uuid.uuid4(),
        organisation_code="FEEDORG1",
        source_record_id=source,
        responsible_authority=EALING,
        record={"record": record, "groups": ["names"]},
        candidate_ids=[uuid.UUID(c) for c in candidates],
        reason="possible_match",
    )
    with factory.db.transaction() as session:
        session.add(review)
    return str(review.id)


def _stored(factory: Factory, review_id: str) -> FeedReview:
    with factory.db.session() as session:
        review = session.exec(select(FeedReview).where(FeedReview.id == uuid.UUID(review_id))).one()
        session.expunge(review)
    return review


def _execute(factory: Factory, sql: str, **params: object) -> None:
    with factory.db.transaction() as session:
        session.execute(text(sql), params)


def test_the_same_child_as_a_candidate_merged_since_is_the_entry_it_was_merged_into(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    merged, survivor = (
        client.post("/v1/children", json=other_child(), headers=manager).json()["id"]
        for _ in range(2)
    )
    review_id = _queued(factory, [merged])
    _execute(
        factory,
        "UPDATE child SET status = 'merged', merged_into = :s WHERE id = :m",
        s=survivor,
        m=merged,
    )

    same = _resolve(client, manager, review_id, decision="same_child", child_id=merged)

    assert same.status_code == 200, same.text
    assert same.json()["child_id"] == survivor
    record = client.get(f"/v1/children/{survivor}", headers=manager).json()
    assert "Zara" in {n["given_names"] for n in record["names"]}
    assert record["provenance"]["names"]["organisation"] == "FEEDORG1"


def test_an_archived_child_takes_no_row(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=other_child(), headers=manager).json()["id"]
    review_id = _queued(factory, [child_id])
    _execute(
        factory,
        "UPDATE child SET status = 'archived', archived_at = now() WHERE id = :c",
        c=child_id,
    )

    refused = _resolve(client, manager, review_id, decision="same_child", child_id=child_id)

    assert (refused.status_code, refused.json()["code"]) == (409, "child_archived")
    assert _stored(factory, review_id).status == "open"
    # Deciding it otherwise is still open to the data manager.
    ignored = _resolve(client, manager, review_id, decision="ignored")
    assert ignored.status_code == 200, ignored.text


def test_a_resolved_review_keeps_no_row_only_who_decided_what(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=other_child(), headers=manager).json()["id"]
    ignored, same = _queued(factory, [child_id]), _queued(factory, [child_id], source="Q-2")

    assert _resolve(client, manager, ignored, decision="ignored").status_code == 200
    answer = _resolve(client, manager, same, decision="same_child", child_id=child_id)
    assert answer.status_code == 200, answer.text

    assert answer.json()["record"] == {}
    for review_id, status in ((ignored, "ignored"), (same, "same_child")):
        kept = _stored(factory, review_id)
        assert kept.record == {}
        assert kept.status == status
        assert kept.resolved_by
        assert kept.resolved_at is not None
        assert kept.candidate_ids == [uuid.UUID(child_id)]
    assert _stored(factory, same).child_id == uuid.UUID(child_id)


def test_a_destroyed_childs_reviews_and_row_keys_go_with_it(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    agency, _ = agency_headers(factory)
    (created,) = _feed(client, agency, [STANDARD_ROW]).json()["rows"]  # born 2016-02-11
    going = created["child_id"]
    manager = factory.data_manager()
    staying = client.post(
        "/v1/children", json=other_child(date_of_birth="2021-05-05"), headers=manager
    ).json()["id"]
    _queued(factory, [staying, going])  # the row may be about the destroyed child
    kept = _queued(factory, [staying], source="Q-2")
    with factory.db.transaction() as session:
        for source in ("Q-1", "Q-2"):
            session.add(
                FeedRowKey(
                    organisation_code="FEEDORG1",
                    source_record_id=source,
                    content_hash="h",
                    feed_id=uuid.uuid4(),
                    outcome="queued_for_review",
                )
            )
    resolved = _queued(factory, [going], source="Q-3")
    _execute(
        factory,
        "UPDATE feed_review SET status = 'same_child', child_id = :c, record = '{}' WHERE id = :r",
        c=going,
        r=resolved,
    )

    scheduler.tick(db=factory.db, settings=settings, now=datetime(2034, 2, 11, 7, tzinfo=UTC))
    assert (
        scheduler.tick(
            db=factory.db, settings=settings, now=datetime(2040, 2, 12, 7, tzinfo=UTC)
        ).destroyed
        == 1
    )

    with factory.db.session() as session:
        reviews = session.execute(text("SELECT id FROM feed_review")).scalars().all()
        keys = session.execute(
            text("SELECT source_record_id, child_id FROM feed_row_key ORDER BY 1")
        ).all()
    assert [str(r) for r in reviews] == [kept]
    assert keys == [("Q-2", None)]
