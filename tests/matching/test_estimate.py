"""EM estimation recovers known probabilities from pairs drawn from them."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from index_service.matching.compare import MISSING
from index_service.matching.estimate import (
    FLOOR,
    POLICY_FIXED,
    PSEUDO_COUNT,
    TrainingSession,
    estimate,
    estimate_by_sessions,
    level_shares,
)
from index_service.matching.model import Comparison, Level, MatchModel, load_model

# The method is tested on v3's shape (postcode levels); v4 is estimated the same way.
V3 = "2026-11-v3"


def _truth() -> MatchModel:
    """A known model: the current one with the match share of a blocked candidate set."""
    return replace(load_model(V3), prior=math.log2(0.2 / 0.8))


def _draw(model: MatchModel, rng: random.Random, *, same: bool, missing: float) -> dict[str, str]:
    pair = {}
    for c in model.comparisons:
        if rng.random() < missing:
            pair[c.field] = MISSING
            continue
        weights = [lv.m if same else lv.u for lv in c.levels]
        pair[c.field] = rng.choices([lv.label for lv in c.levels], weights=weights)[0]
    return pair


def _flat_start(model: MatchModel) -> MatchModel:
    """A start far from the truth: m flat over the levels, prior even."""
    return replace(
        model,
        prior=0.0,
        comparisons=tuple(
            Comparison(c.field, tuple(Level(lv.label, 1 / len(c.levels), lv.u) for lv in c.levels))
            for c in model.comparisons
        ),
    )


def test_em_recovers_the_match_share_and_the_m_probabilities() -> None:
    truth, rng = _truth(), random.Random(7)
    candidates = [_draw(truth, rng, same=rng.random() < 0.2, missing=0.1) for _ in range(40_000)]
    randoms = [_draw(truth, rng, same=False, missing=0.1) for _ in range(40_000)]

    result = estimate(candidates, randoms, _flat_start(truth), version="test-em")

    assert result.converged
    assert abs(result.match_share - 0.2) < 0.01
    assert result.model.version == "test-em"
    assert result.model.thresholds == truth.thresholds  # policy, not data
    for c in truth.comparisons:
        if c.field in POLICY_FIXED:
            continue
        for level in c.levels:
            got = result.model.comparison(c.field)
            estimated = next(lv for lv in got.levels if lv.label == level.label)
            assert abs(estimated.m - level.m) < 0.02, (c.field, level.label)


def test_fixed_comparisons_keep_their_probabilities() -> None:
    truth, rng = _truth(), random.Random(8)
    candidates = [_draw(truth, rng, same=rng.random() < 0.3, missing=0.0) for _ in range(5_000)]
    randoms = [_draw(truth, rng, same=False, missing=0.0) for _ in range(5_000)]
    result = estimate(candidates, randoms, _flat_start(truth), version="test-fixed")
    for field in POLICY_FIXED:
        assert result.model.comparison(field) == _flat_start(truth).comparison(field)


def test_u_is_each_levels_share_of_random_pairs_and_never_zero() -> None:
    model = load_model(V3)
    pairs = [{"postcode": "different"}] * 99 + [{"postcode": "current"}, {"postcode": MISSING}]
    shares = level_shares(pairs, model)["postcode"]
    assert math.isclose(sum(shares.values()), 1.0)
    assert abs(shares["different"] - 0.99) < 1e-4
    assert abs(shares["current"] - 0.01) < 1e-4
    assert shares["previous"] >= FLOOR * 0.99  # never seen: floored, not zero


def test_no_pairs_leave_the_start_unchanged_in_shape() -> None:
    start = load_model(V3)
    result = estimate([], [], start, version="empty")
    assert [c.field for c in result.model.comparisons] == [c.field for c in start.comparisons]
    assert all(math.isfinite(level.weight) for c in result.model.comparisons for level in c.levels)


def _blocked(pair: dict[str, str], on: dict[str, str]) -> dict[str, str]:
    """A pair as a blocking rule finds it: the blocked fields agree, match or not."""
    return {**pair, **on}


def test_training_sessions_recover_m_even_for_fields_blocked_elsewhere() -> None:
    truth, rng = _truth(), random.Random(9)
    on_dob = {"date_of_birth": "exact"}
    on_names = {"given_name": "exact", "family_name": "exact", "name_order": "as_given"}

    def session(on: dict[str, str], share: float) -> list[dict[str, str]]:
        return [
            _blocked(_draw(truth, rng, same=rng.random() < share, missing=0.05), on)
            for _ in range(30_000)
        ]

    by_dob, by_names = session(on_dob, 0.02), session(on_names, 0.05)
    randoms = [_draw(truth, rng, same=False, missing=0.05) for _ in range(40_000)]
    result = estimate_by_sessions(
        [
            TrainingSession(by_dob, frozenset({"given_name", "family_name", "postcode"})),
            TrainingSession(by_names, frozenset({"date_of_birth", "postcode"})),
        ],
        randoms,
        _flat_start(truth),
        version="test-sessions",
        population=11_000_000,
    )
    for field in ("given_name", "family_name", "date_of_birth", "postcode"):
        for level in truth.comparison(field).levels:
            estimated = next(
                lv for lv in result.model.comparison(field).levels if lv.label == level.label
            )
            assert abs(estimated.m - level.m) < 0.03, (field, level.label, estimated.m)
    assert result.model.prior == pytest.approx(math.log2(1 / (11_000_000 - 1)))


def test_a_level_random_pairs_never_reach_stays_rare_not_impossible_across_sessions() -> None:
    """The smoothing is towards the start model in every session, so it does not fade as
    one session starts from the last: a given-name initial is never seen in these random
    pairs, yet its u stays near 20 pseudo-pairs' worth of the start's share."""
    start, rng = load_model("2026-11-v2"), random.Random(10)  # u(initial) 0.05

    randoms = [
        {"given_name": "exact" if rng.random() < 0.01 else "different"} for _ in range(50_000)
    ]
    pairs = [_draw(start, rng, same=rng.random() < 0.1, missing=0.0) for _ in range(5_000)]
    result = estimate_by_sessions(
        [
            TrainingSession(pairs, frozenset({"given_name", "family_name"})),
            TrainingSession(pairs, frozenset({"date_of_birth", "postcode"})),
        ],
        randoms,
        start,
        version="test-smoothing",
        population=1_000_000,
    )
    initial = next(
        lv for lv in result.model.comparison("given_name").levels if lv.label == "initial"
    )
    start_initial = next(
        lv for lv in start.comparison("given_name").levels if lv.label == "initial"
    )
    expected = PSEUDO_COUNT * start_initial.u / (50_000 + PSEUDO_COUNT)
    assert initial.u == pytest.approx(expected, rel=0.05)
