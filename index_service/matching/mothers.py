"""Finding an unborn child's plan by its expectant mother: her names, date of birth, NHS
number and address (the child's current address) against the mothers the index holds
(`children.models.ChildMother`), scored by the current match model's own comparisons
and decided by its own thresholds and margin, so that the same "never the wrong one"
care applies. A mother's NHS number is never taken as verified (nobody traced it on
the child's record), so it is strong evidence, not proof."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from index_service.children.models import Child, ChildAddress, ChildMother, ChildStatus
from index_service.matching.addresses import place_of
from index_service.matching.model import MatchModel, load_model, score
from index_service.matching.records import Person, PersonName, Place
from index_service.matching.resolver import Outcome, Resolution, Scored, Stored, decide


def mother_person(
    *,
    given_names: str,
    family_name: str,
    date_of_birth: date,
    nhs_number: str | None,
    places: tuple[Place, ...],
) -> Person:
    return Person(
        names=(PersonName(given_names, family_name),),
        date_of_birth=date_of_birth,
        date_of_birth_precision="exact",
        postcodes=tuple(p.postcode for p in places if p.postcode),
        places=places,
        nhs_number=nhs_number,
    )


def resolve_mother(
    *, session: Session, person: Person, model: MatchModel | None = None
) -> Resolution:
    """The unborn child whose expectant mother this is: `match` only when the model is
    confident and no other mother comes close. Candidates are the active records' mothers
    born on that date or with that NHS number (blocking), whose identity agrees."""
    model = model or load_model()
    keys = []
    if person.date_of_birth is not None:
        keys.append(col(ChildMother.date_of_birth) == person.date_of_birth)
    if person.nhs_number:
        keys.append(col(ChildMother.nhs_number) == person.nhs_number)
    if not keys:
        return Resolution(Outcome.NOT_FOUND, [], 0, model.version)
    rows = session.exec(
        select(ChildMother, Child)
        .join(Child, col(Child.id) == col(ChildMother.child_id))
        .where(or_(*keys), col(Child.status) == ChildStatus.ACTIVE.value)
    ).all()
    places: dict[uuid.UUID, list[Place]] = defaultdict(list)
    if rows:
        for address in session.exec(
            select(ChildAddress).where(
                col(ChildAddress.child_id).in_([m.child_id for m, _ in rows]),
                col(ChildAddress.to_date).is_(None),
            )
        ):
            places[address.child_id].append(
                place_of(
                    line1=address.line1,
                    line2=address.line2,
                    town=address.town,
                    postcode=address.postcode,
                )
            )
    scored = []
    for mother, child in rows:
        stored = mother_person(
            given_names=mother.given_names,
            family_name=mother.family_name,
            date_of_birth=mother.date_of_birth,
            nhs_number=mother.nhs_number,
            places=tuple(places[child.id]),
        )
        current = stored.postcodes[0] if stored.postcodes else None
        scored.append(
            Scored(
                child.id,
                score(model, person, stored),
                Stored(child=child, person=stored, current_postcode=current),
            )
        )
    ranked = sorted(
        (s for s in scored if s.explanation.identity_agrees()),
        key=lambda s: (-s.explanation.total, str(s.child_id)),
    )
    return decide(model, ranked, considered=len(ranked), max_shown=1)


def enquired_places(
    *, line1: str | None, town: str | None, postcode: str | None
) -> tuple[Place, ...]:
    """The address an enquiry gives for her, as the model compares addresses."""
    place = place_of(line1=line1, town=town, postcode=postcode)
    return (place,) if place.postcode or place.street or place.town else ()
