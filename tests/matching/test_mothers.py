"""Scoring an expectant mother (`matching/mothers.py`) as an enquiry about a child is
scored: the current model with the index's term frequencies, her address as the
resolver loads a child's, within the caller's match scope; against PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from index_service.matching.frequencies import frequencies_of
from index_service.matching.model import load_model, score
from index_service.matching.mothers import (
    enquired_places,
    expectant_mothers,
    mother_person,
    resolve_mother,
)
from index_service.matching.records import MatchScope
from index_service.matching.resolver import Outcome
from tests.api.test_pre_birth_enquiries import HOME, MOTHER, Setting
from tests.factories import EALING, Factory

ASKED = mother_person(
    given_names=MOTHER["given_names"],
    family_name=MOTHER["family_name"],
    date_of_birth=date.fromisoformat(MOTHER["date_of_birth"]),
    nhs_number=None,
    places=enquired_places(line1=HOME["line1"], town=HOME["town"], postcode=HOME["postcode"]),
)


def test_a_mother_is_weighed_by_the_term_frequencies_a_childs_enquiry_uses(
    client: TestClient, factory: Factory
) -> None:
    """The explanation the enquiry keeps (and an auditor reads) is the model's score with
    the enquiry's own tokens' counts: a rare family name agreeing counts for more."""
    child_id = Setting(client, factory).plan()
    model = load_model()
    assert model.term_frequency is not None
    with factory.db.session() as session:
        resolution = resolve_mother(session=session, person=ASKED, scope=MatchScope())
        frequencies = frequencies_of(session, ASKED)
    [found] = resolution.candidates
    assert (resolution.outcome, found.child_id) == (Outcome.MATCH, uuid.UUID(child_id))
    expected = score(model, ASKED, found.stored.person, frequencies)
    assert found.explanation == expected
    assert found.explanation.adjustments.get("family_name")
    assert found.explanation.total != score(model, ASKED, found.stored.person).total


def test_her_address_is_her_childs_only_within_the_scope(
    client: TestClient, factory: Factory
) -> None:
    """A shielded child's addresses count for its responsible authority's data managers
    (the scope names the authority), for nobody else."""
    setting = Setting(client, factory)
    child_id = setting.plan()
    etag = client.get(f"/v1/children/{child_id}", headers=setting.data_manager).headers["ETag"]
    shielded = client.put(
        f"/v1/children/{child_id}/shield", headers={**setting.data_manager, "If-Match": etag}
    )
    assert shielded.status_code == 200, shielded.text
    with factory.db.session() as session:
        outsider = resolve_mother(session=session, person=ASKED, scope=MatchScope())
        keeper = resolve_mother(
            session=session, person=ASKED, scope=MatchScope(shielded_addresses_of=EALING)
        )
    assert outsider.outcome == Outcome.POSSIBLE_MATCHES  # answered as not_found
    assert outsider.candidates[0].stored.person.places == ()
    assert keeper.outcome == Outcome.MATCH
    assert keeper.candidates[0].stored.person.postcodes == (HOME["postcode"],)


def test_a_mother_row_without_an_active_plan_is_not_read(
    client: TestClient, factory: Factory
) -> None:
    setting = Setting(client, factory)
    child_id = setting.plan(flagged=False)
    with factory.db.session() as session:
        before = expectant_mothers(
            session,
            date_of_birth=ASKED.date_of_birth,
            nhs_number=None,
            today=datetime.now(UTC).date(),
        )
    setting.raise_plan(child_id)
    with factory.db.session() as session:
        after = expectant_mothers(
            session,
            date_of_birth=ASKED.date_of_birth,
            nhs_number=None,
            today=datetime.now(UTC).date(),
        )
    assert before == []
    assert [m.child_id for m in after] == [uuid.UUID(child_id)]
