"""Blocking is at least as wide as scoring: a property test. A seeded population of
children with look-alikes (siblings, namesakes, misspellings, other dates, neighbours)
is stored; enquiries about some of them, corrupted as people and agencies corrupt them,
are searched; and every child that no blocking rule retrieved is scored against the
enquiry. None may reach `possible` with its identity agreeing: that child would have been
shown, had it been found."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from index_service.children.models import Child, ChildAddress, ChildName
from index_service.database import Database
from index_service.matching.addresses import place_of
from index_service.matching.blocking import find_candidates
from index_service.matching.frequencies import frequencies_of
from index_service.matching.keys import name_keys
from index_service.matching.model import load_model, score
from index_service.matching.records import MatchScope, Person, PersonName
from index_service.matching.resolver import load_people

GIVEN = (
    "Oliver",
    "Olivia",
    "Amelia",
    "Jack",
    "Harry",
    "Isla",
    "Ava",
    "Eva",
    "Leo",
    "Mia",
    "Muhammad",
    "Mohammed",
    "Christopher",
    "Kristopher",
    "Zoe",
    "Chloe",
    "Noah",
    "Theo",
    "William",
    "Bill",
    "Aisha",
    "Ayesha",
    "Freya",
    "Sophie",
    "Sofia",
    "Alfie",
    "Jacob",
)
FAMILY = (
    "Smith",
    "Smyth",
    "Jones",
    "Johns",
    "Khan",
    "Kahn",
    "Williams",
    "Wilson",
    "Taylor",
    "Brown",
    "Braun",
    "Wainwright",
    "Patel",
    "Patil",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Murphy",
    "Climbie",
    "O'Brien",
    "Obrien",
    "Lee",
    "Li",
    "Davies",
    "Davis",
)
STREETS = ("Acacia Road", "Mill Lane", "High Street", "Station Road", "Church Close")
AREAS = (("W5", "London"), ("W3", "London"), ("LS6", "Leeds"), ("M13", "Manchester"))
SEED = 20261201


def _postcode(rng: random.Random) -> tuple[str, str]:
    outward, town = rng.choice(AREAS)
    return f"{outward} {rng.randint(1, 3)}{rng.choice('ABD')}{rng.choice('AB')}", town


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _people(rng: random.Random) -> list[Person]:
    """Targets and look-alikes of each (a sibling, a namesake born another day, a
    misspelt record, a twin), and unrelated children."""
    people = []
    for _ in range(60):
        born = date(2010, 1, 1) + timedelta(days=rng.randint(0, 3000))
        postcode, town = _postcode(rng)
        line = f"{rng.randint(1, 60)} {rng.choice(STREETS)}"
        target = Person(
            names=(PersonName(rng.choice(GIVEN), rng.choice(FAMILY)),),
            date_of_birth=born,
            postcodes=(postcode,),
            places=(place_of(line1=line, town=town, postcode=postcode),),
        )
        first = target.names[0]
        people += [
            target,
            replace(target, names=(PersonName(rng.choice(GIVEN), first.family),)),
            replace(target, date_of_birth=born + timedelta(days=rng.choice((1, 31, 366, -365)))),
            replace(target, names=(PersonName(_typo(first.given, rng), _typo(first.family, rng)),)),
            replace(target, names=(PersonName(first.given, rng.choice(FAMILY)),)),
        ]
    for _ in range(150):
        postcode, town = _postcode(rng)
        people.append(
            Person(
                names=(PersonName(rng.choice(GIVEN), rng.choice(FAMILY)),),
                date_of_birth=date(2008, 1, 1) + timedelta(days=rng.randint(0, 5000)),
                postcodes=(postcode,),
                places=(
                    place_of(
                        line1=f"{rng.randint(1, 60)} High Street", town=town, postcode=postcode
                    ),
                ),
            )
        )
    return people


def _enquiries(person: Person, rng: random.Random) -> list[Person]:
    """What people and agencies send about a child: typos, truncations, swapped dates,
    only a year, a neighbour's postcode, only the town."""
    name = person.names[0]
    born = person.date_of_birth
    assert born is not None
    postcode = person.postcodes[0]
    town = person.places[0].town
    return [
        replace(person, names=(PersonName(_typo(name.given, rng), _typo(name.family, rng)),)),
        replace(
            person,
            names=(PersonName(name.given[:3], name.family),),
            postcodes=(),
            places=(place_of(town=town),),
        ),
        replace(person, date_of_birth=date(born.year, 7, 1), date_of_birth_precision="year"),
        replace(person, date_of_birth=date(born.year - 1, born.month, min(born.day, 28))),
        replace(person, names=(PersonName(name.family, name.given),), postcodes=(), places=()),
        replace(
            person,
            postcodes=(postcode[:-2] + "ZZ",),
            places=(place_of(postcode=postcode[:-2] + "ZZ"),),
        ),
        replace(
            person,
            names=(PersonName(name.given, _typo(name.family, rng)),),
            date_of_birth=born + timedelta(days=rng.randint(1, 20)),
        ),
    ]


def _store(db: Database, people: list[Person]) -> None:
    with db.session() as session:
        for person in people:
            assert person.date_of_birth is not None
            child = Child(
                id=uuid.uuid4(),
                date_of_birth=person.date_of_birth,
                date_of_birth_precision="exact",
                responsible_authority="E09000009",
                carers_status="unknown",
                gp_status="unknown",
                education_status="unknown",
                created_by_organisation="TEST",
            )
            session.add(child)
            session.flush()
            for position, name in enumerate(person.names):
                session.add(
                    ChildName(
                        child_id=child.id,
                        kind="legal",
                        given_names=name.given,
                        family_name=name.family,
                        position=position,
                        date_of_birth=person.date_of_birth,
                        **vars(name_keys(name.given, name.family)),
                    )
                )
            for place, postcode in zip(person.places, person.postcodes, strict=True):
                session.add(
                    ChildAddress(
                        child_id=child.id,
                        line1=" ".join((place.house or "", *place.street)),
                        town=place.town,
                        postcode=postcode,
                        local_authority="E09000009",
                    )
                )
        session.commit()


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_no_child_that_would_be_shown_is_missed_by_blocking(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    people = _people(rng)
    _store(db, people)
    model, scope = load_model(), MatchScope()
    missed = []
    with db.session() as session:
        everyone = list(session.execute(ChildName.__table__.select()).mappings())
        all_ids = list({row["child_id"] for row in everyone})
        stored = load_people(session=session, child_ids=all_ids, scope=scope)
        for target in people[::25]:
            for enquiry in _enquiries(target, rng):
                found = set(find_candidates(session=session, person=enquiry, scope=scope))
                frequencies = frequencies_of(session, enquiry)
                for child_id, it in stored.items():
                    if child_id in found:
                        continue
                    explained = score(model, enquiry, it.person, frequencies)
                    if explained.total >= model.thresholds.possible and explained.identity_agrees():
                        missed.append(_missed(enquiry, it.person, explained.levels))
    assert not missed, "\n".join(missed[:20])


def _missed(enquiry: Person, child: Person, levels: dict[str, str]) -> str:
    """A missed pair, in a line (synthetic names)."""
    return (
        f"{enquiry.names} {enquiry.date_of_birth} {enquiry.date_of_birth_precision} "
        f"{enquiry.postcodes} / {child.names} {child.date_of_birth} {child.postcodes}: {levels}"
    )
