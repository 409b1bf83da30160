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
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from index_service.matching.normalise import (
    digits_apart,
    family_name_key,
    family_name_parts,
    first_given_name,
    nickname_equivalent,
    swapped_day_month,
)
from index_service.matching.postcodes import outward_code
from index_service.matching.records import Person, PersonName, Place

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
    # The first side's given and family names (folded keys) in the pair that won: the
    # tokens a term-frequency adjustment looks up when the level is `exact`.
    given_token: str = ""
    family_token: str = ""


LevelFunction = Callable[[str, str], str]


def name_levels(
    a: tuple[PersonName, ...],
    b: tuple[PersonName, ...],
    rank: Callable[[NameLevels], float],
    given_of: LevelFunction = given_level,
    family_of: LevelFunction = family_level,
) -> NameLevels:
    """The best-ranked levels over every pair of names, in either order (`given_of` and
    `family_of`: the model's comparisons, v3's by default)."""
    if not a or not b:
        return NameLevels(MISSING, MISSING, "as_given")
    options = []
    for x in a:
        tokens = {
            "given_token": first_given_name(x.given),
            "family_token": family_name_key(x.family),
        }
        for y in b:
            options.append(
                NameLevels(
                    given_of(x.given, y.given), family_of(x.family, y.family), "as_given", **tokens
                )
            )
            options.append(
                NameLevels(
                    given_of(x.given, y.family), family_of(x.family, y.given), "swapped", **tokens
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


# Model v4's comparisons. The v3 functions above stay as they were, so that a decision
# v3 made can be re-scored as it was made.
#
# Spelling: Jaro-Winkler in three bands (a typo in a long name stays well above 0.85,
# where v3's single cut at 0.9 sent it to "different"), and for short names, where one
# wrong letter moves Jaro-Winkler a long way ("Ava"/"Eva" 0.78), the Damerau-Levenshtein
# distance (a transposition counts one edit).
SHORT_NAME = 6  # letters: at most this long, edit distance is asked as well
V4_SPELLING = (("jw_92", 0.92), ("jw_85", 0.85), ("jw_80", 0.80))
GIVEN_LEVELS_V4 = ("exact", "nickname", "jw_92", "edit_1", "jw_85", "phonetic", "edit_2",
                   "jw_80", "initial", "different")  # fmt: skip
FAMILY_LEVELS_V4 = ("exact", "one_part", "jw_92", "edit_1", "jw_85", "phonetic", "edit_2",
                    "jw_80", "different")  # fmt: skip


def spelling_level(a: str, b: str) -> str | None:
    """The first of jw_92, edit_1, jw_85, phonetic, edit_2, jw_80 that two different
    folded names reach, or None."""
    similarity = JaroWinkler.similarity(a, b)
    short = min(len(a), len(b)) >= 2 and max(len(a), len(b)) <= SHORT_NAME
    edits = DamerauLevenshtein.distance(a, b, score_cutoff=2) if short else 3
    if similarity >= 0.92:
        return "jw_92"
    if edits == 1:
        return "edit_1"
    if similarity >= 0.85:
        return "jw_85"
    if phonetic(a) == phonetic(b):
        return "phonetic"
    if edits == 2:
        return "edit_2"
    if similarity >= 0.80:
        return "jw_80"
    return None


def given_level_v4(a: str, b: str) -> str:
    first_a, first_b = first_given_name(a), first_given_name(b)
    if not first_a or not first_b:
        return MISSING
    if first_a == first_b:
        return "exact"
    if nickname_equivalent(first_a, first_b):
        return "nickname"
    if min(len(first_a), len(first_b)) == 1:
        return "initial" if first_a[0] == first_b[0] else "different"
    return spelling_level(first_a, first_b) or "different"


def family_level_v4(a: str, b: str) -> str:
    key_a, key_b = family_name_key(a), family_name_key(b)
    if not key_a or not key_b:
        return MISSING
    if key_a == key_b:
        return "exact"
    if family_name_parts(a) & family_name_parts(b):
        return "one_part"
    return spelling_level(key_a, key_b) or "different"


DATE_LEVELS_V4 = (
    "exact",
    "day_month_swapped",
    "one_digit",
    "same_day_month",  # the year wrong (typed a year or two out, or the year of the record)
    "same_month_year",  # the day wrong, or one side knows only the month
    "approximate",
    "same_year",
    "different",
)


def date_of_birth_level_v4(a: Person, b: Person) -> str:
    """v3's levels, with `same_day_month` (the year wrong by up to two: a typing slip
    that changes two digits, 2019 for 2021) and `same_month_year` (the day wrong, or one
    side knows only the month of birth)."""
    if a.date_of_birth is None or b.date_of_birth is None:
        return MISSING
    x, y = a.date_of_birth, b.date_of_birth
    precisions = {a.date_of_birth_precision, b.date_of_birth_precision}
    if precisions & APPROXIMATE:
        return "approximate" if abs(x.year - y.year) <= 1 else "different"
    if "month" in precisions:
        return "same_month_year" if (x.year, x.month) == (y.year, y.month) else "different"
    if x == y:
        return "exact"
    if swapped_day_month(x) == y:
        return "day_month_swapped"
    if digits_apart(x, y) == 1:
        return "one_digit"
    if (x.month, x.day) == (y.month, y.day) and abs(x.year - y.year) <= 2:
        return "same_day_month"
    if (x.year, x.month) == (y.year, y.month):
        return "same_month_year"
    if x.year == y.year:
        return "same_year"
    return "different"


ADDRESS_LEVELS = (
    "current",  # the enquiry's address is the child's current one
    "previous",  # ... one the child had before
    "same_street",  # another house in the same street (of the same town or district)
    "same_district",  # the same postcode district (W5)
    "same_town",
    "different",
)


def _same_place(x: Place, y: Place) -> bool:
    """The same dwelling as far as both sides say: the same postcode with no house or
    street contradicting it; or, without a postcode on one side, the same house number
    and street in the same town."""
    houses_known = x.house is not None and y.house is not None
    if x.postcode and y.postcode:
        if x.postcode != y.postcode:
            return False
        return not houses_known or (x.house == y.house and _streets_agree(x, y))
    return houses_known and x.house == y.house and _same_street(x, y)


def _streets_agree(x: Place, y: Place) -> bool:
    return not x.street or not y.street or x.street == y.street


def _same_street(x: Place, y: Place) -> bool:
    """The same street in the same town (or postcode district): "High Street" alone is
    in every town."""
    if not x.street or x.street != y.street:
        return False
    if x.postcode and y.postcode:
        return outward_code(x.postcode) == outward_code(y.postcode)
    return x.town is not None and x.town == y.town


def address_level(a: Person, b: Person) -> str:
    """The first level any of `a`'s places reaches against `b`'s (current first): the
    enquiry's address is often the current one, a previous one, or a relative's in the
    same street. `missing` when nothing on the two sides can be compared."""
    if not a.places or not b.places:
        return MISSING
    current = b.places[0]
    if any(_same_place(x, current) for x in a.places):
        return "current"
    if any(_same_place(x, y) for x in a.places for y in b.places[1:]):
        return "previous"
    if any(_same_street(x, y) or _neighbours(x, y) for x in a.places for y in b.places):
        return "same_street"
    districts_a = {outward_code(x.postcode) for x in a.places if x.postcode}
    districts_b = {outward_code(y.postcode) for y in b.places if y.postcode}
    if districts_a & districts_b:
        return "same_district"
    towns_a = {x.town for x in a.places if x.town}
    towns_b = {y.town for y in b.places if y.town}
    if towns_a & towns_b:
        return "same_town"
    comparable = (districts_a and districts_b) or (towns_a and towns_b)
    return "different" if comparable else MISSING


def _neighbours(x: Place, y: Place) -> bool:
    """The same postcode, another house: a postcode is a street or part of one."""
    return bool(x.postcode) and x.postcode == y.postcode


NHS_NUMBER_LEVELS_V4 = ("agree", "agree_unverified", "disagree")


def nhs_number_level_v4(a: Person, b: Person) -> str:
    """`agree` only where one side's number is verified (traced, or from a trusted feed):
    a number as typed or received is strong evidence that it is the same child, not proof
    (someone may have copied a sibling's; a Scottish CHI number passes the same check)."""
    if not a.nhs_number or not b.nhs_number:
        return MISSING
    if a.nhs_number != b.nhs_number:
        return "disagree"
    return "agree" if a.nhs_number_verified or b.nhs_number_verified else "agree_unverified"


def agreed_postcode(a: Person, b: Person) -> str | None:
    """The first of `a`'s postcodes that `b` has had (the token a term-frequency
    adjustment of the address looks up)."""
    theirs = {y.postcode for y in b.places if y.postcode}
    return next((x.postcode for x in a.places if x.postcode in theirs), None)
