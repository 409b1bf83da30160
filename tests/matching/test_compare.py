"""Table-driven record pairs: the level each field reaches under the match model."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from index_service.matching.compare import family_level, given_level
from index_service.matching.model import levels_of, load_model, score
from index_service.matching.postcodes import normalise_postcode
from index_service.matching.records import Person, PersonName

MODEL = load_model(
    "2026-11-v3"
)  # the v3 comparisons, kept to re-read v3 decisions; v4: test_compare_v4.py


def person(
    *names: tuple[str, str],
    dob: str | None = "2011-11-02",
    precision: str = "exact",
    postcodes: tuple[str, ...] = ("SE1 7PB",),
    nhs: str | None = None,
    upn: str | None = None,
) -> Person:
    return Person(
        names=tuple(PersonName(given, family) for given, family in names),
        date_of_birth=date.fromisoformat(dob) if dob else None,
        date_of_birth_precision=precision,
        postcodes=tuple(normalise_postcode(p) for p in postcodes),
        nhs_number=nhs,
        upn=upn,
    )


VICTORIA = person(("Victoria", "Climbié"), ("Anna", "Kouao"), postcodes=("N17 6AB", "W5 2AA"))

# (enquiry, stored child, the levels expected; fields not named are not checked)
PAIRS: list[Any] = [
    pytest.param(
        person(("Bill", "Jones")),
        person(("William", "Jones")),
        {"given_name": "nickname"},
        id="Bill / William",
    ),
    pytest.param(
        person(("Alfie", "Jones")),
        person(("Alfred", "Jones")),
        {"given_name": "nickname"},
        id="Alfie / Alfred (curated British list)",
    ),
    pytest.param(
        person(("Victoria", "Climbie")),
        VICTORIA,
        {"given_name": "exact", "family_name": "exact"},
        id="Climbié / Climbie",
    ),
    pytest.param(
        person(("Anna", "Kouao")),
        VICTORIA,
        {"given_name": "exact", "family_name": "exact", "name_order": "as_given"},
        id="Anna Kouao, a recorded alias of Victoria Climbié",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2011-02-11"),
        VICTORIA,
        {"date_of_birth": "day_month_swapped"},
        id="02/11 vs 11/02",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), postcodes=("n176ab",)),
        person(("Victoria", "Climbie"), postcodes=("N17 6AB",)),
        {"postcode": "current"},
        id="'N17 6AB' vs 'n176ab'",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), postcodes=("SW1A 1AA",)),
        person(("Victoria", "Climbie"), postcodes=("sw1a1aa",)),
        {"postcode": "current"},
        id="'SW1A 1AA' vs 'sw1a1aa'",
    ),
    pytest.param(
        person(("Climbie", "Victoria")),
        VICTORIA,
        {"given_name": "exact", "family_name": "exact", "name_order": "swapped"},
        id="given and family names swapped",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), postcodes=("W5 2AA",)),
        VICTORIA,
        {"postcode": "previous"},
        id="a previous address",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), postcodes=("N17 9ZZ",)),
        VICTORIA,
        {"postcode": "same_district"},
        id="same postcode district",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2011-11-03"),
        VICTORIA,
        {"date_of_birth": "one_digit"},
        id="date of birth one digit out",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2011-06-30"),
        VICTORIA,
        {"date_of_birth": "same_year"},
        id="same year only",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2011-01-01", precision="year"),
        VICTORIA,
        {"date_of_birth": "approximate"},
        id="only the year known",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2012-06-01", precision="estimated"),
        VICTORIA,
        {"date_of_birth": "approximate"},
        id="only an age known, a year out",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob="2014-06-01", precision="estimated"),
        VICTORIA,
        {"date_of_birth": "different"},
        id="only an age known, and it does not fit",
    ),
    pytest.param(
        person(("Uma", "Unfoundchild")),
        VICTORIA,
        {"given_name": "different", "family_name": "different", "name_order": "as_given"},
        id="names that agree in neither order keep the order given",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), dob=None),
        VICTORIA,
        {"date_of_birth": "missing"},
        id="date of birth unknown",
    ),
    pytest.param(
        person(("Victoria", "Smith-Climbie")),
        VICTORIA,
        {"family_name": "one_part"},
        id="double-barrelled",
    ),
    pytest.param(
        person(("Victoria", "de Souza")),
        person(("Victoria", "Souza")),
        {"family_name": "one_part"},
        id="particle",
    ),
    pytest.param(
        person(("Victoria", "Climbee")),
        VICTORIA,
        {"family_name": "close_spelling"},
        id="misspelt family name",
    ),
    pytest.param(
        person(("Aaliyah", "Jones")),
        person(("Aliyah", "Jones")),
        {"given_name": "close_spelling"},
        id="Aaliyah / Aliyah",
    ),
    pytest.param(
        person(("Catherine", "Jones")),
        person(("Kathryn", "Jones")),
        {"given_name": "phonetic"},
        id="Catherine / Kathryn",
    ),
    pytest.param(
        person(("Mohammed", "Khan")),
        person(("Muhammad", "Khan")),
        {"given_name": "phonetic"},
        id="Mohammed / Muhammad",
    ),
    pytest.param(
        person(("Stephen", "Jones")),
        person(("Steven", "Jones")),
        {"given_name": "phonetic"},
        id="Stephen / Steven",
    ),
    pytest.param(
        person(("V", "Climbie")),
        VICTORIA,
        {"given_name": "initial"},
        id="an initial",
    ),
    pytest.param(
        person(("Aisha", "Patel")),
        VICTORIA,
        {"given_name": "different", "family_name": "different"},
        id="a different child",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), nhs="9992914173"),
        person(("Victoria", "Climbie"), nhs="9992914173"),
        {"nhs_number": "agree"},
        id="NHS numbers agree",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), nhs="9992914173"),
        person(("Victoria", "Climbie"), nhs="9991234567"),
        {"nhs_number": "disagree"},
        id="NHS numbers disagree",
    ),
    pytest.param(
        person(("Victoria", "Climbie"), upn=None),
        person(("Victoria", "Climbie"), upn="Z307202311001"),
        {"upn": "missing"},
        id="UPN known on one side only",
    ),
]


@pytest.mark.parametrize(("enquiry", "child", "expected"), PAIRS)
def test_each_field_reaches_the_expected_level(
    enquiry: Person, child: Person, expected: dict[str, str]
) -> None:
    levels = levels_of(MODEL, enquiry, child)
    assert {field: levels[field] for field in expected} == expected


def test_levels_are_labelled_as_the_model_declares() -> None:
    for enquiry, child, _ in (p.values for p in PAIRS):
        for field, label in levels_of(MODEL, enquiry, child).items():
            assert label == "missing" or label in {
                level.label for level in MODEL.comparison(field).levels
            }


def test_a_level_added_later_is_scored_as_earlier_versions_did() -> None:
    v2 = load_model("2026-11-v2")
    dates = v2.comparison("date_of_birth")
    assert not dates.knows("approximate")
    assert dates.weight("approximate") == dates.weight("same_year")


def test_an_explanation_adds_up_and_names_its_model() -> None:
    explained = score(MODEL, person(("Anna", "Kouao")), VICTORIA)
    assert explained.model_version == MODEL.version
    assert explained.total == pytest.approx(MODEL.prior + sum(explained.weights.values()))
    assert set(explained.as_dict()["fields"]) == set(explained.levels)
    # As shown to a client: the prior and the weights add up to the total.
    shown = explained.as_dict()
    assert shown["prior"] == round(MODEL.prior, 3)
    weights = sum(f["weight"] for f in shown["fields"].values())
    rounding = 0.0005 * (len(shown["fields"]) + 2)  # each shown to 3 places
    assert shown["total"] == pytest.approx(shown["prior"] + weights, abs=rounding)


@pytest.mark.parametrize(("a", "b"), [("", "Jones"), ("Jones", " "), ("'-", "Jones")])
def test_an_empty_name_is_missing_not_different(a: str, b: str) -> None:
    assert family_level(a, b) == "missing"
    assert given_level(a, b) == "missing"
