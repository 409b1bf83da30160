"""The batch resolver (`matching/batch.py`) decides a record as the enquiry's resolver
does: the same candidates, scored with the same term frequencies (model v4's rarity
adjustment), the same outcome. A record is never a confident match in a feed and only a
possible one in an enquiry."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.matching.addresses import place_of
from index_service.matching.batch import resolve_batch
from index_service.matching.model import load_model, score
from index_service.matching.records import MatchScope, Person, PersonName
from index_service.matching.resolver import Outcome, Scored, decide, load_people, resolve
from tests.factories import EALING, Factory, child_payload
from tests.feeds.conftest import agency_headers, csv_of

# The standard child with its date of birth one digit out and no NHS number: with its
# names and current address agreeing, a confident match if every name and postcode were
# rare; not one when they are as common as the counts below make them.
ROW = {
    "source_record_id": "TF-1",
    "given_names": "Aisha",
    "family_name": "Testchild",
    "date_of_birth": "2016-02-17",
    "address_line1": "1 Synthetic Row",
    "town": "London",
    "postcode": "W5 2AA",
    "responsible_authority": EALING,
}
PERSON = Person(
    names=(PersonName("Aisha", "Testchild"),),
    date_of_birth=date(2016, 2, 17),
    date_of_birth_precision="exact",
    postcodes=("W5 2AA",),
    places=(place_of(line1="1 Synthetic Row", line2=None, town="London", postcode="W5 2AA"),),
)


def _common_names(factory: Factory) -> None:
    """The child's given name, family name and postcode as common as any in England."""
    with factory.db.transaction() as session:
        session.execute(
            text(
                "UPDATE term_frequency SET count = 1000000 WHERE (kind, token) IN "
                "(('given', 'aisha'), ('family', 'testchild'), ('postcode', 'W5 2AA'))"
            )
        )
        found = session.execute(text("SELECT count(*) FROM term_frequency WHERE count = 1000000"))
        assert found.scalar_one() == 3


def test_a_feed_row_scores_with_the_term_frequencies_an_enquiry_uses(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    _common_names(factory)
    model = load_model()
    assert model.term_frequency is not None  # the current model weighs names by rarity
    scope = MatchScope()

    with factory.db.session() as session:
        enquiry = resolve(session=session, person=PERSON, scope=scope, model=model)
        (feed,) = resolve_batch(session=session, people=[PERSON], scope=scope, model=model)
        stored = load_people(
            session=session, child_ids=[enquiry.candidates[0].child_id], scope=scope
        )

    # Without the frequencies the row would be a confident match: the test means something.
    (unweighted,) = (Scored(i, score(model, PERSON, s.person), s) for i, s in stored.items())
    assert decide(model, [unweighted], considered=1, max_shown=5).outcome == Outcome.MATCH
    assert (enquiry.outcome, feed.outcome) == (Outcome.POSSIBLE_MATCHES, Outcome.POSSIBLE_MATCHES)
    assert [str(c.child_id) for c in feed.candidates] == [child_id]
    assert [c.explanation.as_dict() for c in feed.candidates] == [
        c.explanation.as_dict() for c in enquiry.candidates
    ]


def test_a_feed_and_an_enquiry_decide_the_same_on_the_same_record(
    client: TestClient, factory: Factory
) -> None:
    manager = factory.data_manager()
    child_id = client.post("/v1/children", json=child_payload(), headers=manager).json()["id"]
    _common_names(factory)
    criteria = {
        "given_names": ROW["given_names"],
        "family_name": ROW["family_name"],
        "date_of_birth": ROW["date_of_birth"],
        "postcode": ROW["postcode"],
        "address_line1": ROW["address_line1"],
        "town": ROW["town"],
    }
    asked = client.post("/v1/enquiries", json=criteria, headers=factory.practitioner())
    assert asked.status_code == 201, asked.text
    assert asked.json()["outcome"] == "possible_matches"

    agency, _ = agency_headers(factory)
    sent = client.post(
        "/v1/feeds", content=csv_of([ROW]), headers={**agency, "Content-Type": "text/csv"}
    )

    assert sent.status_code == 200, sent.text
    (row,) = sent.json()["rows"]
    assert row["outcome"] == "queued_for_review"  # not updated: a possible match, as asked
    (review,) = client.get("/v1/feeds/reviews", headers=manager).json()["items"]
    assert (review["reason"], review["candidate_ids"]) == ("possible_match", [child_id])
