"""Estimating the match model's probabilities from data (pure; no database).

The method, as splink does it:
1. **u** (how often two *different* children reach each level) from random pairs of
   records: almost every random pair is two different children, so each level's share
   among them estimates u directly.
2. **m** (how often the *same* child reaches each level) and the share of true matches
   among candidate pairs by expectation-maximisation over the pairs that blocking
   finds, with u held at step 1's values. The E-step gives each pair its probability of
   being a match under the current m and prior; the M-step sets each m to the
   probability-weighted share of pairs at that level. Fields missing on either side are
   left out of that field's counts. Comparisons listed as `fixed` (NHS number, UPN:
   decisive by policy, not by data) keep their given probabilities.
   EM over pairs that a blocking rule found cannot estimate m for the fields that rule
   blocked on (every pair agrees there), and over-counts agreement if it tries: so m is
   estimated in training sessions (`estimate_by_sessions`), as splink does, each
   blocked on some fields and estimating the others.
3. The prior is log2 of the odds that one given child of the population is the one
   enquired about (see `estimate_by_sessions` for why not EM over blocked pairs).

Pairs are reduced to counts of distinct level patterns first, so an iteration costs
the number of patterns, not of pairs. No probability is let below `FLOOR`: a level never
seen must not weigh minus infinity, and m is smoothed towards the start model's by
`PSEUDO_COUNT` pseudo-pairs, so that a level the training data happens not to show for
true matches is not made near-impossible.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from index_service.matching.compare import MISSING
from index_service.matching.model import Comparison, Level, MatchModel

FLOOR = 1e-6
# Dirichlet pseudo-counts from the start model's m: a level the training data never shows
# for true matches keeps a modest m instead of collapsing to the floor.
PSEUDO_COUNT = 20.0
# Kept as the start model sets them, not estimated: the identifiers are decisive by
# policy; the name order is a modifier of the name comparisons, not independent of them
# as the model assumes, and EM over-rewards "swapped" (rare among random pairs).
POLICY_FIXED = frozenset({"nhs_number", "upn", "name_order"})
Pattern = tuple[tuple[str, str], ...]  # (field, level) for every field


def patterns(pairs: Iterable[Mapping[str, str]]) -> Counter[Pattern]:
    return Counter(tuple(sorted(pair.items())) for pair in pairs)


def level_shares(
    pairs: Iterable[Mapping[str, str]], model: MatchModel, *, smoothing: MatchModel | None = None
) -> dict[str, dict[str, float]]:
    """Each field's share of pairs at each level (missing left out), floored; with
    `smoothing`, `PSEUDO_COUNT` pseudo-pairs spread as that model's u (a level random
    pairs never reach is rare, not impossible)."""
    counts: dict[str, Counter[str]] = {c.field: Counter() for c in model.comparisons}
    for pair in pairs:
        for field, level in pair.items():
            if level != MISSING and field in counts:
                counts[field][level] += 1
    pseudo = {
        c.field: {lv.label: PSEUDO_COUNT * lv.u if smoothing else 0.0 for lv in c.levels}
        for c in (smoothing or model).comparisons
    }
    return {
        c.field: _normalised(
            {lv.label: counts[c.field][lv.label] + pseudo[c.field][lv.label] for lv in c.levels}
        )
        for c in model.comparisons
    }


@dataclass(frozen=True)
class Estimate:
    model: MatchModel
    match_share: float  # estimated share of true matches among the candidate pairs
    iterations: int
    converged: bool


def estimate(
    candidate_pairs: Iterable[Mapping[str, str]],
    random_pairs: Iterable[Mapping[str, str]],
    start: MatchModel,
    *,
    version: str,
    fixed: frozenset[str] = POLICY_FIXED,
    ignored: frozenset[str] = frozenset(),
    smoothing: MatchModel | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
) -> Estimate:
    """A new model version: u from the random pairs, m and the prior by EM over the
    candidate pairs; thresholds as in `start` (they are policy, not data). `fixed`
    comparisons keep m and u as given; `ignored` ones (a session's blocked fields, see
    `estimate_by_sessions`) play no part and keep their m."""
    prior_model = smoothing or start  # what the pseudo-counts are spread as
    u = level_shares(random_pairs, start, smoothing=prior_model)
    m = {c.field: {lv.label: lv.m for lv in c.levels} for c in start.comparisons}
    for c in start.comparisons:
        if c.field in fixed:
            u[c.field] = {lv.label: lv.u for lv in c.levels}
    counted = patterns(candidate_pairs)
    pseudo = {
        c.field: {lv.label: PSEUDO_COUNT * lv.m for lv in c.levels} for c in prior_model.comparisons
    }
    share = 2**start.prior / (1 + 2**start.prior)
    iteration, converged = 0, False
    for iteration in range(1, max_iterations + 1):  # noqa: B007
        new_share, new_m = _step(counted, m, u, share, fixed, ignored, pseudo)
        change = max(
            abs(new_share - share),
            *(abs(new_m[f][lv] - m[f][lv]) for f in m for lv in m[f]),
        )
        share, m = new_share, new_m
        if change < tolerance:
            converged = True
            break
    model = replace(
        start,
        version=version,
        prior=math.log2(share / (1 - share)),
        comparisons=tuple(
            Comparison(
                c.field,
                tuple(
                    Level(lv.label, m[c.field][lv.label], u[c.field][lv.label]) for lv in c.levels
                ),
            )
            for c in start.comparisons
        ),
    )
    return Estimate(model=model, match_share=share, iterations=iteration, converged=converged)


@dataclass(frozen=True)
class TrainingSession:
    """Candidate pairs found by one blocking rule, and the fields whose m EM may estimate
    from them: not the fields the rule blocked on (every pair agrees on those, match or
    not, so they cannot tell matches apart there)."""

    pairs: list[Mapping[str, str]]
    estimates: frozenset[str]


def estimate_by_sessions(
    sessions: Iterable[TrainingSession],
    random_pairs: list[Mapping[str, str]],
    start: MatchModel,
    *,
    version: str,
    population: int,
) -> Estimate:
    """m field by field from the sessions that did not block on the field (the blocked
    fields play no part in that session; each session starts from what the earlier ones
    estimated); u from the random pairs.

    The prior is not taken from EM over blocked pairs: their non-matches agree on the
    blocked fields, so EM counts too many of them as matches. It is the odds that one
    given child of the `population` is the one enquired about, and the blocking fields'
    weights then supply the evidence, as in the Fellegi-Sunter model over all pairs."""
    fields = frozenset(c.field for c in start.comparisons)
    model, iterations, converged = start, 0, True
    for session in sessions:
        ignored = fields - session.estimates - POLICY_FIXED
        result = estimate(
            session.pairs, random_pairs, model, version=version, ignored=ignored, smoothing=start
        )
        iterations += result.iterations
        converged = converged and result.converged
        model = result.model
    share = 1 / population
    return Estimate(
        model=replace(model, prior=math.log2(share / (1 - share))),
        match_share=share,
        iterations=iterations,
        converged=converged,
    )


def _step(
    counted: Counter[Pattern],
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    share: float,
    fixed: frozenset[str],
    ignored: frozenset[str],
    pseudo: dict[str, dict[str, float]],
) -> tuple[float, dict[str, dict[str, float]]]:
    """One E-step and M-step."""
    weighted: dict[str, defaultdict[str, float]] = {f: defaultdict(float) for f in m}
    total_p, total = 0.0, 0
    for pattern, count in counted.items():
        odds = share / (1 - share)
        for field, level in pattern:
            if level != MISSING and field in m and field not in ignored:
                odds *= m[field][level] / u[field][level]
        p = odds / (1 + odds) if math.isfinite(odds) else 1.0
        total_p += p * count
        total += count
        for field, level in pattern:
            if level != MISSING and field in m:
                weighted[field][level] += p * count
    new_m = {
        f: dict(m[f])
        if f in fixed | ignored
        else _normalised({lv: weighted[f][lv] + pseudo[f][lv] for lv in m[f]})
        for f in m
    }
    new_share = min(max(total_p / total, FLOOR), 1 - FLOOR) if total else share
    return new_share, new_m


def _normalised(counts: Mapping[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    if total <= 0:
        return {label: 1 / len(counts) for label in counts}
    floored = {label: max(value / total, FLOOR) for label, value in counts.items()}
    norm = sum(floored.values())
    return {label: value / norm for label, value in floored.items()}
