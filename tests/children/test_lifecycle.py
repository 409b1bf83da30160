"""Merge and unmerge through the API: the survivor takes everything, the other entry
redirects to it, enquiries by either name find the survivor, every worker is told; and an
unmerge gives back both entries exactly as they were, field by field, with their
involvements, flags, alerts and enquiry links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.organisations.models import Organisation
from tests.factories import VALID_NHS_NUMBER, VALID_UPN, Factory, child_payload, create_confirming
from tests.matching.test_frequencies import recount, stored

BEE_NAMES = [{"kind": "legal", "given_names": "Bethany", "family_name": "Otherly"}]

# Kept by a data manager who traced the NHS number: an enquiry by the number alone is a
# match only on a verified number (model v4).
TRACED = {"nhs_number_status": "verified_trace"}


@dataclass
class Pair:
    client: TestClient
    factory: Factory
    csc: Organisation
    dm: dict[str, str]
    first: str  # the survivor
    second: str  # merged into it
    sw_first: dict[str, str]
    sw_second: dict[str, str]

    def etag(self, child_id: str) -> str:
        response = self.client.get(f"/v1/children/{child_id}", headers=self.dm)
        assert response.status_code == 200, response.text
        return str(response.headers["ETag"])

    def merge(self) -> dict[str, Any]:
        merged_version = int(self.etag(self.second).strip('"'))
        response = self.client.post(
            f"/v1/children/{self.first}/merges",
            json={"merged_id": self.second, "merged_version": merged_version},
            headers={**self.dm, "If-Match": self.etag(self.first)},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def unmerge(self, merge_id: str) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/children/{self.first}/merges/{merge_id}/undo",
            headers={**self.dm, "If-Match": self.etag(self.first)},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def _pair(client: TestClient, factory: Factory) -> Pair:
    """Two entries of one child: one with the NHS number, one (another name, recorded by
    a school's feed as it were) with the UPN; each with its key worker, an involvement
    and an alert, the second with a flag, and an enquiry that found each."""
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(upn=None, **TRACED))
    second = create_confirming(
        client,
        dm,
        child_payload(
            names=BEE_NAMES,
            nhs_number=None,
            upn=VALID_UPN,
            addresses=[
                {
                    "line1": "3 Other Street",
                    "postcode": "W5 3BB",
                    "local_authority": "E09000009",
                    "from_date": "2020-01-01",
                }
            ],
            carers={"status": "unknown", "people": []},
        ),
    )
    sw_first = factory.headers_for(csc, roles=["social_worker"], sub="sw-first")
    sw_second = factory.headers_for(csc, roles=["social_worker"], sub="sw-second")
    for child_id, sw in ((first, sw_first), (second, sw_second)):
        involved = client.post(
            f"/v1/children/{child_id}/involvements",
            json={"service": "Child protection", "is_key_worker": True},
            headers=sw,
        )
        assert involved.status_code == 201, involved.text
    flag = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}
    raised = client.post(f"/v1/children/{second}/flags", json=flag, headers=sw_second)
    assert raised.status_code == 201, raised.text
    nurse = factory.practitioner()
    for criteria, found in (
        ({"nhs_number": VALID_NHS_NUMBER}, first),
        ({"upn": VALID_UPN}, second),
    ):
        answer = client.post("/v1/enquiries", json=criteria, headers=nurse).json()
        assert answer["outcome"] == "match", answer
        assert answer["child"]["id"] == found
    return Pair(client, factory, csc, dm, first, second, sw_first, sw_second)


def _rows(factory: Factory, table: str, child_id: str) -> list[dict[str, Any]]:
    with factory.db.session() as session:
        rows = session.execute(
            text(f"SELECT * FROM {table} WHERE child_id = :c ORDER BY id"),  # noqa: S608
            {"c": child_id},
        ).mappings()
        return [dict(r) for r in rows]


def _enquiry_links(factory: Factory) -> dict[str, list[str]]:
    with factory.db.session() as session:
        rows = session.execute(text("SELECT id, candidate_ids FROM enquiry")).all()
        return {str(i): [str(c) for c in ids] for i, ids in rows}


def _state(pair: Pair, child_id: str) -> dict[str, Any]:
    """Everything about one entry: the record as its data manager reads it (without its
    version), its stored rows, its involvements, flags and alerts."""
    record = pair.client.get(f"/v1/children/{child_id}", headers=pair.dm).json()
    with pair.factory.db.session() as session:
        row = dict(
            session.execute(text("SELECT * FROM child WHERE id = :c"), {"c": child_id})
            .mappings()
            .one()
        )
    return {
        "record": record,
        "row": {k: v for k, v in row.items() if k not in {"version", "updated_at"}},
        "names": _rows(pair.factory, "child_name", child_id),
        "addresses": _rows(pair.factory, "child_address", child_id),
        "carers": _rows(pair.factory, "carer", child_id),
        "involvements": _rows(pair.factory, "involvement", child_id),
        "flags": _rows(pair.factory, "flag", child_id),
        "alerts": _rows(pair.factory, "alert", child_id),
    }


def _names(record: dict[str, Any]) -> set[tuple[str, str]]:
    return {(n["given_names"], n["family_name"]) for n in record["names"]}


def test_merge_then_unmerge_gives_back_both_entries_exactly(
    client: TestClient, factory: Factory
) -> None:
    pair = _pair(client, factory)
    before = {c: _state(pair, c) for c in (pair.first, pair.second)}
    links_before = _enquiry_links(factory)
    assert before[pair.first]["alerts"]
    assert before[pair.second]["alerts"]
    assert before[pair.second]["flags"]

    merge = pair.merge()
    survivor = client.get(f"/v1/children/{pair.first}", headers=pair.dm).json()
    assert _names(survivor) == {
        ("Aisha", "Testchild"),
        ("Ash", "Testchild"),
        ("Bethany", "Otherly"),
    }
    assert (survivor["nhs_number"], survivor["upn"]) == (VALID_NHS_NUMBER, VALID_UPN)
    assert {a["postcode"] for a in survivor["addresses"]} >= {"W5 2AA", "W5 3BB"}
    assert len(_rows(factory, "involvement", pair.first)) == 2
    assert len(_rows(factory, "flag", pair.first)) == 1
    moved_alerts = {a["id"] for a in before[pair.second]["alerts"]}
    assert moved_alerts <= {a["id"] for a in _rows(factory, "alert", pair.first)}
    assert _rows(factory, "child_name", pair.second) == []
    # The enquiry that found the second entry now links its enquirer to the survivor.
    assert sorted(_enquiry_links(factory).values()) == [[pair.first], [pair.first]]

    # The merged entry redirects to the survivor; writing to it is refused.
    redirected = client.get(f"/v1/children/{pair.second}", headers=pair.dm, follow_redirects=False)
    assert redirected.status_code == 307
    assert redirected.headers["Location"] == f"/v1/children/{pair.first}"
    assert redirected.json()["merged_into"] == pair.first
    followed = client.get(f"/v1/children/{pair.second}", headers=pair.dm)
    assert followed.status_code == 200
    assert followed.json()["id"] == pair.first
    patched = client.patch(
        f"/v1/children/{pair.second}",
        json={"la_reference": "X1"},
        headers={**pair.dm, "If-Match": '"1"'},
    )
    assert patched.status_code == 409
    assert patched.json()["code"] == "child_merged"

    # Both key workers were told, by an R4 alert about the survivor; the data manager not.
    for sw in (pair.sw_first, pair.sw_second):
        told = [
            a
            for a in client.get("/v1/alerts", headers=sw).json()["items"]
            if a["reason"] == "records_merged"
        ]
        assert [(a["rule"], a["child_id"]) for a in told] == [("R4", pair.first)]

    # The audit row keeps the field diff of both entries.
    [row] = [r for r in factory.audit_rows() if r["action"] == "child:record:merge"]
    assert row["detail"]["merge_id"] == merge["id"]
    changes = row["detail"]["changes"]
    assert changes[pair.second]["status"] == {"before": "active", "after": "merged"}
    assert changes[pair.first]["upn"] == {"before": None, "after": VALID_UPN}

    pair.unmerge(merge["id"])
    after = {c: _state(pair, c) for c in (pair.first, pair.second)}
    for child_id in (pair.first, pair.second):
        was, now = before[child_id], after[child_id]
        for part in ("row", "names", "addresses", "carers", "involvements", "flags"):
            assert now[part] == was[part], (child_id, part)
        # Every field but when it last changed (an unmerge is a change: a new ETag).
        moving = {"version", "updated_at"}
        assert {k: v for k, v in now["record"].items() if k not in moving} == {
            k: v for k, v in was["record"].items() if k not in moving
        }
        # Its own alerts are back, field by field; the merge's notices are new ones.
        kept = {a["id"]: a for a in now["alerts"]}
        for alert in was["alerts"]:
            assert kept.pop(alert["id"]) == alert
        assert {a["reason"] for a in kept.values()} <= {"records_merged", "records_unmerged"}
    assert _enquiry_links(factory) == links_before
    [undone] = [r for r in factory.audit_rows() if r["action"] == "child:record:merge"][1:]
    assert undone["detail"]["changes"][pair.second]["status"] == {
        "before": "merged",
        "after": "active",
    }


def _found(answer: dict[str, Any]) -> set[str]:
    """The entries an enquiry's answer shows: the match, or the candidates' summaries."""
    if answer["outcome"] == "match":
        return {answer["child"]["id"]}
    return {c["child_id"] for c in answer.get("candidates") or []}


def test_enquiries_about_either_name_find_the_survivor_while_merged(
    client: TestClient, factory: Factory
) -> None:
    pair = _pair(client, factory)
    merge = pair.merge()
    nurse = factory.practitioner()
    for criteria in (
        {"family_name": "Testchild", "given_names": "Aisha", "date_of_birth": "2016-02-11"},
        {"family_name": "Otherly", "given_names": "Bethany", "date_of_birth": "2016-02-11"},
        {"upn": VALID_UPN},
        {"nhs_number": VALID_NHS_NUMBER},
    ):
        answer = client.post("/v1/enquiries", json=criteria, headers=nurse).json()
        assert _found(answer) == {pair.first}, (criteria, answer)
    pair.unmerge(merge["id"])
    answer = client.post(
        "/v1/enquiries",
        json={"family_name": "Otherly", "given_names": "Bethany", "date_of_birth": "2016-02-11"},
        headers=nurse,
    ).json()
    assert _found(answer) == {pair.second}


def test_a_merge_needs_both_versions_current_and_an_unmerge_an_unchanged_survivor(
    client: TestClient, factory: Factory
) -> None:
    pair = _pair(client, factory)
    body = {"merged_id": pair.second, "merged_version": 1}
    missing = client.post(f"/v1/children/{pair.first}/merges", json=body, headers=pair.dm)
    assert missing.status_code == 428
    stale = client.post(
        f"/v1/children/{pair.first}/merges",
        json={"merged_id": pair.second, "merged_version": 99},
        headers={**pair.dm, "If-Match": pair.etag(pair.first)},
    )
    assert stale.status_code == 412
    itself = client.post(
        f"/v1/children/{pair.first}/merges",
        json={"merged_id": pair.first, "merged_version": 1},
        headers={**pair.dm, "If-Match": pair.etag(pair.first)},
    )
    assert itself.status_code == 422
    assert itself.json()["code"] == "same_entry"
    merge = pair.merge()
    changed = client.patch(
        f"/v1/children/{pair.first}",
        json={"la_reference": "LA-1"},
        headers={**pair.dm, "If-Match": pair.etag(pair.first)},
    )
    assert changed.status_code == 200, changed.text
    refused = client.post(
        f"/v1/children/{pair.first}/merges/{merge['id']}/undo",
        headers={**pair.dm, "If-Match": pair.etag(pair.first)},
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "changed_since_merge"


def test_entries_with_different_nhs_numbers_are_not_merged(
    client: TestClient, factory: Factory
) -> None:
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(**TRACED))
    second = create_confirming(
        client, dm, child_payload(names=BEE_NAMES, nhs_number="9434765919", upn=None)
    )
    version = client.get(f"/v1/children/{second}", headers=dm).headers["ETag"].strip('"')
    etag = client.get(f"/v1/children/{first}", headers=dm).headers["ETag"]
    refused = client.post(
        f"/v1/children/{first}/merges",
        json={"merged_id": second, "merged_version": int(version)},
        headers={**dm, "If-Match": etag},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "identifiers_conflict"
    assert client.get(f"/v1/children/{second}", headers=dm).json()["status"] == "active"


def test_work_on_a_merged_entry_is_refused_naming_the_survivor(
    client: TestClient, factory: Factory
) -> None:
    pair = _pair(client, factory)
    pair.merge()
    attempts = {
        "involvement": client.post(
            f"/v1/children/{pair.second}/involvements",
            json={"service": "Family support"},
            headers=factory.headers_for(pair.csc, roles=["social_worker"], sub="sw-new"),
        ),
        "flag": client.post(
            f"/v1/children/{pair.second}/flags",
            json={"kind": "concern_raised", "area_of_concern": "parenting_capacity"},
            headers=pair.sw_second,
        ),
        "legal hold": client.put(
            f"/v1/children/{pair.second}/legal-hold",
            json={"reason": "Inquiry"},
            headers={**pair.dm, "If-Match": '"1"'},
        ),
        "subject access": client.get(f"/v1/children/{pair.second}/subject-access", headers=pair.dm),
    }
    for what, response in attempts.items():
        assert response.status_code == 409, (what, response.text)
        assert response.json()["code"] == "child_merged", what
        assert response.json()["merged_into"] == pair.first, what


def _hold(pair: Pair, child_id: str) -> dict[str, Any]:
    response = pair.client.get(f"/v1/children/{child_id}/legal-hold", headers=pair.dm)
    assert response.status_code == 200, response.text
    return {k: response.json()[k] for k in ("held", "reason", "set_at")}


def test_a_legal_hold_moves_to_the_survivor_and_back_on_the_undo(
    client: TestClient, factory: Factory
) -> None:
    pair = _pair(client, factory)
    etag = client.get(f"/v1/children/{pair.second}/legal-hold", headers=pair.dm).headers["ETag"]
    held = client.put(
        f"/v1/children/{pair.second}/legal-hold",
        json={"reason": "Serious case review"},
        headers={**pair.dm, "If-Match": etag},
    )
    assert held.status_code == 200, held.text
    was = _hold(pair, pair.second)
    assert was["held"] is True

    merge = pair.merge()
    assert _hold(pair, pair.first) == was  # the survivor holds it now
    assert _rows(factory, "child_name", pair.second) == []
    with factory.db.session() as session:
        left = session.execute(
            text("SELECT legal_hold_reason FROM child WHERE id = :c"), {"c": pair.second}
        ).scalar_one()
    assert left is None  # nothing unseen, and unliftable, stays on the merged entry

    pair.unmerge(merge["id"])
    assert _hold(pair, pair.second) == was
    assert _hold(pair, pair.first)["held"] is False


def test_a_merge_and_its_undo_keep_the_term_frequencies_equal_to_a_recount(
    client: TestClient, factory: Factory
) -> None:
    """The second entry repeats the first's names and addresses: the merge deletes the
    repeats, the undo puts them back."""
    csc = factory.organisation()
    dm = factory.headers_for(csc, roles=["data_manager"], sub="dm")
    first = create_confirming(client, dm, child_payload(upn=None, **TRACED))
    second = create_confirming(client, dm, child_payload(nhs_number=None))
    pair = Pair(client, factory, csc, dm, first, second, dm, dm)
    assert stored(factory)[("family", "testchild")] == 4
    merge = pair.merge()
    assert _rows(factory, "child_name", second) == []
    assert stored(factory) == dict(recount(factory))
    assert stored(factory)[("family", "testchild")] == 2
    pair.unmerge(merge["id"])
    assert stored(factory) == dict(recount(factory))
    assert stored(factory)[("family", "testchild")] == 4
