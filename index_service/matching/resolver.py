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

import functools
import uuid
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Select, Uuid, any_, bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlmodel import Session, col

from index_service.children.models import Child, ChildAddress, ChildName, NhsNumberStatus
from index_service.matching.addresses import place_of
from index_service.matching.blocking import Probe, Shape, blocked, parameters
from index_service.matching.frequencies import (
    LOOKED_UP,
    Tokens,
    frequencies_from,
    lookup_values,
)
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
    addresses only as `scope` allows. One round trip: the candidates found, with their
    names and addresses, and the enquiry's term frequencies (`frequencies.LOOKED_UP`)."""
    probe = Probe.of(person)
    weighted = model.term_frequency is not None
    statement = _found_and_loaded(Shape.of(probe, scope), weighted)
    if statement is None:
        return []
    values = parameters(probe, scope)
    tokens: Tokens = Counter()
    if weighted:
        tokens, looked_up = lookup_values(person)
        values.update(looked_up)
    frequencies = None
    stored: dict[uuid.UUID, Stored] = {}
    for row in session.execute(statement, values):
        stored[row[0].id] = _stored(row[0], row[1], row[2], scope)
        if weighted and frequencies is None:
            frequencies = frequencies_from(tokens, row[3] or ())
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
    """The candidates as the matcher compares them, in one query (each row with its
    names and addresses); names legal first, postcodes current first. A shielded
    child's postcodes only where `scope` lets its addresses count (as in blocking)."""
    if not child_ids:
        return {}
    rows = session.execute(_CHILDREN, {"child_ids": list(child_ids)})
    return {row[0].id: _stored(row[0], row[1], row[2], scope) for row in rows}


def _stored(
    child: Child,
    names: list[list[str]] | None,
    addresses: list[list[Any]] | None,
    scope: MatchScope,
) -> Stored:
    """A child as loaded (`_NAMES`, `_ADDRESSES`: lists in their order, or None if there
    are none) as the matcher compares it."""
    counts = scope.matches_addresses_of(
        shielded=child.shielded, responsible_authority=child.responsible_authority
    )
    postcodes: list[str] = []
    places: list[Place] = []
    current = None
    for postcode, line1, line2, town, is_current in addresses or ():
        postcodes.append(postcode)
        places.append(place_of(line1=line1, line2=line2, town=town, postcode=postcode))
        if is_current:
            current = postcode  # the last current one, as ever
    return Stored(
        child=child,
        person=Person(
            names=tuple(PersonName(given, family) for given, family in names or ()),
            date_of_birth=child.date_of_birth,
            date_of_birth_precision=child.date_of_birth_precision,
            postcodes=tuple(postcodes) if counts else (),
            places=tuple(places) if counts else (),
            nhs_number=child.nhs_number,
            nhs_number_verified=child.nhs_number_status != NhsNumberStatus.UNVERIFIED,
            upn=child.upn,
        ),
        current_postcode=current,
    )


# Each candidate's names (legal first, then by position) and addresses (current first,
# then the most recently ended) as JSON arrays beside its row, so that a child and all
# the matcher compares of it come in one row of one round trip.
_NAMES = (
    sa_select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(col(ChildName.given_names), col(ChildName.family_name)),
                col(ChildName.kind) != "legal",
                col(ChildName.position),
            ),
            type_=JSON,
        )
    )
    .where(col(ChildName.child_id) == col(Child.id))
    .scalar_subquery()
)
_ADDRESSES = (
    sa_select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(
                    col(ChildAddress.postcode),
                    col(ChildAddress.line1),
                    col(ChildAddress.line2),
                    col(ChildAddress.town),
                    col(ChildAddress.to_date).is_(None),
                ),
                col(ChildAddress.to_date).desc().nulls_first(),
            ),
            type_=JSON,
        )
    )
    .where(col(ChildAddress.child_id) == col(Child.id))
    .scalar_subquery()
)

# The candidates' ids as one array parameter: one SQL text whatever their number, built
# once (building and hashing the expression cost more than running it).
_IDS = bindparam("child_ids", type_=ARRAY(Uuid))
_CHILDREN = sa_select(Child, _NAMES, _ADDRESSES).where(col(Child.id) == any_(_IDS))


@functools.lru_cache(maxsize=1024)
def _found_and_loaded(shape: Shape, weighted: bool) -> Select[Any] | None:
    """The active children the blocking rules of `shape` find, loaded, and (`weighted`)
    the enquiry's term frequencies: one statement per shape, built once (see
    `blocking.Shape`)."""
    found = blocked(shape)
    if found is None:
        return None
    columns: list[Any] = [Child, _NAMES, _ADDRESSES]
    if weighted:
        columns.append(LOOKED_UP)
    return sa_select(*columns).where(col(Child.id).in_(found), col(Child.status) == "active")
