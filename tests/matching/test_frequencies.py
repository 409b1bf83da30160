"""The term-frequency counts are kept in step with the names and addresses written:
added on create, moved on a correction, read back for an enquiry's own tokens; a token
counted down to nothing leaves no row. (Merges and destruction: tests/children.)"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.matching.frequencies import Tokens, frequencies_of, name_tokens, postcode_tokens
from index_service.matching.records import Person, PersonName
from tests.factories import Factory, child_payload


def _counts(factory: Factory) -> dict[tuple[str, str], int]:
    with factory.db.session() as session:
        rows = session.execute(text("SELECT kind, token, count FROM term_frequency"))
        return {(kind, token): count for kind, token, count in rows if count}


def stored(factory: Factory) -> dict[tuple[str, str], int]:
    """Every row of `term_frequency`, zeros too."""
    with factory.db.session() as session:
        rows = session.execute(text("SELECT kind, token, count FROM term_frequency"))
        return {(kind, token): count for kind, token, count in rows}


def recount(factory: Factory) -> Tokens:
    """The counts as the stored names and addresses make them now (migration 0017's
    backfill, in Python)."""
    with factory.db.session() as session:
        names = session.execute(text("SELECT given_key, family_key FROM child_name")).all()
        postcodes = session.execute(text("SELECT postcode FROM child_address")).scalars()
        return name_tokens((g, f) for g, f in names) + postcode_tokens(postcodes)


def _create(client: TestClient, factory: Factory, **changes: Any) -> Any:
    created = client.post(
        "/v1/children", json=child_payload(**changes), headers=factory.data_manager()
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_counts_follow_every_name_and_address_written(client: TestClient, factory: Factory) -> None:
    record = _create(client, factory)
    counts = _counts(factory)
    # The standard child: Aisha and Ash Testchild, at W5 2AA and (before) N17 6AB.
    assert counts[("given", "aisha")] == 1
    assert counts[("given", "ash")] == 1
    assert counts[("family", "testchild")] == 2
    assert counts[("postcode", "W5 2AA")] == 1
    corrected = client.patch(
        f"/v1/children/{record['id']}",
        json={"names": [{"kind": "legal", "given_names": "Aisha", "family_name": "Jones"}]},
        headers={**factory.data_manager(), "If-Match": f'"{record["version"]}"'},
    )
    assert corrected.status_code == 200, corrected.text
    counts = _counts(factory)
    assert ("family", "testchild") not in counts  # both names replaced: counted down to 0
    assert ("given", "ash") not in counts
    assert counts[("family", "jones")] == 1
    assert counts[("given", "aisha")] == 1
    assert counts[("postcode", "W5 2AA")] == 1  # addresses untouched
    # A token counted down to nothing is deleted, not kept at 0.
    assert ("family", "testchild") not in stored(factory)
    assert stored(factory) == dict(recount(factory))


def test_an_enquiry_reads_its_own_tokens_counts(client: TestClient, factory: Factory) -> None:
    _create(client, factory)
    enquiry = Person(names=(PersonName("Aisha", "Testchild"),), postcodes=("W5 2AA",))
    with factory.db.session() as session:
        frequencies = frequencies_of(session, enquiry)
    assert frequencies.count("given", "aisha") == 1
    assert frequencies.count("family", "testchild") == 2
    assert frequencies.count("postcode", "W5 2AA") == 1
    assert frequencies.count("given", "oliver") == 0
