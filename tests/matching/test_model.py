"""The match model spec: versioned, serialisable, and sensible as declared."""

from __future__ import annotations

import json

import pytest

from index_service.matching.model import CURRENT_VERSION, MODELS, MatchModel, load_model


def test_the_current_model_loads_and_round_trips() -> None:
    model = load_model()
    assert model.version == CURRENT_VERSION
    stored = json.loads((MODELS / f"{CURRENT_VERSION}.json").read_text())
    assert model.to_dict() == stored
    assert MatchModel.from_dict(model.to_dict()) == model


@pytest.mark.parametrize("comparison", load_model().comparisons, ids=lambda c: c.field)
def test_levels_are_ordered_strongest_first_and_probabilities_sum_to_one(
    comparison: object,
) -> None:
    levels = comparison.levels  # type: ignore[attr-defined]
    weights = [level.weight for level in levels]
    assert weights == sorted(weights, reverse=True)
    assert sum(level.m for level in levels) == pytest.approx(1.0)
    assert sum(level.u for level in levels) == pytest.approx(1.0)
    assert weights[0] > 0 > weights[-1]


def test_thresholds_are_ordered() -> None:
    thresholds = load_model().thresholds
    assert thresholds.match > thresholds.possible
    assert thresholds.margin > 0
