"""The match model spec: versioned, serialisable, and sensible as declared."""

from __future__ import annotations

import json

import pytest

from index_service.matching.model import (
    CURRENT_VERSION,
    MODELS,
    Explanation,
    MatchModel,
    load_model,
)


def test_the_current_model_loads_and_round_trips() -> None:
    model = load_model()
    assert model.version == CURRENT_VERSION
    stored = json.loads((MODELS / f"{CURRENT_VERSION}.json").read_text())
    assert model.to_dict() == stored
    assert MatchModel.from_dict(model.to_dict()) == model


AGREEMENT_SCALES = [c for c in load_model().comparisons if c.field != "name_order"]


@pytest.mark.parametrize("comparison", AGREEMENT_SCALES, ids=lambda c: c.field)
def test_full_agreement_weighs_most_and_disagreement_least(comparison: object) -> None:
    """Estimated weights need not fall level by level (a nickname may count less than a
    close spelling), but agreeing counts most, disagreeing least, and each field's
    probabilities sum to one."""
    levels = comparison.levels  # type: ignore[attr-defined]
    weights = [level.weight for level in levels]
    assert weights[0] == max(weights) > 0 > weights[-1] == min(weights)
    assert sum(level.m for level in levels) == pytest.approx(1.0)
    assert sum(level.u for level in levels) == pytest.approx(1.0)


def test_the_current_model_says_how_it_was_estimated() -> None:
    estimation = load_model().estimation
    assert estimation is not None
    assert "EM" in estimation["method"]
    assert {"nhs_number", "upn"} <= set(estimation["fixed"]["fields"])


def test_thresholds_are_ordered() -> None:
    thresholds = load_model().thresholds
    assert thresholds.match > thresholds.possible
    assert thresholds.margin > 0


V3 = "2026-11-v3"


def _total(version: str | None = None, **levels: str) -> float:
    model = load_model(version) if version else load_model()
    return model.prior + sum(model.comparison(f).weight(lv) for f, lv in levels.items())


NAMES = {"given_name": "exact", "family_name": "exact", "name_order": "as_given"}
DOB = {"date_of_birth": "exact"}
HOME = {"postcode": "current"}

# (what agrees, the outcome it may reach at best): the policy v3's thresholds were set
# to (kept: v3's decisions are re-read under it).
V3_POLICY = [
    pytest.param({"nhs_number": "agree"}, "match", id="an agreeing NHS number alone"),
    pytest.param({"upn": "agree"}, "match", id="an agreeing UPN alone"),
    pytest.param({**NAMES, **DOB, **HOME}, "match", id="names, date of birth and postcode"),
    pytest.param(
        {**NAMES, **DOB, "postcode": "previous"}, "match", id="names, date, a previous address"
    ),
    pytest.param({**NAMES, **DOB}, "possible", id="names and date of birth alone"),
    pytest.param(
        {**NAMES, **DOB, **HOME, "nhs_number": "disagree"},
        "possible",
        id="names, date, postcode and a conflicting NHS number",
    ),
    pytest.param(
        {**NAMES, **DOB, "nhs_number": "disagree"},
        "nothing",
        id="names and date of birth with a conflicting NHS number",
    ),
    pytest.param({**NAMES, "date_of_birth": "approximate"}, "possible", id="names and an age"),
    pytest.param(
        {"given_name": "exact", "family_name": "different", "name_order": "as_given", **DOB},
        "nothing",
        id="given name + date: a namesake born the same day",
    ),
    pytest.param(
        {**NAMES, "date_of_birth": "approximate", **HOME}, "possible", id="names, age, postcode"
    ),
    pytest.param(
        {**NAMES, **DOB, "postcode": "different"}, "possible", id="names and date, moved away"
    ),
    pytest.param(
        {
            "given_name": "different",
            "family_name": "exact",
            "name_order": "as_given",
            **DOB,
            **HOME,
        },
        "possible",
        id="a twin: another given name, same family, date and home",
    ),
    pytest.param(
        {**NAMES, "date_of_birth": "different"}, "nothing", id="names alone, another date"
    ),
    pytest.param(
        {"given_name": "different", "family_name": "exact", "name_order": "as_given", **DOB},
        "nothing",
        id="surname + date",
    ),
]


ADDRESS = {"address": "current"}
# Model v4's policy (README "Identity matching": the match threshold re-derived from the
# prior). Without term-frequency adjustment: the level's average name.
V4_POLICY = [
    pytest.param({"nhs_number": "agree"}, "match", id="an agreeing NHS number alone"),
    pytest.param({"upn": "agree"}, "match", id="an agreeing UPN alone"),
    pytest.param({**NAMES, **DOB, **ADDRESS}, "match", id="names, date of birth and address"),
    pytest.param(
        {**NAMES, **DOB, "address": "previous"}, "match", id="names, date, a previous address"
    ),
    pytest.param(
        {**NAMES, **DOB, "address": "same_street"}, "possible", id="names, date, the same street"
    ),
    pytest.param({**NAMES, **DOB}, "possible", id="names and date of birth alone"),
    pytest.param(
        {**NAMES, **DOB, "address": "same_town"}, "possible", id="names, date, the same town"
    ),
    pytest.param(
        {**NAMES, **DOB, **ADDRESS, "nhs_number": "disagree"},
        "possible",
        id="names, date, address and a conflicting NHS number",
    ),
    pytest.param(
        {**NAMES, **DOB, "nhs_number": "disagree"},
        "nothing",
        id="names and date of birth with a conflicting NHS number",
    ),
    pytest.param({**NAMES, "date_of_birth": "approximate"}, "possible", id="names and an age"),
    pytest.param(
        {"given_name": "exact", "family_name": "different", "name_order": "as_given", **DOB},
        "nothing",
        id="given name + date: a namesake born the same day",
    ),
    pytest.param(
        {**NAMES, **DOB, "address": "different"}, "possible", id="names and date, moved away"
    ),
    pytest.param(
        {**NAMES, "date_of_birth": "different"}, "nothing", id="names alone, another date"
    ),
    pytest.param(
        {"given_name": "different", "family_name": "exact", "name_order": "as_given", **DOB},
        "nothing",
        id="surname + date",
    ),
]


def _reached(version: str | None, levels: dict[str, str]) -> str:
    """The best outcome these levels reach with no other candidate near (v4.1: against
    the chance that the child is not on the index at all)."""
    thresholds = (load_model(version) if version else load_model()).thresholds
    total = _total(version, **levels)
    return (
        "match"
        if thresholds.match_evidence(total, []) >= thresholds.match
        else "possible"
        if total >= thresholds.possible
        else "nothing"
    )


@pytest.mark.parametrize(("levels", "best"), V3_POLICY)
def test_v3_thresholds_keep_the_outcomes_meaning(levels: dict[str, str], best: str) -> None:
    assert _reached(V3, levels) == best, _total(V3, **levels)


V4 = "2026-12-v4"


@pytest.mark.parametrize(("levels", "best"), V4_POLICY)
def test_v4_thresholds_keep_the_outcomes_meaning(levels: dict[str, str], best: str) -> None:
    assert _reached(V4, levels) == best, _total(V4, **levels)


# Model v4.1 (README "Identity matching"): a match needs posterior odds of 1,000 to 1
# against the child not being on the index (1 in 10) and every other candidate; with no
# other candidate near, a total of 10 + log2(0.1) = 6.7.
V4_1_POLICY = [
    pytest.param({"nhs_number": "agree"}, "match", id="an agreeing NHS number alone"),
    pytest.param({"upn": "agree"}, "match", id="an agreeing UPN alone"),
    pytest.param({**NAMES, **DOB, **ADDRESS}, "match", id="names, date of birth and address"),
    pytest.param(
        {**NAMES, **DOB, "address": "same_street"}, "match", id="names, date, the same street"
    ),
    pytest.param(
        {"nhs_number": "agree_unverified", **DOB}, "match", id="unverified NHS number and date"
    ),
    pytest.param({**NAMES, **DOB}, "possible", id="average names and date of birth alone"),
    pytest.param(
        {**NAMES, **DOB, "address": "same_town"}, "possible", id="names, date, the same town"
    ),
    pytest.param(
        {**NAMES, **DOB, **ADDRESS, "nhs_number": "disagree"},
        "possible",
        id="names, date, address and a conflicting NHS number",
    ),
    pytest.param(
        {**NAMES, **DOB, **ADDRESS, "upn": "disagree"},
        "possible",
        id="names, date, address and a conflicting UPN",
    ),
    pytest.param(
        {**NAMES, **DOB, "nhs_number": "disagree"},
        "nothing",
        id="names and date of birth with a conflicting NHS number",
    ),
    pytest.param({**NAMES, "date_of_birth": "approximate"}, "possible", id="names and an age"),
    pytest.param(
        {"given_name": "exact", "family_name": "different", "name_order": "as_given", **DOB},
        "nothing",
        id="given name + date: a namesake born the same day",
    ),
    pytest.param(
        {**NAMES, **DOB, "address": "different"}, "possible", id="names and date, moved away"
    ),
    pytest.param(
        {**NAMES, "date_of_birth": "different"}, "nothing", id="names alone, another date"
    ),
    pytest.param(
        {"given_name": "different", "family_name": "exact", "name_order": "as_given", **DOB},
        "nothing",
        id="surname + date",
    ),
]


@pytest.mark.parametrize(("levels", "best"), V4_1_POLICY)
def test_the_thresholds_keep_the_outcomes_meaning(levels: dict[str, str], best: str) -> None:
    assert _reached(None, levels) == best, _total(**levels)


def test_a_candidate_near_the_best_is_weighed_against_it() -> None:
    """v4.1's posterior: another candidate 5 bits behind leaves odds of 32 to 1, not a
    match, where v4 asked only for the 5-bit margin; the child not being on the index at
    all counts as a candidate of total log2(0.1)."""
    thresholds = load_model().thresholds
    assert thresholds.match_evidence(8.0, []) == pytest.approx(8.0 + 3.32, abs=0.01)
    assert thresholds.match_evidence(15.0, [10.0]) < thresholds.match
    assert load_model(V4).thresholds.match_evidence(15.0, [10.0]) == 15.0


def test_a_twin_reaches_the_threshold_but_may_not_be_a_match() -> None:
    """Another given name, the same family name, date and home: the total may reach the
    match threshold (siblings are not independent evidence), `may_match` stops it."""
    levels = {"given_name": "different", "family_name": "exact", "name_order": "as_given",
              **DOB, **ADDRESS, "nhs_number": "missing", "upn": "missing"}  # fmt: skip
    model = load_model()
    weights = {f: model.comparison(f).weight(label) for f, label in levels.items()}
    explanation = Explanation(levels, weights, model.prior + sum(weights.values()), model.version)
    assert explanation.total >= model.thresholds.possible
    assert not explanation.may_match()


def test_a_record_with_the_names_and_date_of_an_existing_child_is_a_possible_duplicate() -> None:
    assert _total(**NAMES, **DOB) >= load_model().thresholds.duplicate_at


def _levels(given: str, family: str, nhs: str = "missing") -> dict[str, str]:
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": "exact",
        "address": "current",
        "nhs_number": nhs,
        "upn": "missing",
    }


@pytest.mark.parametrize(
    ("levels", "agrees"),
    [
        pytest.param(_levels("missing", "different"), False, id="date and postcode alone"),
        pytest.param(_levels("different", "different"), False, id="both names different"),
        pytest.param(_levels("initial", "different"), False, id="an initial alone"),
        pytest.param(_levels("missing", "missing"), False, id="no names"),
        pytest.param(_levels("different", "phonetic"), True, id="family sounds alike"),
        pytest.param(_levels("nickname", "different"), True, id="a nickname"),
        pytest.param(_levels("missing", "different", nhs="agree"), True, id="NHS number"),
    ],
)
def test_identity_agrees_only_on_an_identifier_or_a_name(
    levels: dict[str, str], agrees: bool
) -> None:
    model = load_model()
    weights = {f: model.comparison(f).weight(label) for f, label in levels.items()}
    explanation = Explanation(levels, weights, sum(weights.values()), model.version)
    assert explanation.identity_agrees() is agrees
