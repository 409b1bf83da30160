"""Archive at the age limit and destruction after the retention period, driven by the
scheduler with a controllable clock (no waiting); a legal hold stops destruction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.alerts import scheduler
from index_service.children.retention import years_before
from index_service.settings import Settings
from tests.factories import (
    VALID_NHS_NUMBER,
    Factory,
    child_payload,
    create_confirming,
    other_child,
)
from tests.matching.test_frequencies import recount, stored

BORN = "2016-02-11"
EVE_OF_18 = datetime(2034, 2, 10, 23, 0, tzinfo=UTC)
AT_18 = datetime(2034, 2, 11, 6, 0, tzinfo=UTC)
EVE_OF_DESTRUCTION = datetime(2040, 2, 11, 5, 0, tzinfo=UTC)
AFTER_SIX_YEARS = datetime(2040, 2, 11, 7, 0, tzinfo=UTC)


def _count(factory: Factory, sql: str, **params: object) -> int:
    with factory.db.session() as session:
        return int(session.execute(text(sql), params).scalar_one())


def _setup(client: TestClient, factory: Factory) -> tuple[str, dict[str, str], dict[str, str]]:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw")
    child_id = create_confirming(client, dm, child_payload())
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Child protection", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    return child_id, dm, key_worker


def test_a_record_is_archived_at_18_its_key_worker_told_and_enquiries_no_longer_find_it(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    child_id, dm, key_worker = _setup(client, factory)
    young = create_confirming(
        client,
        dm,
        child_payload(
            names=[{"kind": "legal", "given_names": "Young", "family_name": "Testchild"}],
            date_of_birth="2017-06-01",
            nhs_number=None,
            upn=None,
        ),
    )
    assert scheduler.tick(db=factory.db, settings=settings, now=EVE_OF_18).archived == 0
    assert client.get(f"/v1/children/{child_id}", headers=dm).json()["status"] == "active"

    assert scheduler.tick(db=factory.db, settings=settings, now=AT_18).archived == 1
    record = client.get(f"/v1/children/{child_id}", headers=dm).json()
    assert record["status"] == "archived"  # its data managers still read it
    assert client.get(f"/v1/children/{young}", headers=dm).json()["status"] == "active"
    answer = client.post(
        "/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=factory.practitioner()
    ).json()
    assert answer["outcome"] == "not_found"
    told = [
        a
        for a in client.get("/v1/alerts", headers=key_worker).json()["items"]
        if a["reason"] == "record_archived"
    ]
    assert [(a["rule"], a["child_id"]) for a in told] == [("R4", child_id)]
    [event] = [r for r in factory.audit_rows() if r["action"] == "child:record:archive"]
    assert event["child_ids"] == [uuid.UUID(child_id)]
    # A second tick archives nothing again.
    assert scheduler.tick(db=factory.db, settings=settings, now=AT_18).archived == 0


def test_a_record_known_only_to_its_year_of_birth_is_archived_from_the_years_end(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    child_id = create_confirming(
        client, dm, child_payload(date_of_birth="2016-01-01", date_of_birth_precision="year")
    )
    late_in_year = datetime(2034, 12, 30, 12, 0, tzinfo=UTC)
    assert scheduler.tick(db=factory.db, settings=settings, now=late_in_year).archived == 0
    new_year = datetime(2034, 12, 31, 12, 0, tzinfo=UTC)
    assert scheduler.tick(db=factory.db, settings=settings, now=new_year).archived == 1
    assert client.get(f"/v1/children/{child_id}", headers=dm).json()["status"] == "archived"


def test_an_archived_record_is_destroyed_after_the_period_leaving_a_tombstone(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    child_id, dm, _ = _setup(client, factory)
    raised = client.post(
        f"/v1/children/{child_id}/flags",
        json={"kind": "concern_raised", "area_of_concern": "parenting_capacity"},
        headers=factory.headers(roles=["social_worker"]),
    )
    assert raised.status_code == 201, raised.text
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    assert scheduler.tick(db=factory.db, settings=settings, now=EVE_OF_DESTRUCTION).destroyed == 0
    assert client.get(f"/v1/children/{child_id}", headers=dm).status_code == 200

    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 1
    assert client.get(f"/v1/children/{child_id}", headers=dm).status_code == 404
    for table in ("child", "child_name", "child_address", "carer", "involvement", "flag"):
        column = "id" if table == "child" else "child_id"
        assert _count(factory, f"SELECT count(*) FROM {table} WHERE {column} = :c", c=child_id) == 0  # noqa: S608
    with factory.db.session() as session:
        tomb = (
            session.execute(text("SELECT * FROM child_tombstone WHERE id = :c"), {"c": child_id})
            .mappings()
            .one()
        )
    assert set(tomb) == {"id", "responsible_authority", "created_at", "archived_at", "destroyed_at"}
    assert tomb["destroyed_at"] == AFTER_SIX_YEARS
    [event] = [r for r in factory.audit_rows() if r["action"] == "child:record:destroy"]
    assert event["detail"] == {"destroyed": 1, "reason": "retention period after archiving ended"}
    written = json.dumps(event, default=str)
    for personal in ("Aisha", "Testchild", VALID_NHS_NUMBER, BORN, "Synthetic Row", child_id):
        assert personal not in written


def test_a_legal_hold_stops_destruction_until_it_is_lifted(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    child_id, dm, _ = _setup(client, factory)
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    auditor = factory.headers(roles=["auditor"])
    auditor = {**auditor, "Purpose-Of-Use": "audit"}
    # An auditor reads no record: the hold's own read gives them its ETag.
    before = client.get(f"/v1/children/{child_id}/legal-hold", headers=auditor)
    assert before.status_code == 200, before.text
    assert before.json()["held"] is False
    held = client.put(
        f"/v1/children/{child_id}/legal-hold",
        json={"reason": "Inquiry moratorium on destruction"},
        headers={**auditor, "If-Match": before.headers["ETag"]},
    )
    assert held.status_code == 200, held.text
    assert held.json()["held"] is True
    assert held.json()["status"] == "archived"
    for year in (2040, 2050):
        later = AFTER_SIX_YEARS.replace(year=year)
        assert scheduler.tick(db=factory.db, settings=settings, now=later).destroyed == 0
    assert client.get(f"/v1/children/{child_id}", headers=dm).json()["status"] == "archived"

    lifted = client.delete(
        f"/v1/children/{child_id}/legal-hold", headers={**dm, "If-Match": held.headers["ETag"]}
    )
    assert lifted.status_code == 200
    assert lifted.json()["held"] is False
    later = AFTER_SIX_YEARS.replace(year=2050)
    assert scheduler.tick(db=factory.db, settings=settings, now=later).destroyed == 1
    rows = [r for r in factory.audit_rows() if r["action"] == "child:record:legal_hold"]
    assert [(r["method"], r["detail"].get("note")) for r in rows] == [
        ("GET", None),
        ("PUT", "Inquiry moratorium on destruction"),  # personal: erased at retention
        ("DELETE", None),
    ]


def test_an_entry_merged_into_a_destroyed_one_goes_with_it(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(upn=None))
    second = create_confirming(
        client,
        dm,
        child_payload(
            names=[{"kind": "legal", "given_names": "Bethany", "family_name": "Otherly"}],
            nhs_number=None,
        ),
    )
    version = int(client.get(f"/v1/children/{second}", headers=dm).headers["ETag"].strip('"'))
    merged = client.post(
        f"/v1/children/{first}/merges",
        json={"merged_id": second, "merged_version": version},
        headers={**dm, "If-Match": client.get(f"/v1/children/{first}", headers=dm).headers["ETag"]},
    )
    assert merged.status_code == 201, merged.text
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 2
    assert _count(factory, "SELECT count(*) FROM child") == 0
    assert _count(factory, "SELECT count(*) FROM child_merge") == 0
    assert _count(factory, "SELECT count(*) FROM child_tombstone") == 2


def test_years_before_falls_back_from_29_february() -> None:
    assert years_before(date(2028, 2, 29), 18) == date(2010, 2, 28)
    assert years_before(date(2034, 2, 11), 18) == date(2016, 2, 11)


def _merge(client: TestClient, dm: dict[str, str], survivor: str, merged: str) -> str:
    version = int(client.get(f"/v1/children/{merged}", headers=dm).headers["ETag"].strip('"'))
    response = client.post(
        f"/v1/children/{survivor}/merges",
        json={"merged_id": merged, "merged_version": version},
        headers={
            **dm,
            "If-Match": client.get(f"/v1/children/{survivor}", headers=dm).headers["ETag"],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _hold(client: TestClient, headers: dict[str, str], child_id: str, reason: str | None) -> None:
    etag = client.get(f"/v1/children/{child_id}/legal-hold", headers=headers).headers["ETag"]
    if reason is None:
        done = client.delete(
            f"/v1/children/{child_id}/legal-hold", headers={**headers, "If-Match": etag}
        )
    else:
        done = client.put(
            f"/v1/children/{child_id}/legal-hold",
            json={"reason": reason},
            headers={**headers, "If-Match": etag},
        )
    assert done.status_code == 200, done.text


def _two_entries(client: TestClient, factory: Factory) -> tuple[dict[str, str], str, str]:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(upn=None))
    second = create_confirming(
        client,
        dm,
        child_payload(
            names=[{"kind": "legal", "given_names": "Bethany", "family_name": "Otherly"}],
            nhs_number=None,
        ),
    )
    return dm, first, second


def test_a_hold_on_an_entry_merged_into_another_stops_its_destruction(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    dm, first, second = _two_entries(client, factory)
    _hold(client, dm, second, "Inquiry moratorium on destruction")
    _merge(client, dm, first, second)
    # The merge carried the hold to the survivor, where it is seen and can be lifted.
    hold = client.get(f"/v1/children/{first}/legal-hold", headers=dm).json()
    assert (hold["held"], hold["reason"]) == (True, "Inquiry moratorium on destruction")
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 0
    assert _count(factory, "SELECT count(*) FROM child") == 2

    _hold(client, dm, first, None)
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 2


def test_a_hold_left_on_a_merged_entry_by_an_earlier_merge_moves_to_the_due_survivor(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    """Entries merged before merges carried holds: the scheduler keeps the chain and puts
    the hold where the data manager sees it, once."""
    dm, first, second = _two_entries(client, factory)
    _merge(client, dm, first, second)
    with factory.db.transaction() as session:
        session.execute(
            text(
                "UPDATE child SET legal_hold_reason = 'Older inquiry', legal_hold_by = 'x',"
                " legal_hold_at = now() WHERE id = :c"
            ),
            {"c": second},
        )
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 0
    assert _count(factory, "SELECT count(*) FROM child") == 2
    hold = client.get(f"/v1/children/{first}/legal-hold", headers=dm).json()
    assert (hold["held"], hold["reason"]) == (True, "Older inquiry")
    assert _count(factory, "SELECT count(*) FROM child WHERE legal_hold_reason IS NOT NULL") == 1
    moved = [r for r in factory.audit_rows() if r["action"] == "child:record:legal_hold"]
    assert [r["child_ids"] for r in moved if r["method"] != "GET"] == [[uuid.UUID(first)]]
    # Held now: not found due again, nor moved again.
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 0
    again = [r for r in factory.audit_rows() if r["action"] == "child:record:legal_hold"]
    assert len(again) == len(moved)


def test_destruction_takes_the_childs_names_and_postcodes_out_of_the_term_frequencies(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    create_confirming(
        client,
        dm,
        child_payload(
            names=[{"kind": "legal", "given_names": "Aisha", "family_name": "Quillfeatherby"}],
            addresses=[
                {
                    "line1": "1 Rare Row",
                    "postcode": "W5 9ZZ",
                    "local_authority": "E09000009",
                    "from_date": "2020-01-01",
                }
            ],
        ),
    )
    create_confirming(client, dm, other_child(date_of_birth="2020-05-05"))  # younger: stays
    before = stored(factory)
    assert before[("family", "quillfeatherby")] == 1
    scheduler.tick(db=factory.db, settings=settings, now=AT_18)
    assert scheduler.tick(db=factory.db, settings=settings, now=AFTER_SIX_YEARS).destroyed == 1
    after = stored(factory)
    assert ("family", "quillfeatherby") not in after
    assert ("postcode", "W5 9ZZ") not in after
    assert after == dict(recount(factory))
    moment = datetime(2028, 2, 29, 7, 30, tzinfo=UTC)
    assert years_before(moment, 6) == datetime(2022, 2, 28, 7, 30, tzinfo=UTC)
