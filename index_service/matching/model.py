"""The match model: a declarative, versioned, serialisable spec in the Fellegi-Sunter
style. For each field, an ordered list of labelled comparison levels, each with its
m probability (of reaching that level when the records are the same child) and u
probability (when they are different children); a level's match weight is log2(m/u).
A record pair's score is the prior log-odds plus the sum of its levels' weights.

The spec lives in `matching/models/<version>.json`, is loaded once, and every decision
records the version that made it. How the probabilities are estimated is in the README
(expectation-maximisation over candidate pairs of the synthetic population).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from index_service.matching import compare
from index_service.matching.compare import MISSING, NameLevels
from index_service.matching.records import Person

MODELS = Path(__file__).parent / "models"
CURRENT_VERSION = "2026-11-v3"


# A level a later version added -> the level earlier versions scored it as.
LEVELS_ADDED_LATER = {"approximate": "same_year"}


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

    @property
    def duplicate_at(self) -> float:
        return self.match if self.duplicate is None else self.duplicate


@dataclass(frozen=True)
class MatchModel:
    version: str
    prior: float  # log2 odds that a candidate pair is the same child, before comparing
    comparisons: tuple[Comparison, ...]
    thresholds: Thresholds
    estimation: dict[str, Any] | None = None  # how the probabilities were estimated

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

    def identity_agrees(self) -> bool:
        """An identifier agrees, or a given or family name agrees at some level. A
        candidate that fails this is never shown, whatever its total: a date of birth and
        a postcode alone would otherwise name a stranger to anyone who knows them."""
        if any(self.levels.get(f) == "agree" for f in IDENTIFIERS):
            return True
        names = (self.levels.get("given_name", MISSING), self.levels.get("family_name", MISSING))
        return any(level not in NO_NAME_AGREEMENT for level in names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "prior": round(self.prior, 3),
            "total": round(self.total, 3),
            "fields": {
                f: {"level": self.levels[f], "weight": round(self.weights[f], 3)}
                for f in self.levels
            },
        }


def levels_of(model: MatchModel, a: Person, b: Person) -> dict[str, str]:
    """The level each field of the pair reaches."""
    given, family = model.comparison("given_name"), model.comparison("family_name")

    def rank(option: NameLevels) -> float:
        # The names decide which order fits; the order's own weight must not, or "swapped"
        # would win for two names that agree in neither order. A tie keeps the order given.
        return given.weight(option.given) + family.weight(option.family)

    names = compare.name_levels(a.names, b.names, rank)
    return {
        "given_name": names.given,
        "family_name": names.family,
        "name_order": names.order if MISSING not in (names.given, names.family) else MISSING,
        "date_of_birth": compare.date_of_birth_level(a, b),
        "postcode": compare.postcode_level(a, b),
        "nhs_number": compare.identifier_level(a.nhs_number, b.nhs_number),
        "upn": compare.identifier_level(a.upn, b.upn),
    }


def score(model: MatchModel, a: Person, b: Person) -> Explanation:
    levels = levels_of(model, a, b)
    weights = {f: model.comparison(f).weight(label) for f, label in levels.items()}
    return Explanation(
        levels=levels,
        weights=weights,
        total=model.prior + sum(weights.values()),
        model_version=model.version,
        prior=model.prior,
    )
