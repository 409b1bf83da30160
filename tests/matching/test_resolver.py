"""The resolver through the enquiry API, against PostgreSQL: the outcomes the match model
must give, and candidate queries that use indexes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.matching.blocking import Probe, blocking_rules
from index_service.matching.model import load_model
from index_service.matching.records import Person, PersonName
from tests.factories import CHILD, VALID_NHS_NUMBER, Factory, child_payload, create_confirming

# The standard child's names and date of birth, as an enquirer types them.
AISHA = {"given_names": "Aisha", "family_name": "Testchild", "date_of_birth": "2016-02-11"}
OTHER_NHS_NUMBER = "9991234578"  # valid check digit, another child's


def _address(postcode: str, authority: str = "E09000009", line1: str = "2 Test Road") -> Any:
    return {"line1": line1, "town": "London", "postcode": postcode, "local_authority": authority}


def _keep(client: TestClient, factory: Factory, **changes: Any) -> str:
    response = client.post(
        "/v1/children", json=child_payload(**changes), headers=factory.data_manager()
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _enquire(client: TestClient, factory: Factory, **criteria: Any) -> dict[str, Any]:
    response = client.post("/v1/enquiries", json=criteria, headers=factory.practitioner())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


VICTORIA = [
    {"kind": "legal", "given_names": "Victoria", "family_name": "Climbié"},
    {"kind": "alias", "given_names": "Anna", "family_name": "Kouao"},
]


def test_a_child_is_found_under_a_recorded_alias(client: TestClient, factory: Factory) -> None:
    child = _keep(client, factory, names=VICTORIA, nhs_number=None, upn=None)
    body = _enquire(
        client, factory, given_names="Anna", family_name="Kouao", date_of_birth="2016-02-11"
    )
    assert [c["child_id"] for c in body["candidates"]] == [child]
    levels = body["candidates"][0]["explanation"]["fields"]
    assert (levels["given_name"]["level"], levels["family_name"]["level"]) == ("exact", "exact")
    # Names and date of birth alone are shown to choose from; with the postcode, a match.
    assert body["outcome"] == "possible_matches"
    where = _enquire(
        client,
        factory,
        given_names="Anna",
        family_name="Kouao",
        date_of_birth="2016-02-11",
        postcode="W5 2AA",
    )
    assert (where["outcome"], where["child"]["id"]) == ("match", child)


def test_a_wrong_date_of_birth_is_outweighed_by_names_postcode_and_nhs_number(
    client: TestClient, factory: Factory
) -> None:
    child = _keep(client, factory)
    body = _enquire(
        client,
        factory,
        given_names="Aisha",
        family_name="Testchild",
        date_of_birth="2014-07-30",
        postcode="W5 2AA",
        nhs_number=VALID_NHS_NUMBER,
    )
    assert (body["outcome"], body["child"]["id"]) == ("match", child)
    assert body["candidates"][0]["explanation"]["fields"]["date_of_birth"]["level"] == "different"


def test_names_and_date_of_birth_with_a_conflicting_nhs_number_do_not_find_the_child(
    client: TestClient, factory: Factory
) -> None:
    _keep(client, factory)
    body = _enquire(
        client,
        factory,
        **AISHA,
        nhs_number=OTHER_NHS_NUMBER,
    )
    assert body["outcome"] == "not_found"
    assert body["candidates"] == []
    assert "child" not in body


def test_namesakes_in_different_towns_are_never_one_match_without_more(
    client: TestClient, factory: Factory
) -> None:
    common = {"nhs_number": None, "upn": None}
    ealing = _keep(client, factory, addresses=[_address("W5 2AA")], **common)
    # The same names and date of birth are a possible duplicate wherever they live (v4):
    # the data manager confirms that this is another child.
    other = child_payload(addresses=[_address("W3 6RS", line1="9 Other Road")], **common)
    create_confirming(client, factory.data_manager(), other)
    by_name = {"given_names": "Aisha", "family_name": "Testchild", "date_of_birth": "2016-02-11"}
    body = _enquire(client, factory, **by_name)
    assert body["outcome"] == "possible_matches"
    assert len(body["candidates"]) == 2
    assert "child" not in body
    with_postcode = _enquire(client, factory, **by_name, postcode="W5 2AA")
    assert (with_postcode["outcome"], with_postcode["child"]["id"]) == ("match", ealing)


def test_at_most_five_candidates_and_none_below_the_lower_threshold(
    client: TestClient, factory: Factory
) -> None:
    keeper = factory.data_manager()
    for _ in range(7):  # look-alikes, each confirmed a different child
        create_confirming(client, keeper, child_payload(nhs_number=None, upn=None))
    stranger = [{"kind": "legal", "given_names": "Zebedee", "family_name": "Testchild"}]
    _keep(client, factory, names=stranger, nhs_number=None, upn=None, date_of_birth="2010-05-05")
    body = _enquire(
        client, factory, given_names="Aisha", family_name="Testchild", date_of_birth="2016-02-11"
    )
    assert len(body["candidates"]) == 5
    floor = load_model().thresholds.possible
    assert all(c["explanation"]["total"] >= floor for c in body["candidates"])
    assert all(c["given_names"] == "Aisha" for c in body["candidates"])


def test_a_moved_child_is_found_at_a_previous_address(client: TestClient, factory: Factory) -> None:
    child = _keep(client, factory, nhs_number=None, upn=None)
    body = _enquire(
        client,
        factory,
        **AISHA,
        postcode=CHILD["addresses"][1]["postcode"],
    )
    assert (body["outcome"], body["child"]["id"]) == ("match", child)
    fields = body["candidates"][0]["explanation"]["fields"]
    assert fields["address"]["level"] == "previous"


PROBE = Probe.of(
    Person(
        names=(PersonName("Aisha", "Testchild"),),
        date_of_birth=date(2016, 2, 11),
        postcodes=("W5 2AA",),
        nhs_number=VALID_NHS_NUMBER,
        upn="Z307202311001",
    )
)


# Only a year of birth known: the rule for it (`year_family`) applies instead of the dates'.
YEAR_PROBE = Probe.of(
    Person(
        names=(PersonName("Aisha", "Testchild"),),
        date_of_birth=date(2016, 7, 1),
        date_of_birth_precision="year",
    )
)
RULES = {**blocking_rules(PROBE), **blocking_rules(YEAR_PROBE)}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_candidate_query_uses_an_index(factory: Factory, rule: str) -> None:
    """With sequential scans priced out, a plan that still scans a table has no index to
    use: that is what this catches (on a small table the planner may prefer a scan)."""
    query = RULES[rule]
    with factory.db.session() as session:
        connection = session.connection()
        compiled = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}".replace("%", "%%"))
        plan = "\n".join(row[0] for row in rows)
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan or "Bitmap" in plan, plan


def test_all_blocking_rules_apply_to_a_full_probe() -> None:
    assert set(blocking_rules(PROBE)) == {
        "nhs_number",
        "upn",
        "family_dob",
        "given_dob",
        "postcode",
        "postcode_dob",
        "names",
        "family_spelling",
        "swapped",
        "dob_spelling",
        "sector_sound",
    }
    assert "year_family" in blocking_rules(YEAR_PROBE)


def test_a_corrected_date_of_birth_is_searched_under_the_new_date(
    client: TestClient, factory: Factory
) -> None:
    """The name rows carry a copy of the date of birth for the blocking indexes: a change
    of date alone (names untouched) must move it, or the child is lost to date searches."""
    manager = factory.data_manager()
    created = client.post(
        "/v1/children", json=child_payload(nhs_number=None, upn=None), headers=manager
    )
    child = created.json()["id"]
    corrected = client.patch(
        f"/v1/children/{child}",
        json={"date_of_birth": "2015-09-30"},
        headers={**manager, "If-Match": created.headers["ETag"]},
    )
    assert corrected.status_code == 200, corrected.text
    with factory.db.session() as session:
        copies = session.execute(
            text("SELECT DISTINCT date_of_birth::text FROM child_name WHERE child_id = :c"),
            {"c": child},
        ).scalars()
        assert list(copies) == ["2015-09-30"]
    # A misspelt family name that sounds different, no postcode: only date rules reach it.
    body = _enquire(
        client, factory, given_names="Aisha", family_name="Testchilm", date_of_birth="2015-09-30"
    )
    assert [c["child_id"] for c in body["candidates"]] == [child]
