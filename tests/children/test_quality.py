"""The data-quality gaps report (`GET /v1/data-quality/gaps`, Laming R12): counts and a
paged list of the authority's children with unknown GP, school or carers, no address for a
year, or fields not confirmed for the configured time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.children.quality import GapKind
from index_service.common import utcnow
from tests.factories import HARINGEY, Factory, child_payload, nhs_number, other_child

UNKNOWNS = {
    "gp_practice": {"status": "unknown"},
    "education": {"status": "unknown"},
    "carers": {"status": "unknown"},
}


def _create(client: TestClient, headers: dict[str, str], payload: dict[str, object]) -> str:
    response = client.post("/v1/children", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _sql(factory: Factory, statement: str, **values: object) -> None:
    with factory.db.transaction() as session:
        session.execute(text(statement), values)


def test_the_gaps_of_the_authoritys_children(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    complete = _create(client, manager, child_payload(nhs_number_status="verified_trace"))
    unverified = _create(client, manager, other_child(nhs_number=nhs_number(77)))
    unknowns = _create(client, manager, other_child(**UNKNOWNS))
    stale = _create(client, manager, other_child())
    homeless = _create(client, manager, other_child())
    two_years_ago = utcnow() - timedelta(days=730)
    _sql(
        factory,
        "UPDATE child SET provenance = jsonb_set(provenance, '{gp_practice,confirmed_at}', "
        "to_jsonb(CAST(:at AS text))) WHERE id = :id",
        at=two_years_ago.isoformat(),
        id=stale,
    )
    _sql(
        factory,
        "UPDATE child_address SET to_date = :ended WHERE child_id = :id",
        ended=two_years_ago.date(),
        id=homeless,
    )
    _sql(factory, "UPDATE child SET created_at = :at WHERE id = :id", at=two_years_ago, id=homeless)
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    _create(client, haringey, other_child(responsible_authority=HARINGEY, addresses=[], **UNKNOWNS))

    response = client.get("/v1/data-quality/gaps", headers=manager)

    assert response.status_code == 200, response.text
    report = response.json()
    expected = {
        "children": 4,
        "gp_unknown": 1,
        "school_unknown": 1,
        "carers_unknown": 1,
        "no_address_for_a_year": 1,
        "unconfirmed_fields": 1,
        "nhs_number_unverified": 1,
    }
    assert report["counts"] == expected
    listed = {item["child_id"]: item["gaps"] for item in report["items"]}
    assert complete not in listed
    assert listed[unknowns] == ["gp_unknown", "school_unknown", "carers_unknown"]
    assert listed[stale] == ["unconfirmed_fields"]
    assert listed[homeless] == ["no_address_for_a_year"]
    assert listed[unverified] == ["nhs_number_unverified"]
    assert report["total"] == 4

    by_kind = client.get(
        "/v1/data-quality/gaps", params={"kind": GapKind.UNCONFIRMED_FIELDS}, headers=manager
    ).json()
    assert [i["child_id"] for i in by_kind["items"]] == [stale]
    assert by_kind["total"] == 1

    page = client.get(
        "/v1/data-quality/gaps", params={"limit": 1, "offset": 1}, headers=manager
    ).json()
    assert (page["limit"], page["offset"], page["total"]) == (1, 1, 4)
    (item,) = page["items"]
    assert item["child_id"] == [i["child_id"] for i in report["items"]][1]


def test_a_shorter_confirmation_period_is_a_setting(client: TestClient, factory: Factory) -> None:
    manager = factory.data_manager()
    child = _create(client, manager, child_payload(nhs_number_status="verified_trace"))
    week_ago = utcnow() - timedelta(days=8)
    _sql(
        factory,
        "UPDATE child SET provenance = jsonb_set(provenance, '{names,confirmed_at}', "
        "to_jsonb(CAST(:at AS text))) WHERE id = :id",
        at=week_ago.isoformat(),
        id=child,
    )
    assert client.get("/v1/data-quality/gaps", headers=manager).json()["total"] == 0
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"gaps_unconfirmed_days": 7})  # type: ignore[attr-defined]
    try:
        report = client.get("/v1/data-quality/gaps", headers=manager).json()
    finally:
        client.app.state.settings = settings  # type: ignore[attr-defined]
    assert [i["child_id"] for i in report["items"]] == [child]


def test_the_gaps_list_is_audited_with_the_children_it_shows(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child = _create(client, manager, other_child(**UNKNOWNS))
    client.get("/v1/data-quality/gaps", headers=manager)
    (row,) = [r for r in factory.audit_rows() if r["route"] == "/v1/data-quality/gaps"]
    assert (row["action"], [str(c) for c in row["child_ids"]]) == (
        "child:data_quality:read",
        [child],
    )


@pytest.mark.parametrize("path", ["/v1/data-quality/gaps", "/v1/feeds/reviews"])
def test_an_offset_past_any_list_is_refused_plainly(
    client: TestClient, factory: Factory, path: str
) -> None:
    """A number PostgreSQL cannot hold was a failed query (found by the generated
    requests): it is a 422 on the parameter now."""
    response = client.get(path, params={"offset": 2**63}, headers=factory.data_manager())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["query", "offset"]
