"""Blocking keys of a name, stored beside it so that candidate search can use indexes:
the folded family name (spaces and punctuation gone), the first given name folded, and
the Metaphone code of each. Computed here, in one place, for writing and for searching."""

from __future__ import annotations

from dataclasses import dataclass

from index_service.matching.compare import phonetic
from index_service.matching.normalise import family_name_key, first_given_name


@dataclass(frozen=True)
class NameKeys:
    family_key: str
    family_phonetic: str
    given_key: str
    given_phonetic: str


def name_keys(given: str, family: str) -> NameKeys:
    family_key = family_name_key(family)
    given_key = first_given_name(given)
    return NameKeys(
        family_key=family_key,
        family_phonetic=phonetic(family_key),
        given_key=given_key,
        given_phonetic=phonetic(given_key),
    )
