"""A synthetic population of children and a labelled corruption model, seeded and
reproducible: the same seed gives the same children and the same enquiries.

Names come from Faker (en_GB) plus a list with diacritics; a fifth of children have an
alias, a tenth a double-barrelled family name; dates of birth fall in the last 18 years;
each child has one to four addresses. NHS numbers come from the 999 test range only (never
issued to a person), so at most about nine million children have one; UPNs are synthetic.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from faker import Faker

from index_service.children.identifiers import nhs_number_is_valid, upn_check_letter
from index_service.matching.normalise import BRITISH_SHORT_FORMS, name_group
from index_service.matching.postcodes import InvalidPostcode, normalise_postcode
from index_service.matching.records import PersonName

ACCENTED_GIVEN = ("Zoë", "Chloé", "Renée", "Noémie", "Anaïs", "José", "Zoé", "Björn", "Siân")
ACCENTED_FAMILY = ("Climbié", "Müller", "Núñez", "Öztürk", "Łukasik", "Dvořák", "Kouaö")
AREAS = ("E", "N", "W", "SE", "SW", "NW", "B", "M", "L", "LS", "BS", "NG", "CF", "G", "EH")
TOWNS = {"E": "London", "N": "London", "W": "London", "SE": "London", "SW": "London",
         "NW": "London", "B": "Birmingham", "M": "Manchester", "L": "Liverpool",
         "LS": "Leeds", "BS": "Bristol", "NG": "Nottingham", "CF": "Cardiff",
         "G": "Glasgow", "EH": "Edinburgh"}  # fmt: skip
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
TODAY = date(2026, 11, 23)  # the population's "today": reproducible whatever the date


@dataclass(frozen=True)
class Child:
    key: int
    names: tuple[PersonName, ...]  # legal first
    date_of_birth: date
    postcodes: tuple[str, ...]  # current first
    nhs_number: str | None
    upn: str | None
    lines: tuple[str, ...] = ()  # each address's first line, as `postcodes`
    towns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Enquiry:
    """What a practitioner types about a child, and the truth behind it."""

    child_key: int | None  # None: a child the index does not hold
    given: str | None
    family: str | None
    date_of_birth: date | None
    postcode: str | None
    nhs_number: str | None
    corruptions: tuple[str, ...] = field(default=())
    age_years: int | None = None  # only an age known (instead of the date of birth)
    address_line1: str | None = None
    town: str | None = None

    def as_json(self) -> dict[str, object]:
        """The body of `POST /v1/enquiries`, with what the enquirer does not know left out."""
        body = {
            "given_names": self.given,
            "family_name": self.family,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "postcode": self.postcode,
            "nhs_number": self.nhs_number,
            "age_years": self.age_years,
            "address_line1": self.address_line1,
            "town": self.town,
        }
        return {k: v for k, v in body.items() if v is not None and v != ""}


class Population:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faker = Faker("en_GB")
        self.faker.seed_instance(seed)
        self.today = TODAY
        self._nhs_used: set[str] = set()

    def postcode(self) -> str:
        while True:
            area = self.rng.choice(AREAS)
            raw = f"{area}{self.rng.randint(1, 20)} {self.rng.randint(0, 9)}" + "".join(
                self.rng.choices(INWARD_LETTERS, k=2)
            )
            try:
                return normalise_postcode(raw)
            except InvalidPostcode:
                continue

    def nhs_number(self) -> str | None:
        if len(self._nhs_used) > 8_500_000 or self.rng.random() > 0.7:
            return None  # many children at risk have none recorded
        while True:
            candidate = f"999{self.rng.randint(0, 9_999_999):07d}"
            if nhs_number_is_valid(candidate) and candidate not in self._nhs_used:
                self._nhs_used.add(candidate)
                return candidate

    def upn(self) -> str | None:
        if self.rng.random() > 0.5:
            return None
        body = f"{self.rng.choice((201, 304, 307, 309)):03d}{self.rng.randint(0, 999_999_999):09d}"
        return _upn(body)

    def given(self, female: bool) -> str:
        if self.rng.random() < 0.03:
            return self.rng.choice(ACCENTED_GIVEN)
        return self.faker.first_name_female() if female else self.faker.first_name_male()

    def family(self) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return self.rng.choice(ACCENTED_FAMILY)
        if roll < 0.13:
            return f"{self.faker.last_name()}-{self.faker.last_name()}"
        return self.faker.last_name()

    def child(self, key: int) -> Child:
        female = self.rng.random() < 0.5
        legal = PersonName(self.given(female), self.family())
        names = [legal]
        if self.rng.random() < 0.2:
            family = self.rng.choice((legal.family, self.family()))
            names.append(PersonName(self.given(female), family))
        born = self.today - timedelta(days=self.rng.randint(0, 18 * 365))
        postcodes = tuple(self.postcode() for _ in range(self.rng.choice((1, 1, 2, 3, 4))))
        nhs_number, upn = self.nhs_number(), self.upn()
        lines = tuple(self.line1() for _ in postcodes)
        towns = tuple(town_of(p) for p in postcodes)
        return Child(key, tuple(names), born, postcodes, nhs_number, upn, lines, towns)

    def line1(self) -> str:
        """A house number and a street: streets from a pool of 2,000 names, so that many
        children live in a "Station Road" (as in England), each in their own town."""
        street = STREETS[self.rng.randrange(len(STREETS))]
        return f"{self.rng.randint(1, 180)} {street}"

    def children(self, count: int) -> Iterator[Child]:
        for key in range(count):
            yield self.child(key)


def _streets() -> tuple[str, ...]:
    faker = Faker("en_GB")
    faker.seed_instance(2026)
    return tuple(dict.fromkeys(faker.street_name() for _ in range(3000)))[:2000]


STREETS = _streets()


def town_of(postcode: str) -> str:
    area = postcode.split(" ")[0].rstrip("0123456789")
    return TOWNS.get(area, "London")


def _upn(body12: str) -> str:
    """A UPN: check letter then 12 characters (authority, establishment, year, serial)."""
    return upn_check_letter(body12) + body12


CORRUPTIONS = (
    "typo",
    "given_typo",
    "nickname",
    "alias",
    "diacritics_dropped",
    "day_month_swapped",
    "wrong_year",
    "moved",
    "missing_nhs",
    "missing_postcode",
    "names_swapped",
    "one_barrel",
    "age_only",
    "previous_address",
    "moved_nearby",
    "wrong_day_and_month",
)


def enquiry_about(child: Child, rng: random.Random, corruptions: int) -> Enquiry:
    """An enquiry as a practitioner would type it, with up to `corruptions` corruptions."""
    legal = child.names[0]
    base = Enquiry(
        child_key=child.key,
        given=legal.given,
        family=legal.family,
        date_of_birth=child.date_of_birth,
        postcode=child.postcodes[0] if rng.random() < 0.7 else None,
        nhs_number=child.nhs_number if rng.random() < 0.4 else None,
    )
    if child.lines:  # the first line of the address half the time, the town half the time
        base = replace(
            base,
            address_line1=child.lines[0] if rng.random() < 0.5 else None,
            town=child.towns[0] if rng.random() < 0.5 else None,
        )
    applied = []
    for kind in rng.sample(CORRUPTIONS, k=corruptions):
        changed = _corrupt(base, child, kind, rng)
        if changed is not None:
            base, applied = changed, [*applied, kind]
    return replace(base, corruptions=tuple(applied))


def _corrupt(e: Enquiry, child: Child, kind: str, rng: random.Random) -> Enquiry | None:
    if kind == "typo" and e.family and len(e.family) > 3:
        i = rng.randrange(1, len(e.family) - 1)
        return replace(
            e, family=e.family[:i] + rng.choice(string.ascii_lowercase) + e.family[i + 1 :]
        )
    if kind == "given_typo" and e.given and len(e.given) > 3:
        i = rng.randrange(1, len(e.given) - 1)
        return replace(e, given=e.given[:i] + rng.choice(string.ascii_lowercase) + e.given[i + 1 :])
    if kind == "nickname" and e.given:
        forms = sorted(name_group(e.given) - {e.given.lower()})
        short = [f for f in forms if f in BRITISH_SHORT_FORMS or len(f) < len(e.given)]
        return replace(e, given=rng.choice(short or forms).title()) if forms else None
    if kind == "alias" and len(child.names) > 1:
        return replace(e, given=child.names[1].given, family=child.names[1].family)
    if kind == "diacritics_dropped" and e.family:
        import unicodedata

        plain = "".join(
            c for c in unicodedata.normalize("NFKD", e.family) if not unicodedata.combining(c)
        )
        return replace(e, family=plain) if plain != e.family else None
    if kind == "day_month_swapped" and e.date_of_birth and e.date_of_birth.day <= 12:
        d = e.date_of_birth
        return replace(e, date_of_birth=date(d.year, d.day, d.month)) if d.day != d.month else None
    if kind == "wrong_year" and e.date_of_birth:
        d = e.date_of_birth
        year = d.year + rng.choice((-1, 1))
        return replace(e, date_of_birth=date(year, d.month, min(d.day, 28)))
    if kind == "moved":
        if rng.random() < 0.5:
            return replace(e, postcode=None, address_line1=None, town=None)
        elsewhere = _elsewhere(child, rng)
        return replace(
            e,
            postcode=elsewhere,
            address_line1=_moved_line(e, rng),
            town=town_of(elsewhere) if e.town else None,
        )
    if kind == "missing_nhs":
        return replace(e, nhs_number=None)
    if kind == "missing_postcode":
        return replace(e, postcode=None)
    if kind == "previous_address" and len(child.postcodes) > 1 and child.lines:
        n = rng.randrange(1, len(child.postcodes))
        return replace(
            e,
            postcode=child.postcodes[n],
            address_line1=child.lines[n] if e.address_line1 else None,
            town=child.towns[n] if e.town else None,
        )
    if kind == "names_swapped":
        return replace(e, given=e.family, family=e.given)
    if kind == "previous_address" and len(child.postcodes) > 1:
        return replace(e, postcode=rng.choice(child.postcodes[1:]))
    if kind == "moved_nearby" and e.postcode:
        outward = e.postcode.split(" ")[0]
        inward = f"{rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        return replace(e, address_line1=_moved_line(e, rng), postcode=f"{outward} {inward}")
    if kind == "wrong_day_and_month" and e.date_of_birth:
        d = e.date_of_birth
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        return (
            replace(e, date_of_birth=date(d.year, month, day))
            if (month, day)
            != (
                d.month,
                d.day,
            )
            else None
        )
    if kind == "age_only" and e.date_of_birth:
        return replace(e, date_of_birth=None, age_years=_age(e.date_of_birth, TODAY))
    if kind == "one_barrel" and e.family and "-" in e.family:
        return replace(e, family=rng.choice(e.family.split("-")))
    return None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _moved_line(e: Enquiry, rng: random.Random) -> str | None:
    """Another house in another street, if the enquiry gave a first line."""
    if not e.address_line1:
        return None
    return f"{rng.randint(1, 180)} {STREETS[rng.randrange(len(STREETS))]}"


def _elsewhere(child: Child, rng: random.Random) -> str:
    return Population(rng.randint(0, 10**9)).postcode()


def absent_child_enquiry(population: Population, rng: random.Random) -> Enquiry:
    """An enquiry about a child the index does not hold."""
    stranger = population.child(-1)
    return Enquiry(
        child_key=None,
        given=stranger.names[0].given,
        family=stranger.names[0].family,
        date_of_birth=stranger.date_of_birth,
        postcode=stranger.postcodes[0] if rng.random() < 0.7 else None,
        nhs_number=None,
        address_line1=stranger.lines[0] if rng.random() < 0.5 else None,
        town=stranger.towns[0] if rng.random() < 0.5 else None,
    )


# A second corruption model, closer to what agencies' systems send than to what a person
# types: scanned and re-keyed forms (OCR confusions), fields in the wrong boxes, names cut
# short by a field's width, addresses abbreviated, values missing. Enquiries carry the
# address lines and town more often (agency records have them).
AGENCY_CORRUPTIONS = (
    "ocr_typo",
    "fields_transposed",
    "truncated_name",
    "abbreviated_address",
    "missing_values",
    "wrong_year",
    "moved",
)
OCR_CONFUSIONS = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("l", "i"),
                  ("i", "l"), ("e", "c"), ("c", "e"), ("u", "v"), ("h", "b"), ("n", "h"),
                  ("o", "a"))  # fmt: skip
ABBREVIATIONS = (("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"),
                 ("Close", "Cl"), ("Gardens", "Gdns"), ("Drive", "Dr"), ("Court", "Ct"),
                 ("Crescent", "Cres"), ("Place", "Pl"), ("Terrace", "Terr"))  # fmt: skip


def agency_enquiry_about(child: Child, rng: random.Random, corruptions: int) -> Enquiry:
    """A record an agency's system sends about the child, with up to `corruptions` of the
    agency corruptions."""
    legal = child.names[0]
    base = Enquiry(
        child_key=child.key,
        given=legal.given,
        family=legal.family,
        date_of_birth=child.date_of_birth,
        postcode=child.postcodes[0] if rng.random() < 0.8 else None,
        nhs_number=child.nhs_number if rng.random() < 0.3 else None,
        address_line1=child.lines[0] if child.lines and rng.random() < 0.9 else None,
        town=child.towns[0].upper() if child.towns and rng.random() < 0.8 else None,
    )
    applied = []
    for kind in rng.sample(AGENCY_CORRUPTIONS, k=corruptions):
        changed = _agency_corrupt(base, child, kind, rng)
        if changed is not None:
            base, applied = changed, [*applied, kind]
    return replace(base, corruptions=tuple(f"agency:{k}" for k in applied) or ("agency:none",))


def _ocr(word: str, rng: random.Random) -> str | None:
    found = [(a, b) for a, b in OCR_CONFUSIONS if a in word.lower()[1:]]
    if not found:
        return None
    a, b = rng.choice(found)
    at = word.lower().index(a, 1)
    return word[:at] + b + word[at + len(a) :]


def _agency_corrupt(e: Enquiry, child: Child, kind: str, rng: random.Random) -> Enquiry | None:
    if kind == "ocr_typo" and e.family and e.given:
        if rng.random() < 0.5:
            family = _ocr(e.family, rng)
            return replace(e, family=family) if family else None
        given = _ocr(e.given, rng)
        return replace(e, given=given) if given else None
    if kind == "fields_transposed":
        d = e.date_of_birth
        if d and d.day <= 12 and d.day != d.month and rng.random() < 0.5:
            return replace(e, date_of_birth=date(d.year, d.day, d.month))
        return replace(e, given=e.family, family=e.given)
    if kind == "truncated_name":
        if e.family and len(e.family) > 6 and rng.random() < 0.5:
            return replace(e, family=e.family[: rng.randint(4, 6)])
        if e.given and len(e.given) > 5:
            return replace(e, given=e.given[: rng.randint(3, 5)])
        return None
    if kind == "abbreviated_address" and e.address_line1:
        line = e.address_line1
        for full, short in ABBREVIATIONS:
            line = line.replace(full, short)
        return replace(e, address_line1=line.upper()) if line != e.address_line1 else None
    if kind == "missing_values":
        options = [f for f in ("given", "date_of_birth", "postcode", "address_line1", "town")
                   if getattr(e, f)]  # fmt: skip
        if not options:
            return None
        dropped = rng.sample(options, k=min(len(options), rng.choice((1, 2))))
        return replace(e, **dict.fromkeys(dropped))
    return _corrupt(e, child, kind, rng)
