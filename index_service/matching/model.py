"""The match model: a declarative, versioned, serialisable spec in the Fellegi-Sunter
style. For each field, an ordered list of labelled comparison levels, each with its
m probability (of reaching that level when the records are the same child) and u
probability (when they are different children); a level's match weight is log2(m/u).
A record pair's score is the prior log-odds plus the sum of its levels' weights.

The spec lives in `matching/models/<version>.json`, is loaded once, and every decision
records the version that made it. A spec's `scheme` says which comparison functions
produce its levels (`v3`, the default, for v1-v3; `v4`: intermediate spellings, more
date levels, the address instead of the postcode); its optional `term_frequency` says
which exact agreements are weighed by how common the agreed name or postcode is in the
index (`TermFrequencyPolicy`). How the probabilities are estimated is in the README
(expectation-maximisation over candidate pairs of the synthetic population).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from index_service.matching import compare
from index_service.matching.compare import MISSING, NameLevels
from index_service.matching.records import Person

MODELS = Path(__file__).parent / "models"
CURRENT_VERSION = "2026-12-v4.1"


# A level a later version added -> the level earlier versions scored it as.
LEVELS_ADDED_LATER = {"approximate": "same_year", "agree_unverified": "agree"}


@dataclass(frozen=True)
class Level:
    label: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    field: str
    levels: tuple[Level, ...]

    def weight(self, label: str) -> float:
        if label == MISSING:
            return 0.0
        for level in self.levels:
            if level.label == label:
                return level.weight
        if label in LEVELS_ADDED_LATER and self.knows(LEVELS_ADDED_LATER[label]):
            return self.weight(LEVELS_ADDED_LATER[label])
        raise KeyError(f"{self.field}: no level {label!r}")

    def knows(self, label: str) -> bool:
        return any(level.label == label for level in self.levels)


@dataclass(frozen=True)
class Thresholds:
    match: float  # total weight for a `match` ...
    margin: float  # ... clearly ahead of the next candidate by this much
    possible: float  # lowest total shown as a possible match
    # A new record this like an existing one is a possible duplicate (409 unless the
    # caller confirms it is a different child). Models before v3: the match threshold.
    duplicate: float | None = None
    # v4.1: the probability that an enquiry is about a child the index does not hold. A
    # `match` then needs posterior odds of 2^match against that and against every other
    # candidate together (`match_evidence`), not a total of `match` against the average
    # namesake of England (v4: as if no namesake were on the index to be seen).
    unheld: float | None = None

    @property
    def duplicate_at(self) -> float:
        return self.match if self.duplicate is None else self.duplicate

    def match_evidence(self, best: float, others: Iterable[float]) -> float:
        """The log2 posterior odds that the best candidate is the child, against every
        other candidate (each at its own total) and, with `unheld`, against the child
        being one the index does not hold. Without `unheld`: the best total (v1-v4)."""
        if self.unheld is None:
            return best
        return best - math.log2(self.unheld + sum(2.0 ** min(t, 1000.0) for t in others))


@dataclass(frozen=True)
class TermFrequencyPolicy:
    """Exact agreement on a rare name says more than on a common one (Splink's and
    SanteMPI's term-frequency adjustment). For a field listed in `fields` (field ->
    the kind of token counted, `given`, `family` or `postcode`), an `exact` (names) or
    `current`/`previous` (address) level's u is replaced by the agreed token's share
    of the index, so its weight moves by log2(u_level / share). The share is smoothed
    towards the level's u by `pseudo_count` tokens (in a small index no name is known
    to be rare), and the move is held within [-`max_down`, +`max_up`] bits: the floor
    under the share, so that a name nobody else has cannot decide a match alone."""

    fields: dict[str, str]
    pseudo_count: float
    max_up: float
    max_down: float

    def adjustment(self, level_u: float, count: int, total: float) -> float:
        share = (count + self.pseudo_count * level_u) / (max(total, 0.0) + self.pseudo_count)
        return max(-self.max_down, min(self.max_up, math.log2(level_u / share)))


@dataclass(frozen=True)
class TermFrequencies:
    """How often each of an enquiry's tokens occurs in the index: (kind, token) ->
    count, and per kind the number of tokens counted (`matching/frequencies.py`)."""

    counts: dict[tuple[str, str], int]
    totals: dict[str, float]

    def count(self, kind: str, token: str) -> int:
        return self.counts.get((kind, token), 0)


# The levels a term-frequency adjustment applies to, per field.
TF_LEVELS = {
    "given_name": ("exact",),
    "family_name": ("exact",),
    "address": ("current", "previous"),
}


@dataclass(frozen=True)
class MatchModel:
    version: str
    prior: float  # log2 odds that a candidate pair is the same child, before comparing
    comparisons: tuple[Comparison, ...]
    thresholds: Thresholds
    estimation: dict[str, Any] | None = None  # how the probabilities were estimated
    scheme: str = "v3"  # which comparison functions give the levels (module docstring)
    term_frequency: TermFrequencyPolicy | None = None

    def comparison(self, field: str) -> Comparison:
        for comparison in self.comparisons:
            if comparison.field == field:
                return comparison
        raise KeyError(field)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "prior": self.prior,
            "thresholds": {k: v for k, v in vars(self.thresholds).items() if v is not None},
            "comparisons": [
                {"field": c.field, "levels": [vars(level) for level in c.levels]}
                for c in self.comparisons
            ],
            **({"scheme": self.scheme} if self.scheme != "v3" else {}),
            **({"term_frequency": vars(self.term_frequency)} if self.term_frequency else {}),
            **({"estimation": self.estimation} if self.estimation else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        return cls(
            version=data["version"],
            prior=float(data["prior"]),
            thresholds=Thresholds(**data["thresholds"]),
            comparisons=tuple(
                Comparison(c["field"], tuple(Level(**level) for level in c["levels"]))
                for c in data["comparisons"]
            ),
            estimation=data.get("estimation"),
            scheme=data.get("scheme", "v3"),
            term_frequency=TermFrequencyPolicy(**data["term_frequency"])
            if data.get("term_frequency")
            else None,
        )


@lru_cache(maxsize=8)
def load_model(version: str = CURRENT_VERSION) -> MatchModel:
    return MatchModel.from_dict(json.loads((MODELS / f"{version}.json").read_text()))


# Name levels that are no agreement: a different or unknown name, or a bare initial
# (one letter in 26 is no evidence of who the child is).
NO_NAME_AGREEMENT = frozenset({MISSING, "different", "initial"})
IDENTIFIERS = ("nhs_number", "upn")


@dataclass(frozen=True)
class Explanation:
    """Per field, the level reached and its weight; the prior; and the total, which is
    the prior plus the weights (shown, so that an explanation adds up)."""

    levels: dict[str, str]
    weights: dict[str, float]
    total: float
    model_version: str
    prior: float = 0.0
    # The part of a field's weight that is its term-frequency adjustment (v4).
    adjustments: dict[str, float] = field(default_factory=dict)

    def identity_agrees(self) -> bool:
        """An identifier agrees, or a given or family name agrees at some level. A
        candidate that fails this is never shown, whatever its total: a date of birth and
        a postcode alone would otherwise name a stranger to anyone who knows them."""
        if any(self.levels.get(f) in ("agree", "agree_unverified") for f in IDENTIFIERS):
            return True
        names = (self.levels.get("given_name", MISSING), self.levels.get("family_name", MISSING))
        return any(level not in NO_NAME_AGREEMENT for level in names)

    def may_match(self) -> bool:
        """Whether this candidate may be a `match` at all, whatever its total: an
        identifier agrees, or neither name disagrees. The model takes the fields as
        independent, and they are not for siblings: a twin shares the family name, the
        date of birth and the home, and would otherwise reach a match with only the given
        name against it, when the child asked about may be the twin the index lacks."""
        if any(self.levels.get(f) == "agree" for f in IDENTIFIERS):
            return True
        return "different" not in (self.levels.get("given_name"), self.levels.get("family_name"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "prior": round(self.prior, 3),
            "total": round(self.total, 3),
            "fields": {
                f: {
                    "level": self.levels[f],
                    "weight": round(self.weights[f], 3),
                    **(
                        {"term_frequency_adjustment": round(self.adjustments[f], 3)}
                        if self.adjustments.get(f)
                        else {}
                    ),
                }
                for f in self.levels
            },
        }


def levels_of(model: MatchModel, a: Person, b: Person) -> dict[str, str]:
    """The level each field of the pair reaches."""
    return _levels(model, a, b)[0]


def _levels(model: MatchModel, a: Person, b: Person) -> tuple[dict[str, str], NameLevels]:
    given, family = model.comparison("given_name"), model.comparison("family_name")

    def rank(option: NameLevels) -> float:
        # The names decide which order fits; the order's own weight must not, or "swapped"
        # would win for two names that agree in neither order. A tie keeps the order given.
        return given.weight(option.given) + family.weight(option.family)

    if model.scheme == "v4":
        names = compare.name_levels(
            a.names, b.names, rank, compare.given_level_v4, compare.family_level_v4
        )
        where = {"address": compare.address_level(a, b)}
        born = compare.date_of_birth_level_v4(a, b)
    else:
        names = compare.name_levels(a.names, b.names, rank)
        where = {"postcode": compare.postcode_level(a, b)}
        born = compare.date_of_birth_level(a, b)
    levels = {
        "given_name": names.given,
        "family_name": names.family,
        "name_order": names.order if MISSING not in (names.given, names.family) else MISSING,
        "date_of_birth": born,
        **where,
        "nhs_number": compare.nhs_number_level_v4(a, b)
        if model.scheme == "v4"
        else compare.identifier_level(a.nhs_number, b.nhs_number),
        "upn": compare.identifier_level(a.upn, b.upn),
    }
    return levels, names


def score(
    model: MatchModel, a: Person, b: Person, frequencies: TermFrequencies | None = None
) -> Explanation:
    """The pair's explanation. With `frequencies` (the enquiry's tokens' counts) and a
    model with a `term_frequency` policy, exact agreements are weighed by rarity."""
    levels, names = _levels(model, a, b)
    weights = {f: model.comparison(f).weight(label) for f, label in levels.items()}
    adjustments: dict[str, float] = {}
    policy = model.term_frequency
    if policy is not None and frequencies is not None:
        tokens = {
            "given_name": names.given_token,
            "family_name": names.family_token,
            "address": compare.agreed_postcode(a, b) or "",
        }
        for f, kind in policy.fields.items():
            label = levels.get(f, MISSING)
            if label not in TF_LEVELS.get(f, ()) or not tokens.get(f):
                continue
            u = next(lv.u for lv in model.comparison(f).levels if lv.label == label)
            adjustments[f] = policy.adjustment(
                u, frequencies.count(kind, tokens[f]), frequencies.totals.get(kind, 0.0)
            )
            weights[f] += adjustments[f]
    return Explanation(
        levels=levels,
        weights=weights,
        total=model.prior + sum(weights.values()),
        model_version=model.version,
        prior=model.prior,
        adjustments=adjustments,
    )
