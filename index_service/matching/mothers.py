"""Finding an unborn child's plan by its expectant mother: her names, date of birth, NHS
number and address (the child's addresses) against the mothers of the unborn children
on an active pre-birth plan (`expectant_mothers`), scored by the current match model's
own comparisons, with the same term frequencies as an enquiry about a child, and
decided by its own thresholds and margin, so that the same "never the wrong one" care
applies. A mother's NHS number is never taken as verified (nobody traced it on the
child's record), so it is strong evidence, not proof.

What the caller may be matched on is the caller's `MatchScope`, as for a child: a
shielded child's addresses (which are hers) count only for its keepers, so that the
address a hospital gives never decides between `match` and `not_found` for a woman
under the shield."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from index_service.children.models import Child, ChildMother, ChildStatus, DatePrecision
from index_service.common import utcnow
from index_service.flags.models import Flag, FlagKind
from index_service.matching.addresses import place_of
from index_service.matching.frequencies import frequencies_of
from index_service.matching.model import MatchModel, load_model, score
from index_service.matching.records import MatchScope, Person, PersonName, Place
from index_service.matching.resolver import (
    Outcome,
    Resolution,
    Scored,
    Stored,
    decide,
    load_people,
)

# How long after the expected date of delivery an unborn child with no birth recorded is
# still looked for through its mother: a pregnancy runs to 42 weeks, two past the date,
# and that overdue fortnight is when she is most likely to arrive at maternity.
OVERDUE_DAYS = 14


@dataclass(frozen=True)
class ExpectantMother:
    """A woman whose unborn child is on an active pre-birth plan, as the index holds her."""

    child_id: uuid.UUID
    given_names: str
    family_name: str
    date_of_birth: date
    nhs_number: str | None


def expectant_mothers(
    session: Session, *, date_of_birth: date | None, nhs_number: str | None, today: date
) -> list[ExpectantMother]:
    """The mothers born on that date or with that NHS number (blocking) whose child is
    findable through them: an active record, still unborn (its date of birth is still
    the estimated date of delivery, at most `OVERDUE_DAYS` past: a birth recorded makes
    it exact), on an unborn child protection plan flag that has not ended. Any other
    mother row (a plan ended, a child born) finds nothing, and the enquiry is the same
    `not_found` as for a woman the index never held. The one read of a mother's identity
    for this purpose, whichever table ends up holding it."""
    keys = []
    if date_of_birth is not None:
        keys.append(col(ChildMother.date_of_birth) == date_of_birth)
    if nhs_number:
        keys.append(col(ChildMother.nhs_number) == nhs_number)
    if not keys:
        return []
    on_plan = exists().where(
        col(Flag.child_id) == col(Child.id),
        col(Flag.kind) == FlagKind.UNBORN_CHILD_PROTECTION_PLAN.value,
        col(Flag.ended_at).is_(None),
    )
    rows = session.exec(
        select(ChildMother)
        .join(Child, col(Child.id) == col(ChildMother.child_id))
        .where(
            or_(*keys),
            col(Child.status) == ChildStatus.ACTIVE.value,
            col(Child.date_of_birth_precision) == DatePrecision.ESTIMATED.value,
            col(Child.date_of_birth) >= today - timedelta(days=OVERDUE_DAYS),
            on_plan,
        )
    ).all()
    return [
        ExpectantMother(
            child_id=m.child_id,
            given_names=m.given_names,
            family_name=m.family_name,
            date_of_birth=m.date_of_birth,
            nhs_number=m.nhs_number,
        )
        for m in rows
    ]


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
    *,
    session: Session,
    person: Person,
    scope: MatchScope,
    model: MatchModel | None = None,
    today: date | None = None,
) -> Resolution:
    """The unborn child whose expectant mother this is: `match` only when the model is
    confident and no other mother comes close. Candidates are `expectant_mothers`; her
    address is her child's (current first, then previous), loaded as the resolver loads
    a child's, within `scope`; only candidates whose identity agrees are ranked."""
    model = model or load_model()
    mothers = expectant_mothers(
        session,
        date_of_birth=person.date_of_birth,
        nhs_number=person.nhs_number,
        today=today or utcnow().date(),
    )
    if not mothers:
        return Resolution(Outcome.NOT_FOUND, [], 0, model.version)
    children = load_people(session=session, child_ids=[m.child_id for m in mothers], scope=scope)
    frequencies = frequencies_of(session, person) if model.term_frequency is not None else None
    scored = []
    for mother in mothers:
        child = children.get(mother.child_id)
        if child is None:  # gone between the two reads
            continue
        stored = mother_person(
            given_names=mother.given_names,
            family_name=mother.family_name,
            date_of_birth=mother.date_of_birth,
            nhs_number=mother.nhs_number,
            places=child.person.places,
        )
        scored.append(
            Scored(
                mother.child_id,
                score(model, person, stored, frequencies),
                Stored(child=child.child, person=stored, current_postcode=child.current_postcode),
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
