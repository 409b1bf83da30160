"""Candidate search in PostgreSQL: several blocking rules at once, each an indexed
lookup, so that a search never scans the table. Every name a child is known by and every
address they have had are searched, not only the current ones.

Rules (a child is a candidate if any holds):
- `nhs_number`, `upn`: the identifier agrees;
- `family_dob`: family-name Metaphone, and date of birth (or its day/month swap);
- `given_dob`: first given name or one of its nicknames, and date of birth (or swap);
- `postcode`: an address's postcode, whatever the names (scoring decides);
- `postcode_dob`: an address's postcode, and date of birth (or swap);
- `names`: family Metaphone and a given-name form, born within three years;
- `family_spelling`: date of birth (or swap), a given-name form, and the family key within
  trigram distance (a misspelt family name that sounds different);
- `swapped`: given and family names the other way round, each by Metaphone;
- `dob_spelling`: date of birth (or swap) and either name within a looser trigram
  distance of either name (a typo in each, a truncated name, names swapped);
- `sector_sound`: an address in the postcode sector (`W5 2`) and the family or given
  name's Metaphone (a mistyped inward code, a move within the sector);
- `year_family`: the family name's Metaphone, born within the year or two an age or a
  year of birth allows (no date rule applies then); capped like every rule, so it finds
  every child of a rare name and some of a common one.
The rules cover what the model can score at `possible` or above (a property test scores
the children no rule finds). Each rule is capped (`PER_RULE`), so a very common name
cannot flood the scorer.

The postcode rules read a shielded child's addresses only when the search's `MatchScope`
says so (its responsible authority's data managers): for anyone else those addresses are
no key, so a postcode can neither find the child nor add to its score (`resolver.py`
leaves them out of scoring by the same scope).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    Subquery,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlmodel import Session, col

from index_service.children.models import Child, ChildAddress, ChildName
from index_service.matching.keys import name_keys
from index_service.matching.normalise import name_group, swapped_day_month
from index_service.matching.records import MatchScope, Person

PER_RULE = 200
TRIGRAM_SIMILARITY = 0.5
LOOSE_TRIGRAM_SIMILARITY = 0.3  # on the few names of one day of birth only


@dataclass(frozen=True)
class Probe:
    """The enquiry's details as blocking keys."""

    family_key: str | None
    family_phonetic: str | None
    given_forms: tuple[str, ...]
    given_phonetic: str | None
    dates: tuple[date, ...]
    birth_window: tuple[date, date] | None
    postcodes: tuple[str, ...]
    nhs_number: str | None
    upn: str | None
    sectors: tuple[str, ...] = ()  # LIKE patterns of the postcodes' sectors: 'W5 2%'
    # (the first, the enquiry's, is searched)
    year_window: tuple[date, date] | None = None  # only a year or an age known
    given_key: str | None = None  # the first given name, folded

    @classmethod
    def of(cls, person: Person) -> Probe:
        first = person.names[0] if person.names else None
        keys = name_keys(first.given, first.family) if first else None
        dates: tuple[date, ...] = ()
        window = None
        if person.date_of_birth is not None:
            swapped = swapped_day_month(person.date_of_birth)
            exact = person.date_of_birth_precision == "exact"
            dates = (person.date_of_birth,) + ((swapped,) if swapped and exact else ())
            window = (
                person.date_of_birth - timedelta(days=3 * 366),
                person.date_of_birth + timedelta(days=3 * 366),
            )
        year_window = None
        if person.date_of_birth is not None and person.date_of_birth_precision != "exact":
            year = person.date_of_birth.year
            year_window = (date(year - 1, 1, 1), date(year + 1, 12, 31))
        postcodes = person.postcodes or tuple(p.postcode for p in person.places if p.postcode)
        return cls(
            sectors=tuple(dict.fromkeys(f"{sector}%" for p in postcodes if (sector := _sector(p)))),
            year_window=year_window,
            given_key=keys.given_key or None if keys else None,
            family_key=keys.family_key or None if keys else None,
            family_phonetic=keys.family_phonetic or None if keys else None,
            given_forms=tuple(sorted(name_group(first.given))) if first else (),
            given_phonetic=keys.given_phonetic or None if keys else None,
            dates=dates if person.date_of_birth_precision == "exact" else (),
            birth_window=window,
            postcodes=postcodes,
            nhs_number=person.nhs_number,
            upn=person.upn,
        )


def _sector(postcode: str) -> str | None:
    """'W5 2AA' -> 'W5 2' (the outward code and the inward digit)."""
    outward, _, inward = postcode.partition(" ")
    return f"{outward} {inward[0]}" if inward[:1].isdigit() else None


@dataclass(frozen=True)
class Shape:
    """Which of the probe's keys are there, and whether a shielded child's addresses
    count for someone: the rules depend on nothing else, so the statements are built
    once per shape (with bound parameters) and reused: building and hashing a SQL
    expression of nine rules costs more than the search itself."""

    nhs_number: bool
    upn: bool
    family_phonetic: bool
    family_key: bool
    given_forms: bool
    given_phonetic: bool
    dates: bool
    birth_window: bool
    postcodes: bool
    shielded_addresses_of: bool
    sectors: bool = False
    year_window: bool = False

    @classmethod
    def of(cls, probe: Probe, scope: MatchScope) -> Shape:
        return cls(
            nhs_number=bool(probe.nhs_number),
            upn=bool(probe.upn),
            family_phonetic=bool(probe.family_phonetic),
            family_key=bool(probe.family_key),
            given_forms=bool(probe.given_forms),
            given_phonetic=bool(probe.given_phonetic),
            dates=bool(probe.dates),
            birth_window=probe.birth_window is not None,
            postcodes=bool(probe.postcodes),
            shielded_addresses_of=scope.shielded_addresses_of is not None,
            sectors=bool(probe.sectors),
            year_window=probe.year_window is not None,
        )


def parameters(probe: Probe, scope: MatchScope) -> dict[str, Any]:
    """The values of the statements' bound parameters, for this probe and scope."""
    window = probe.birth_window or (None, None)
    years = probe.year_window or (None, None)
    values: dict[str, Any] = {
        "nhs_number": probe.nhs_number,
        "upn": probe.upn,
        "family_phonetic": probe.family_phonetic,
        "family_key": probe.family_key,
        "given_key": probe.given_key,
        "given_forms": list(probe.given_forms),
        "given_phonetic": probe.given_phonetic,
        "dates": list(probe.dates),
        "born_from": window[0],
        "born_to": window[1],
        "postcodes": list(probe.postcodes),
        "shielded_addresses_of": scope.shielded_addresses_of,
        "sector": probe.sectors[0] if probe.sectors else None,
        "year_from": years[0],
        "year_to": years[1],
    }
    return {k: v for k, v in values.items() if v is not None and v != []}


def _addresses_count(shape: Shape) -> ColumnElement[bool]:
    """A WHERE clause over `child`: its addresses are keys for this search (`MatchScope`)."""
    if not shape.shielded_addresses_of:
        return col(Child.shielded).is_(False)
    return or_(
        col(Child.shielded).is_(False),
        col(Child.responsible_authority) == bindparam("shielded_addresses_of"),
    )


@functools.lru_cache(maxsize=1024)
def rules_for(shape: Shape) -> Mapping[str, Select[Any]]:
    """Each rule that applies to probes of this shape, as its own SELECT of child ids
    with bound parameters (`parameters`). The name rules read one composite index of
    `child_name` each (see its table arguments); the date of birth there is the
    child's, copied. The postcode rules join `child` (by its key) to leave out addresses
    the scope does not let count."""
    name = select(col(ChildName.child_id))
    address = select(col(ChildAddress.child_id))
    rules: dict[str, Select[Any]] = {}
    given = col(ChildName.given_key).in_(bindparam("given_forms", expanding=True))
    dates: BindParameter[Any] = bindparam("dates", expanding=True)
    born = col(ChildName.date_of_birth).in_(dates)
    family_phonetic: BindParameter[Any] = bindparam("family_phonetic")
    if shape.nhs_number:
        rules["nhs_number"] = select(col(Child.id)).where(
            col(Child.nhs_number) == bindparam("nhs_number")
        )
    if shape.upn:
        rules["upn"] = select(col(Child.id)).where(col(Child.upn) == bindparam("upn"))
    if shape.family_phonetic and shape.dates:
        rules["family_dob"] = name.where(born, col(ChildName.family_phonetic) == family_phonetic)
    if shape.given_forms and shape.dates:
        rules["given_dob"] = name.where(born, given)
    if shape.postcodes:
        at = col(ChildAddress.postcode).in_(bindparam("postcodes", expanding=True))
        counts = _addresses_count(shape)
        of_child = col(Child.id) == col(ChildAddress.child_id)
        # Every child with an address at the postcode (a postcode is a street or part of
        # one: a handful of children), whatever the names: scoring decides.
        rules["postcode"] = address.join(Child, of_child).where(at, counts)
        if shape.dates:
            rules["postcode_dob"] = address.join(Child, of_child).where(
                at, col(Child.date_of_birth).in_(dates), counts
            )
    if shape.family_phonetic and shape.given_forms:
        within = (
            col(ChildName.date_of_birth).between(bindparam("born_from"), bindparam("born_to"))
            if shape.birth_window
            else true()
        )
        rules["names"] = name.where(
            col(ChildName.family_phonetic) == family_phonetic, given, within
        )
    if shape.family_key and shape.given_forms and shape.dates:
        # Born on the day (or its swap) with a given-name form: the trigram test then runs
        # on a handful of rows, not on every similar family name in England. `similarity()`
        # with the threshold written here, rather than the `%` operator and its session
        # setting, costs no `SET` statement per enquiry (what `%` means: pg_trgm's docs).
        rules["family_spelling"] = name.where(
            born,
            given,
            func.similarity(col(ChildName.family_key), bindparam("family_key", type_=String))
            >= TRIGRAM_SIMILARITY,
        )
    if shape.family_phonetic and shape.given_phonetic:
        rules["swapped"] = name.where(
            col(ChildName.given_phonetic) == family_phonetic,
            col(ChildName.family_phonetic) == bindparam("given_phonetic"),
        )
    if shape.family_key and shape.given_forms and shape.dates:
        # Born on the day: the trigram tests run on the names of the children born that
        # day (the date leads `ix_child_name_born_family`), either name against either,
        # at a looser similarity: a typo in each name, a truncated name, names swapped.
        family_key = bindparam("family_key", type_=String)
        given_key = bindparam("given_key", type_=String)
        rules["dob_spelling"] = name.where(
            born,
            or_(
                *(
                    func.similarity(stored, asked) >= LOOSE_TRIGRAM_SIMILARITY
                    for stored in (col(ChildName.family_key), col(ChildName.given_key))
                    for asked in (family_key, given_key)
                )
            ),
        )
    if shape.sectors and (shape.family_phonetic or shape.given_phonetic):
        # The sector prefix reads `ix_child_address_postcode_prefix` (text_pattern_ops).
        in_sector = col(ChildAddress.postcode).like(bindparam("sector"))
        sounds = or_(
            col(ChildName.family_phonetic)
            == (family_phonetic if shape.family_phonetic else literal("")),
            col(ChildName.given_phonetic)
            == (bindparam("given_phonetic") if shape.given_phonetic else literal("")),
        )
        rules["sector_sound"] = (
            address.join(ChildName, col(ChildName.child_id) == col(ChildAddress.child_id))
            .join(Child, col(Child.id) == col(ChildAddress.child_id))
            .where(in_sector, sounds, _addresses_count(shape))
        )
    if shape.family_phonetic and shape.year_window:
        rules["year_family"] = name.where(
            col(ChildName.family_phonetic) == family_phonetic,
            col(ChildName.date_of_birth).between(bindparam("year_from"), bindparam("year_to")),
        )
    return MappingProxyType({label: rule.limit(PER_RULE) for label, rule in rules.items()})


@functools.lru_cache(maxsize=1024)
def _found(shape: Shape) -> Subquery | None:
    """Every rule of the shape at once (a UNION of child ids)."""
    rules = rules_for(shape)
    if not rules:
        return None
    return union(*(rule.subquery().select() for rule in rules.values())).subquery()


@functools.lru_cache(maxsize=1024)
def blocked(shape: Shape) -> Select[Any] | None:
    """The ids some rule of the shape finds, whatever the record's status: to go in a
    statement that reads the candidates themselves (`resolver.rank`, which keeps the
    active ones), so that finding and loading them is one round trip."""
    found = _found(shape)
    return None if found is None else select(found.c[0])


@functools.lru_cache(maxsize=1024)
def _candidates_for(shape: Shape) -> Select[Any] | None:
    """Every rule of the shape at once, active records only."""
    found = _found(shape)
    if found is None:
        return None
    return (
        select(found.c[0])
        .join(Child, col(Child.id) == found.c[0])
        .where(col(Child.status) == "active")
    )


def blocking_rules(probe: Probe, scope: MatchScope | None = None) -> dict[str, Select[Any]]:
    """Each applicable rule as its own SELECT of child ids with the probe's values bound
    (EXPLAINed in the tests, timed by the bench)."""
    scope = scope or MatchScope()
    values = parameters(probe, scope)
    return {
        label: rule.params(**values) for label, rule in rules_for(Shape.of(probe, scope)).items()
    }


def find_candidates(*, session: Session, person: Person, scope: MatchScope) -> list[uuid.UUID]:
    """The ids of every child some blocking rule finds, active records only."""
    probe = Probe.of(person)
    statement = _candidates_for(Shape.of(probe, scope))
    if statement is None:
        return []
    return list(session.execute(statement, parameters(probe, scope)).scalars())
