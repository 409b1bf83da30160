"""Term frequencies for model v4 (`model.TermFrequencyPolicy`): how many of the index's
names carry each folded first given name and family name (the blocking keys' forms,
`matching/keys.py`), and how many addresses each postcode.

Kept up to date as records are written: the children service hands every change of a
child's names or addresses to `record_change` in the same transaction, which adds the
difference per token with one upsert (tokens in a fixed order, so two writers never
wait on each other in a cycle); a merge and its undo hand over the tokens of both
entries before and after (`tokens_of`), and destruction takes away the destroyed
entries' (`forget_children`). A token counted down to nothing is deleted: a destroyed
child's rare name does not stay behind as a row. No per-child row, and no running total
to contend on: the number of names and addresses counted is PostgreSQL's own estimate of
the tables' rows (`pg_class.reltuples`, kept by ANALYZE), good enough for a share that
the policy smooths and bounds anyway. Read once per enquiry, for the enquiry's own
tokens only, in the statement that loads its candidates (`LOOKED_UP`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Float,
    ScalarSelect,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, insert
from sqlmodel import Session, col

from index_service.children.models import ChildAddress, ChildName, TermFrequency
from index_service.matching.model import TermFrequencies
from index_service.matching.normalise import family_name_key, first_given_name
from index_service.matching.records import Person

Tokens = Counter[tuple[str, str]]


def name_tokens(names: Iterable[tuple[str, str]]) -> Tokens:
    """(given, family) pairs as counted tokens: a name row counts its first given name
    and its family name once each."""
    counted: Tokens = Counter()
    for given, family in names:
        if first_given_name(given):
            counted["given", first_given_name(given)] += 1
        if family_name_key(family):
            counted["family", family_name_key(family)] += 1
    return counted


def postcode_tokens(postcodes: Iterable[str]) -> Tokens:
    return Counter(("postcode", postcode) for postcode in postcodes if postcode)


_UPSERT = insert(TermFrequency).values(
    kind=bindparam("kind"), token=bindparam("token"), count=bindparam("delta")
)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=[col(TermFrequency.kind), col(TermFrequency.token)],
    set_={"count": col(TermFrequency.count) + _UPSERT.excluded["count"]},
)


def record_change(session: Session, *, removed: Tokens, added: Tokens) -> None:
    """Add what was written and take away what was replaced, per token."""
    delta = Counter(added)
    delta.subtract(removed)
    rows = [
        {"kind": kind, "token": token[:100], "delta": change}
        for (kind, token), change in sorted(delta.items())
        if change
    ]
    if rows:
        session.execute(_UPSERT, rows)
    emptied = [(kind, token[:100]) for (kind, token), change in delta.items() if change < 0]
    if emptied:  # rows already locked by the upsert: nobody waits on them in a cycle
        session.execute(
            delete(TermFrequency).where(
                tuple_(col(TermFrequency.kind), col(TermFrequency.token)).in_(emptied),
                col(TermFrequency.count) <= 0,
            )
        )


def tokens_of(session: Session, child_ids: Sequence[uuid.UUID]) -> Tokens:
    """The tokens the entries' stored names and addresses count for."""
    if not child_ids:
        return Counter()
    names = session.execute(
        select(col(ChildName.given_key), col(ChildName.family_key)).where(
            col(ChildName.child_id).in_(child_ids)
        )
    ).all()
    postcodes = session.execute(
        select(col(ChildAddress.postcode)).where(col(ChildAddress.child_id).in_(child_ids))
    ).scalars()
    return name_tokens((given, family) for given, family in names) + postcode_tokens(postcodes)


def forget_children(session: Session, child_ids: Sequence[uuid.UUID]) -> None:
    """Take away the counts of entries about to be destroyed."""
    record_change(session, removed=tokens_of(session, child_ids), added=Counter())


def _lookup() -> CompoundSelect[Any]:
    # Both key columns constrained, so that the primary key (kind, token) is read.
    kinds = bindparam("kinds", type_=ARRAY(String))
    tokens = bindparam("tokens", type_=ARRAY(String))
    counts = select(
        col(TermFrequency.kind), col(TermFrequency.token), cast(col(TermFrequency.count), Float)
    ).where(col(TermFrequency.kind) == kinds.any_(), col(TermFrequency.token) == tokens.any_())
    totals = [
        select(literal(f"#{table}"), literal(""), column("reltuples", Float))
        .select_from(text("pg_class"))
        .where(text(f"oid = '{table}'::regclass"))
        for table in ("child_name", "child_address")
    ]
    return union_all(counts, *totals)


_LOOKUP = _lookup()
TOTAL_OF = {"given": "#child_name", "family": "#child_name", "postcode": "#child_address"}


def frequencies_of(session: Session, person: Person) -> TermFrequencies:
    """The counts of the person's own tokens, and the number of names and addresses."""
    tokens, values = lookup_values(person)
    return frequencies_from(tokens, session.execute(_LOOKUP, values))


def frequencies_of_people(session: Session, people: Sequence[Person]) -> list[TermFrequencies]:
    """Each person's own tokens' counts, as `frequencies_of` gives them one by one, from
    one lookup for them all (a feed's batch: one statement, not one per row)."""
    tokens = [lookup_values(person)[0] for person in people]
    every: Tokens = Counter()
    for own in tokens:
        every.update(own.keys())
    if not people:
        return []
    values = {"kinds": sorted({k for k, _ in every}), "tokens": sorted({t for _, t in every})}
    rows = session.execute(_LOOKUP, values).all()
    counts = {(kind, token): value for kind, token, value in rows if not kind.startswith("#")}
    totals = [row for row in rows if row[0].startswith("#")]
    return [frequencies_from(own, [*totals, *_counted(own, counts)]) for own in tokens]


def _counted(own: Tokens, counts: dict[tuple[str, str], Any]) -> list[tuple[str, str, Any]]:
    return [(kind, token, counts[kind, token]) for kind, token in own if (kind, token) in counts]


def lookup_values(person: Person) -> tuple[Tokens, dict[str, list[str]]]:
    """The person's own tokens, and the lookup's bound parameters for them (`LOOKED_UP`
    and `frequencies_of` take the same)."""
    tokens = name_tokens((n.given, n.family) for n in person.names)
    tokens += postcode_tokens(p.postcode or "" for p in person.places)
    tokens += postcode_tokens(person.postcodes)
    values = {"kinds": sorted({k for k, _ in tokens}), "tokens": sorted({t for _, t in tokens})}
    return tokens, values


def frequencies_from(tokens: Tokens, rows: Iterable[Sequence[Any]]) -> TermFrequencies:
    """The lookup's rows (kind, token, value) as the model reads them."""
    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, float] = {}
    for kind, token, value in rows:
        if kind.startswith("#"):
            totals[kind] = max(float(value), 0.0)
        elif (kind, token) in tokens:
            counts[kind, token] = int(value)
    return TermFrequencies(
        counts=counts, totals={kind: totals.get(of, 0.0) for kind, of in TOTAL_OF.items()}
    )


def _looked_up() -> ScalarSelect[Any]:
    rows = _LOOKUP.subquery()
    as_json = func.json_build_array(rows.c.kind, rows.c.token, rows.c.count)
    return select(func.json_agg(as_json, type_=JSON)).scalar_subquery()


# The same lookup as one JSON value ([[kind, token, value], ...]), to ride along in a
# statement of the work: the resolver reads it with its candidates (`resolver.rank`), in
# the round trip that loads them, so an enquiry spends no statement of its own on it.
# Uncorrelated, it is computed once per statement (and not at all when no row needs it).
LOOKED_UP = _looked_up()
