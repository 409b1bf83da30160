"""Comparison functions: for each field, the label of the first level of the match model
that two records reach. Pure and ordered from strongest to weakest; a side that does not
know the field gives `missing`, which weighs nothing either way.

Names are compared across every name each side has (aliases, previous names), keeping
the best pair; given and family names are also tried the other way round (a child
recorded as "Kouao Anna"), and the `name_order` comparison says which order won.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz.distance import JaroWinkler

from index_service.matching.normalise import (
    digits_apart,
    family_name_key,
    family_name_parts,
    first_given_name,
    nickname_equivalent,
    swapped_day_month,
)
from index_service.matching.postcodes import outward_code
from index_service.matching.records import Person, PersonName

MISSING = "missing"
CLOSE_SPELLING = 0.9  # Jaro-Winkler similarity of the folded forms


@lru_cache(maxsize=131072)
def phonetic(word: str) -> str:
    return jellyfish.metaphone(word)[:40] if word else ""


def _close(a: str, b: str) -> bool:
    return JaroWinkler.similarity(a, b) >= CLOSE_SPELLING


GIVEN_LEVELS = ("exact", "nickname", "close_spelling", "phonetic", "initial", "different")
FAMILY_LEVELS = ("exact", "one_part", "close_spelling", "phonetic", "different")


def given_level(a: str, b: str) -> str:
    first_a, first_b = first_given_name(a), first_given_name(b)
    if not first_a or not first_b:
        return MISSING
    if first_a == first_b:
        return "exact"
    if nickname_equivalent(first_a, first_b):
        return "nickname"
    if _close(first_a, first_b):
        return "close_spelling"
    if phonetic(first_a) == phonetic(first_b):
        return "phonetic"
    if first_a[0] == first_b[0] and min(len(first_a), len(first_b)) == 1:
        return "initial"
    return "different"


def family_level(a: str, b: str) -> str:
    key_a, key_b = family_name_key(a), family_name_key(b)
    if not key_a or not key_b:
        return MISSING
    if key_a == key_b:
        return "exact"
    if family_name_parts(a) & family_name_parts(b):
        return "one_part"
    if _close(key_a, key_b):
        return "close_spelling"
    if phonetic(key_a) == phonetic(key_b):
        return "phonetic"
    return "different"


@dataclass(frozen=True)
class NameLevels:
    given: str
    family: str
    order: str  # "as_given" or "swapped"


def name_levels(
    a: tuple[PersonName, ...],
    b: tuple[PersonName, ...],
    rank: Callable[[NameLevels], float],
) -> NameLevels:
    """The best-ranked levels over every pair of names, in either order."""
    if not a or not b:
        return NameLevels(MISSING, MISSING, "as_given")
    options = []
    for x in a:
        for y in b:
            options.append(
                NameLevels(
                    given_level(x.given, y.given), family_level(x.family, y.family), "as_given"
                )
            )
            options.append(
                NameLevels(
                    given_level(x.given, y.family), family_level(x.family, y.given), "swapped"
                )
            )
    return max(options, key=rank)


DATE_LEVELS = (
    "exact",
    "day_month_swapped",
    "one_digit",
    "approximate",
    "same_year",
    "different",
)
APPROXIMATE = frozenset({"year", "estimated"})


def date_of_birth_level(a: Person, b: Person) -> str:
    """`approximate`: one side knows only a year or an age, and the years are within one
    of each other (an age of 7 fits two birth years)."""
    if a.date_of_birth is None or b.date_of_birth is None:
        return MISSING
    x, y = a.date_of_birth, b.date_of_birth
    if {a.date_of_birth_precision, b.date_of_birth_precision} & APPROXIMATE:
        return "approximate" if abs(x.year - y.year) <= 1 else "different"
    if x == y:
        return "exact"
    if swapped_day_month(x) == y:
        return "day_month_swapped"
    if digits_apart(x, y) == 1:
        return "one_digit"
    if x.year == y.year:
        return "same_year"
    return "different"


POSTCODE_LEVELS = ("current", "previous", "same_district", "different")


def postcode_level(a: Person, b: Person) -> str:
    if not a.postcodes or not b.postcodes:
        return MISSING
    if a.postcodes[0] == b.postcodes[0]:
        return "current"
    if set(a.postcodes) & set(b.postcodes):
        return "previous"
    if {outward_code(p) for p in a.postcodes} & {outward_code(p) for p in b.postcodes}:
        return "same_district"
    return "different"


IDENTIFIER_LEVELS = ("agree", "disagree")


def identifier_level(a: str | None, b: str | None) -> str:
    if not a or not b:
        return MISSING
    return "agree" if a == b else "disagree"
