"""The one address normaliser: when two written addresses are the same place. Pure, no
database; table-tested in tests/matching/test_addresses.py.

An address is compared as its normalised postcode and its lines as one sequence of words
(line 1 then line 2, so "Flat 3" + "12 X Road" on two lines is "Flat 3, 12 X Road"):
case, accents and punctuation folded ("St Mary's" = "st marys"); common street-type
abbreviations spelt out ("Rd" = "Road"; "St" at the end of a part is Street, before a
name it is Saint: "St Mary's Road"); flat, apartment and unit forms made one ("Flat 3",
"Apartment 3", "Apt 3", "3/12" = "Flat 3, 12"); house numbers split from their letter
("12a" = "12 A", "No. 12" = "12"); the flat compared first, wherever it was written.
Where both sides record a UPRN (the Unique Property Reference Number),
the UPRN decides instead of the words.

Match models v1-v3 compare addresses by postcode only (`compare.postcode_level`), in
this module's `postcode_key` form; model v4 compares them as `place_of` reads them (house,
street, town, postcode: `compare.address_level`), so there is one normal form for all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from index_service.matching.postcodes import InvalidPostcode, normalise_postcode
from index_service.matching.records import Place

# Street-type abbreviations as people and systems write them -> the full word.
STREET_TYPES: dict[str, str] = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "avn": "avenue",
    "ln": "lane",
    "cl": "close",
    "cres": "crescent",
    "cresc": "crescent",
    "dr": "drive",
    "drv": "drive",
    "gdns": "gardens",
    "gdn": "garden",
    "pl": "place",
    "sq": "square",
    "ct": "court",
    "crt": "court",
    "terr": "terrace",
    "ter": "terrace",
    "tce": "terrace",
    "gr": "grove",
    "gro": "grove",
    "pk": "park",
    "pde": "parade",
    "hwy": "highway",
    "wy": "way",
    "wlk": "walk",
    "mws": "mews",
    "blvd": "boulevard",
    "cotts": "cottages",
    "hse": "house",
    "ho": "house",
    "bldgs": "buildings",
    "est": "estate",
}
# Words for a dwelling within a building -> "flat".
FLAT_WORDS = frozenset({"flat", "flt", "apartment", "apt", "appt", "unit", "maisonette"})

# "3/12" (flat 3 at number 12), "3A/12".
_FLAT_SLASH = re.compile(r"\b(\d+[a-z]?)\s*/\s*(\d+[a-z]?)\b")
# A number and its letter: "12a" -> "12 a".
_NUMBER_LETTER = re.compile(r"\b(\d+)([a-z])\b")
# A part of an address ends at a comma (or at the end of a line).
_PARTS = re.compile(r",")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_APOSTROPHES = re.compile(r"['\u2019`]")


@dataclass(frozen=True)
class AddressText:
    """An address as recorded: its lines, postcode and UPRN if known."""

    line1: str
    postcode: str
    line2: str | None = None
    uprn: str | None = None


@dataclass(frozen=True)
class AddressKey:
    postcode: str  # normal form, or the folded text if it is no valid postcode
    words: tuple[str, ...]
    uprn: str | None


def postcode_key(postcode: str) -> str:
    """The postcode's normal form ('w5 2aa' -> 'W5 2AA'); one that is no postcode is
    compared as written, folded, so that it can only equal itself."""
    try:
        return normalise_postcode(postcode)
    except InvalidPostcode:
        return re.sub(r"\s+", "", postcode).upper()


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _part_words(part: str) -> list[str]:
    part = _FLAT_SLASH.sub(r"flat \1 \2", part)
    part = _APOSTROPHES.sub("", part)
    part = _NOT_WORD.sub(" ", part)
    part = _NUMBER_LETTER.sub(r"\1 \2", part)
    raw = part.split()
    words: list[str] = []
    for i, word in enumerate(raw):
        if word in FLAT_WORDS:
            words.append("flat")
        elif word == "st":
            # The last word of a part is the street type; before a name, Saint.
            last = i == len(raw) - 1
            words.append("street" if last or raw[i + 1].isdigit() else "saint")
        else:
            words.append(STREET_TYPES.get(word, word))
    return words


def line_words(*lines: str | None) -> tuple[str, ...]:
    """The lines as one sequence of normalised words (see the module docstring)."""
    words: list[str] = []
    for line in lines:
        if not line:
            continue
        for part in _PARTS.split(_fold(line)):
            words.extend(_part_words(part))
    return tuple(words)


def _dwelling_first(words: tuple[str, ...]) -> tuple[str, ...]:
    """The flat (its number and letter) first, wherever it was written ("12 X Road" then
    "Flat 3" on the next line is "Flat 3, 12 X Road"); "No." or "Number" before a house
    number dropped ("No. 12" = "12")."""
    flats: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "flat" and i + 1 < len(words):
            j = i + 2
            if j < len(words) and len(words[j]) == 1 and words[j].isalpha():
                j += 1  # "flat 3 a"
            flats.extend(words[i:j])
            i = j
        elif word in ("no", "number") and i + 1 < len(words) and words[i + 1].isdigit():
            i += 1
        else:
            rest.append(word)
            i += 1
    return (*flats, *rest)


def address_key(address: AddressText) -> AddressKey:
    return AddressKey(
        postcode=postcode_key(address.postcode),
        words=_dwelling_first(line_words(address.line1, address.line2)),
        uprn=address.uprn.lstrip("0") or "0" if address.uprn else None,
    )


def same_address(a: AddressText, b: AddressText) -> bool:
    """The same dwelling: the same UPRN where both record one; otherwise the same
    postcode and the same words (a different flat or house number is another address)."""
    key_a, key_b = address_key(a), address_key(b)
    if key_a.uprn and key_b.uprn:
        return key_a.uprn == key_b.uprn
    return key_a.postcode == key_b.postcode and key_a.words == key_b.words


@lru_cache(maxsize=65536)  # a candidate's addresses are read once per search they are in
def place_of(
    *,
    line1: str | None = None,
    line2: str | None = None,
    town: str | None = None,
    postcode: str | None = None,
) -> Place:
    """An address as model v4 compares it: the dwelling (the flat and the house number
    with its letter, "flat 3 12 a"), the street (the other words, a house name included),
    the town folded, the postcode in its normal form."""
    words = _dwelling_first(line_words(line1, line2))
    dwelling: list[str] = []
    street: list[str] = []
    i = 0
    if words[:1] == ("flat",):
        j = 2 if len(words) > 1 else 1
        if j < len(words) and len(words[j]) == 1 and words[j].isalpha():
            j += 1
        dwelling.extend(words[:j])
        i = j
    number_seen = False
    while i < len(words):
        word = words[i]
        if word.isdigit() and not number_seen:
            dwelling.append(word)
            number_seen = True
            if i + 1 < len(words) and len(words[i + 1]) == 1 and words[i + 1].isalpha():
                dwelling.append(words[i + 1])
                i += 1
        else:
            street.append(word)
        i += 1
    folded_town = " ".join(line_words(town)) if town else ""
    return Place(
        postcode=postcode_key(postcode) if postcode else None,
        house=" ".join(dwelling) if number_seen else None,
        street=tuple(street),
        town=folded_town or None,
    )
