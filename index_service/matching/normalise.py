"""Pure normalisers: the one way names, postcodes and dates of birth are put before they
are compared or blocked on. No database, no I/O: property-tested with hypothesis.

Names: Unicode folded (Climbié = Climbie), case-folded, apostrophes dropped (O'Brien =
OBrien), other punctuation and hyphens to spaces (Smith-Jones = Smith Jones), particles
set aside for comparison (de Souza ~ Souza), whitespace collapsed. Given names compare on
the first, with nicknames and short forms from the `nicknames` dataset plus a curated
British list for what it lacks (Alfie = Alfred, Maisie = Margaret, Gaz = Gary).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache

from nicknames import NickNamer

# Family-name particles, compared without (de Souza ~ Souza) but kept in the exact form.
PARTICLES = frozenset(
    {"al", "bin", "binti", "da", "das", "de", "del", "della", "der", "di", "dos", "du", "el",
     "la", "le", "mac", "van", "von", "ter", "ten", "st"}
)  # fmt: skip

# Short forms common in Britain that the `nicknames` dataset lacks: short form -> full names.
BRITISH_SHORT_FORMS: dict[str, frozenset[str]] = {
    "abi": frozenset({"abigail"}),
    "alf": frozenset({"alfred"}),
    "alfie": frozenset({"alfred"}),
    "baz": frozenset({"barry"}),
    "charlie": frozenset({"charles", "charlotte"}),
    "del": frozenset({"derek"}),
    "elsie": frozenset({"elizabeth"}),
    "evie": frozenset({"eve", "evelyn"}),
    "frankie": frozenset({"frances", "francesca", "francis"}),
    "gaz": frozenset({"gary", "gareth"}),
    "georgie": frozenset({"georgina", "georgia", "george"}),
    "izzy": frozenset({"isabel", "isabella", "isobel"}),
    "kat": frozenset({"katherine", "catherine", "kathryn"}),
    "katie": frozenset({"katherine", "catherine", "kathryn"}),
    "kaz": frozenset({"karen"}),
    "maisie": frozenset({"margaret"}),
    "mo": frozenset({"mohammed", "muhammad", "maureen"}),
    "nell": frozenset({"helen", "eleanor", "ellen"}),
    "poppy": frozenset({"penelope"}),
    "stan": frozenset({"stanley"}),
    "tel": frozenset({"terence", "terry"}),
}

_SPACES = re.compile(r"\s+")
# Letters that carry no combining mark to strip: spelt out as English records spell them.
_UNDECOMPOSABLE = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "\u0131": "i", "ß": "ss"}
)  # fmt: skip
_NOT_LETTERS = re.compile(r"[^a-z ]")


@lru_cache(maxsize=262144)  # names repeat: every candidate is folded once per search
def fold(text: str) -> str:
    """'  Climbié-O'Neill ' -> 'climbie oneill': accents, case, punctuation, spacing."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = bare.casefold().replace("'", "").replace("\u2019", "")
    return _SPACES.sub(" ", _NOT_LETTERS.sub(" ", lowered)).strip()


def name_tokens(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


def family_name_key(text: str) -> str:
    """The family name as one string with spaces, hyphens and punctuation gone:
    'Smith-Jones' = 'Smith Jones' = 'SMITHJONES'."""
    return "".join(name_tokens(text))


@lru_cache(maxsize=131072)
def family_name_parts(text: str) -> frozenset[str]:
    """The parts of a double-barrelled or particled name, particles set aside:
    'de Souza-Lopes' -> {'souza', 'lopes'}."""
    tokens = name_tokens(text)
    meaningful = [t for t in tokens if t not in PARTICLES]
    return frozenset(meaningful or tokens)


def first_given_name(text: str) -> str:
    tokens = name_tokens(text)
    return tokens[0] if tokens else ""


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=65536)
def name_group(given: str) -> frozenset[str]:
    """A first name with every name it can stand for or be short for: 'bill' ->
    {'bill', 'william', ...}. Two names are nickname-equivalent when their groups meet."""
    name = first_given_name(given)
    if not name:
        return frozenset()
    namer = _namer()
    group = {name} | set(namer.canonicals_of(name)) | set(namer.nicknames_of(name))
    group |= BRITISH_SHORT_FORMS.get(name, frozenset())
    group |= {short for short, full in BRITISH_SHORT_FORMS.items() if name in full}
    return frozenset(group)


def nickname_equivalent(a: str, b: str) -> bool:
    first_a, first_b = first_given_name(a), first_given_name(b)
    if not first_a or not first_b:
        return False
    return first_a == first_b or first_b in name_group(a) or first_a in name_group(b)


def swapped_day_month(value: date) -> date | None:
    """02/11 read as 11/02: the same date with day and month exchanged, if it is one."""
    if value.day == value.month or value.day > 12:
        return None
    return date(value.year, value.day, value.month)


def digits_apart(a: date, b: date) -> int:
    """How many of the eight digits of YYYYMMDD differ (a typing slip is one)."""
    return sum(x != y for x, y in zip(a.strftime("%Y%m%d"), b.strftime("%Y%m%d"), strict=True))


def birth_year_range(*, age_years: int, on: date) -> tuple[int, int]:
    """The years of birth possible for a child said to be `age_years` old on `on`."""
    return on.year - age_years - 1, on.year - age_years


def approximate_date_of_birth(
    *, year_of_birth: int | None, age_years: int | None, today: date
) -> tuple[date, str] | None:
    """What a year of birth or an age in years says of the date, and its precision: the
    middle of the year, or the middle of the year of life (born between age + 1 and age
    years ago). The matcher compares either within a year (`approximate`)."""
    if year_of_birth is not None:
        return date(year_of_birth, 7, 1), "year"
    if age_years is not None:
        return today - timedelta(days=round((age_years + 0.5) * 365.25)), "estimated"
    return None


# A name must carry at least this many letters to count as a name: "*", "-", "." or "A"
# name nobody (an initial is one letter in 26), while "Ng" or "Zoë" do.
MIN_NAME_LETTERS = 2


def letters_in(value: str) -> int:
    """How many Unicode letters the value holds (Zoë: 3, O'Neil: 5, "*": 0)."""
    return sum(1 for ch in value if ch.isalpha())


def is_a_name(value: str | None) -> bool:
    return value is not None and letters_in(value) >= MIN_NAME_LETTERS
