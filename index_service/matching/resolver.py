"""The resolver: candidates from blocking, scored by the match model, and the outcome.

- `match`: the best candidate reaches the match threshold and is ahead of the next by
  the margin (as the NHS matching service does), and no name of it disagrees unless an
  identifier agrees (`Explanation.may_match`: a twin): only then is one child's entry
  shown.
- `possible_matches`: up to five candidates at or above the lower threshold, best first.
- `not_found`: nothing reaches the lower threshold.
Every outcome carries each shown candidate's explanation and the model version.

A candidate is ranked at all only if its identity agrees (`Explanation.identity_agrees`:
an identifier, or a name at some level), so that a date of birth and a postcode alone
never show a child. What may be matched on (a shielded child's addresses) and how many
may be shown come from the caller as a `MatchScope`: matching decides identity only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    literal,
    null,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from index_service.children.models import Child, ChildAddress, ChildName
from index_service.matching.addresses import place_of
from index_service.matching.blocking import find_candidates
from index_service.matching.frequencies import frequencies_of
from index_service.matching.model import Explanation, MatchModel, load_model, score
from index_service.matching.records import MatchScope, Person, PersonName, Place


class Outcome(StrEnum):
    MATCH = "match"
    POSSIBLE_MATCHES = "possible_matches"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Stored:
    """A candidate as loaded once: its row, how the matcher sees it, its current postcode."""

    child: Child
    person: Person
    current_postcode: str | None


@dataclass(frozen=True)
class Scored:
    child_id: uuid.UUID
    explanation: Explanation
    stored: Stored


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    candidates: list[Scored]  # shown: one for a match, at most five otherwise
    considered: int  # how many candidates were ranked
    model_version: str


def resolve(
    *, session: Session, person: Person, scope: MatchScope, model: MatchModel | None = None
) -> Resolution:
    model = model or load_model()
    ranked = rank(session=session, person=person, scope=scope, model=model)
    return decide(model, ranked, considered=len(ranked), max_shown=scope.max_shown)


def rank(*, session: Session, person: Person, scope: MatchScope, model: MatchModel) -> list[Scored]:
    """Every candidate the blocking rules find whose identity agrees (an identifier, or a
    name at some level), scored, best first. Blocking and scoring both see the child's
    addresses only as `scope` allows."""
    ids = find_candidates(session=session, person=person, scope=scope)
    stored = load_people(session=session, child_ids=ids, scope=scope)
    frequencies = (
        frequencies_of(session, person) if model.term_frequency is not None and stored else None
    )
    scored = (
        Scored(id_, score(model, person, it.person, frequencies), it) for id_, it in stored.items()
    )
    return sorted(
        (s for s in scored if s.explanation.identity_agrees()),
        key=lambda s: (-s.explanation.total, str(s.child_id)),
    )


def decide(
    model: MatchModel, ranked: list[Scored], *, considered: int, max_shown: int
) -> Resolution:
    """The outcome rule, on candidates ranked best first."""
    thresholds = model.thresholds
    if ranked:
        best = ranked[0].explanation.total
        runner_up = ranked[1].explanation.total if len(ranked) > 1 else float("-inf")
        others = (s.explanation.total for s in ranked[1:])
        if (
            thresholds.match_evidence(best, others) >= thresholds.match
            and best - runner_up >= thresholds.margin
            and ranked[0].explanation.may_match()
        ):
            return Resolution(Outcome.MATCH, ranked[:1], considered, model.version)
    shown = [s for s in ranked if s.explanation.total >= thresholds.possible][:max_shown]
    outcome = Outcome.POSSIBLE_MATCHES if shown else Outcome.NOT_FOUND
    return Resolution(outcome, shown, considered, model.version)


def load_people(
    *, session: Session, child_ids: list[uuid.UUID], scope: MatchScope
) -> dict[uuid.UUID, Stored]:
    """The candidates as the matcher compares them, in two queries (the rows, then every
    name and address at once); names legal first, postcodes current first. A shielded
    child's postcodes only where `scope` lets its addresses count (as in blocking)."""
    if not child_ids:
        return {}
    ids = {"child_ids": list(child_ids)}
    children = session.execute(_CHILDREN, ids).scalars().all()
    names: dict[uuid.UUID, list[PersonName]] = defaultdict(list)
    postcodes: dict[uuid.UUID, list[str]] = defaultdict(list)
    places: dict[uuid.UUID, list[Place]] = defaultdict(list)
    current: dict[uuid.UUID, str] = {}
    for row in session.execute(_NAMES_AND_ADDRESSES, ids):
        if row.is_name:
            names[row.child_id].append(PersonName(row.given_names, row.family_name))
        else:
            postcodes[row.child_id].append(row.given_names)  # the postcode
            places[row.child_id].append(
                place_of(line1=row.line1, line2=row.line2, town=row.town, postcode=row.given_names)
            )
            if row.current:
                current[row.child_id] = row.given_names
    return {
        child.id: Stored(
            child=child,
            person=Person(
                names=tuple(names[child.id]),
                date_of_birth=child.date_of_birth,
                date_of_birth_precision=child.date_of_birth_precision,
                postcodes=tuple(postcodes[child.id]) if counts else (),
                places=tuple(places[child.id]) if counts else (),
                nhs_number=child.nhs_number,
                nhs_number_verified=child.nhs_number_status != "unverified",
                upn=child.upn,
            ),
            current_postcode=current.get(child.id),
        )
        for child in children
        for counts in (
            scope.matches_addresses_of(
                shielded=child.shielded, responsible_authority=child.responsible_authority
            ),
        )
    }


# The candidates' ids as one array parameter: one SQL text whatever their number, built
# once (building and hashing the expression cost more than running it).
_IDS = bindparam("child_ids", type_=ARRAY(Uuid))
_CHILDREN = select(Child).where(col(Child.id) == any_(_IDS))


def _names_and_addresses() -> Select[Any]:
    """Every name (legal first, then by position) and every address (current first, then
    the most recently ended) of the candidates, in one round trip."""
    name_rows = sa_select(
        col(ChildName.child_id),
        literal(True).label("is_name"),
        col(ChildName.given_names),  # an address's postcode in this column
        col(ChildName.family_name),
        literal(False).label("current"),
        cast(col(ChildName.kind) != "legal", Integer).label("rank1"),
        col(ChildName.position),
        cast(null(), Date).label("ended"),
        cast(null(), String).label("line1"),
        cast(null(), String).label("line2"),
        cast(null(), String).label("town"),
    ).where(col(ChildName.child_id) == any_(_IDS))
    address_rows = sa_select(
        col(ChildAddress.child_id),
        literal(False),
        col(ChildAddress.postcode),
        null(),
        col(ChildAddress.to_date).is_(None),
        literal(0),
        literal(0),
        col(ChildAddress.to_date),
        col(ChildAddress.line1),
        col(ChildAddress.line2),
        col(ChildAddress.town),
    ).where(col(ChildAddress.child_id) == any_(_IDS))
    rows = union_all(name_rows, address_rows).subquery()
    return sa_select(rows).order_by(
        rows.c.child_id,
        rows.c.is_name.desc(),
        rows.c.rank1,
        rows.c.position,
        rows.c.ended.desc().nulls_first(),
    )


_NAMES_AND_ADDRESSES = _names_and_addresses()
