"""The duplicate guard on POST /v1/children: one record per child (Laming R78). A record
the index may already hold is declined with 409 and its candidates; the caller creates it
only by confirming, per candidate, that it is a different child, and that is audited."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.factories import EALING, HARINGEY, Factory, child_payload, other_child


def _create(client: TestClient, headers: dict[str, str], payload: dict[str, Any]) -> Any:
    return client.post("/v1/children", json=payload, headers=headers)


def _kept(client: TestClient, factory: Factory, **changes: Any) -> str:
    created = _create(client, factory.data_manager(), child_payload(**changes))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_the_same_child_twice_is_declined_with_the_candidate_and_nothing_is_created(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory)
    declined = _create(client, factory.data_manager(), child_payload())
    assert declined.status_code == 409
    assert declined.headers["content-type"] == "application/problem+json"
    problem = declined.json()
    assert problem["code"] == "possible_duplicate"
    assert [c["child_id"] for c in problem["candidates"]] == [existing]
    # Nobody said the number is verified: strong evidence, not proof (model v4).
    assert problem["candidates"][0]["explanation"]["fields"]["nhs_number"]["level"] == (
        "agree_unverified"
    )
    assert "Location" not in declined.headers
    assert factory.count("child") == 1
    assert factory.count("child_name") == 2  # the existing child's two names only
    row = factory.audit_rows()[-1]
    assert (row["status_code"], row["outcome"], row["reason"]) == (
        409,
        "refused",
        "possible_duplicate",
    )
    assert [str(i) for i in row["child_ids"]] == [existing]  # the candidate shown


def test_confirming_a_different_child_creates_it_and_the_confirmation_is_audited(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory, nhs_number=None, upn=None)
    twin = child_payload(nhs_number=None, upn=None, confirmed_distinct_from=[existing])
    created = _create(client, factory.data_manager(), twin)
    assert created.status_code == 201, created.text
    assert "confirmed_distinct_from" not in created.json()
    row = factory.audit_rows()[-1]
    assert row["detail"]["confirmed_distinct_from"] == [existing]
    # Both children: an auditor asking who looked at the existing one finds this too.
    assert [str(i) for i in row["child_ids"]] == [created.json()["id"], existing]
    assert "confirmed_distinct_from" not in created.json()["provenance"]


def test_confirming_some_other_id_does_not_pass_the_guard(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory)
    payload = child_payload(confirmed_distinct_from=[str(uuid.uuid4())])
    declined = _create(client, factory.data_manager(), payload)
    assert declined.status_code == 409
    assert [c["child_id"] for c in declined.json()["candidates"]] == [existing]


def test_a_record_under_a_recorded_alias_is_a_possible_duplicate(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(
        client,
        factory,
        names=[
            {"kind": "legal", "given_names": "Victoria", "family_name": "Climbié"},
            {"kind": "alias", "given_names": "Anna", "family_name": "Kouao"},
        ],
        nhs_number=None,
        upn=None,
    )
    anna = child_payload(
        names=[{"kind": "legal", "given_names": "Anna", "family_name": "Kouao"}],
        nhs_number=None,
        upn=None,
    )
    declined = _create(client, factory.data_manager(), anna)
    assert declined.status_code == 409
    assert [c["child_id"] for c in declined.json()["candidates"]] == [existing]


def test_a_different_child_is_created_without_a_question(
    client: TestClient, factory: Factory
) -> None:
    _kept(client, factory)
    assert _create(client, factory.data_manager(), other_child()).status_code == 201
    assert factory.count("child") == 2


def test_someone_outside_the_authority_learns_of_no_candidate(
    client: TestClient, factory: Factory
) -> None:
    _kept(client, factory)
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    refused = _create(client, haringey, child_payload())  # an Ealing child, Ealing address
    assert refused.status_code == 403
    assert refused.json()["code"] == "outside_your_authority"
    assert "candidates" not in refused.json()
    assert factory.audit_rows()[-1]["child_ids"] == []


def test_another_authority_sees_a_candidate_summary_within_its_view(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory)
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    moved = child_payload(
        responsible_authority=HARINGEY,
        addresses=[
            {
                "line1": "2 New Road",
                "postcode": "N17 0AA",
                "local_authority": HARINGEY,
                "from_date": "2026-01-01",
            }
        ],
    )
    declined = _create(client, haringey, moved)
    assert declined.status_code == 409
    (candidate,) = declined.json()["candidates"]
    assert candidate["child_id"] == existing
    assert candidate["family_name"] == "Testchild"
    assert "1 Synthetic Row" not in declined.text
    assert "Morgan" not in declined.text


def test_a_shielded_candidate_shows_only_that_it_exists_and_the_look_is_kept(
    client: TestClient, factory: Factory
) -> None:
    ealing = factory.organisation(local_authority=EALING)
    manager = factory.headers_for(ealing, roles=["data_manager"], sub="dm")
    created = _create(client, manager, child_payload())
    existing = created.json()["id"]
    shielded = client.put(
        f"/v1/children/{existing}/shield", headers={**manager, "If-Match": created.headers["ETag"]}
    )
    assert shielded.status_code == 200
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    declined = _create(client, haringey, child_payload(responsible_authority=HARINGEY))
    assert declined.status_code == 409
    assert declined.json()["candidates"] == [{"child_id": existing, "shielded": True}]
    with factory.db.session() as session:
        looks = session.execute(text("SELECT child_id, action FROM shielded_access")).all()
    assert [(str(c), a) for c, a in looks] == [(existing, "child:record:create")]


def test_an_agreeing_nhs_number_cannot_be_confirmed_away(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory)
    other_name = child_payload(
        names=[{"kind": "legal", "given_names": "Zainab", "family_name": "Unrelated"}],
        date_of_birth="2012-12-12",
        confirmed_distinct_from=[existing],
    )  # the same NHS number (and UPN) as the existing child
    declined = _create(client, factory.data_manager(), other_name)
    assert declined.status_code == 409
    assert [c["child_id"] for c in declined.json()["candidates"]] == [existing]
    assert factory.count("child") == 1


def test_an_agency_feed_is_told_of_a_possible_duplicate_but_not_which_child(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory)
    feed = factory.headers(roles=["service_account"], type="gp_practice")
    declined = _create(client, feed, child_payload())
    assert declined.status_code == 409
    assert declined.json()["code"] == "possible_duplicate"
    assert declined.json()["candidates"] == []
    assert existing not in declined.text
    assert "Testchild" not in declined.text
    row = factory.audit_rows()[-1]
    assert [str(i) for i in row["child_ids"]] == [existing]  # the auditors still see which
    with factory.db.session() as session:
        assert session.execute(text("SELECT count(*) FROM shielded_access")).scalar_one() == 0


def test_an_agency_feed_cannot_confirm_a_different_child(
    client: TestClient, factory: Factory
) -> None:
    existing = _kept(client, factory, nhs_number=None, upn=None)
    feed = factory.headers(roles=["service_account"], type="gp_practice")
    refused = _create(
        client, feed, child_payload(nhs_number=None, upn=None, confirmed_distinct_from=[existing])
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "confirmation_needs_a_person"
    assert factory.count("child") == 1


def test_the_same_record_sent_twice_at_once_is_created_once(
    client: TestClient, factory: Factory
) -> None:
    """A feed's retry racing its first try: creations of children born the same day are
    serialised, so the second sees the first and is declined."""
    manager = factory.data_manager()
    start = threading.Barrier(2)

    def send() -> int:
        start.wait()
        return _create(client, manager, child_payload()).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(lambda _: send(), range(2)))
    assert statuses == [201, 409]
    assert factory.count("child") == 1


def _address(line1: str, postcode: str, town: str, authority: str = EALING) -> dict[str, Any]:
    return {"line1": line1, "town": town, "postcode": postcode, "local_authority": authority}


def test_the_same_names_and_date_in_another_district_are_a_possible_duplicate(
    client: TestClient, factory: Factory
) -> None:
    """Whatever the address: a child moves, and a new record from the new authority
    must not make a second child of them."""
    existing = _kept(client, factory, nhs_number=None, upn=None)
    moved = child_payload(
        nhs_number=None,
        upn=None,
        addresses=[_address("4 Far Street", "LS6 2AA", "Leeds")],
    )
    declined = _create(client, factory.data_manager(), moved)
    assert declined.status_code == 409, declined.text
    (candidate,) = declined.json()["candidates"]
    assert candidate["child_id"] == existing
    explanation = candidate["explanation"]
    assert explanation["duplicate_reason"] == "same_names_and_date_of_birth"
    assert explanation["fields"]["address"]["level"] == "different"
    assert factory.count("child") == 1


def test_a_twin_is_not_merged_silently(client: TestClient, factory: Factory) -> None:
    """Another given name, the same family name, date of birth and home: asked about
    (409, with why), and created only when a person confirms it is a different child."""
    existing = _kept(client, factory, nhs_number=None, upn=None)
    twin = child_payload(
        names=[{"kind": "legal", "given_names": "Zainab", "family_name": "Testchild"}],
        nhs_number=None,
        upn=None,
    )
    declined = _create(client, factory.data_manager(), twin)
    assert declined.status_code == 409, declined.text
    (candidate,) = declined.json()["candidates"]
    assert candidate["child_id"] == existing
    assert candidate["explanation"]["duplicate_reason"] == "score_at_or_above_threshold"
    assert candidate["explanation"]["fields"]["given_name"]["level"] == "different"
    confirmed = _create(
        client, factory.data_manager(), {**twin, "confirmed_distinct_from": [existing]}
    )
    assert confirmed.status_code == 201, confirmed.text
    assert factory.count("child") == 2
