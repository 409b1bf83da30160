"""Properties of the normalisers, checked by hypothesis, and the cases they exist for."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index_service.matching.normalise import (
    approximate_date_of_birth,
    digits_apart,
    family_name_key,
    family_name_parts,
    fold,
    is_a_name,
    name_group,
    nickname_equivalent,
    swapped_day_month,
)

names = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "M", "Zs", "Pd", "Po")), max_size=40
)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 12, 31))


@given(names)
def test_fold_is_idempotent_and_plain(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert set(folded) <= set("abcdefghijklmnopqrstuvwxyz ")
    assert folded == folded.strip()
    assert "  " not in folded


@given(names)
def test_case_and_accents_never_matter(text: str) -> None:
    assert fold(text.upper()) == fold(text.lower()) == fold(text)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    assert fold(stripped) == fold(text)


@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10),
        min_size=1,
        max_size=3,
    )
)
def test_a_family_name_key_ignores_spaces_hyphens_and_case(parts: list[str]) -> None:
    assert family_name_key("-".join(parts)) == family_name_key(" ".join(parts).upper())
    assert family_name_key("".join(parts)) == family_name_key(" - ".join(parts))


@given(
    st.sampled_from(["bill", "will", "william", "alfie", "peggy", "margaret", "liz", "ted"]),
    st.sampled_from(["william", "alfred", "margaret", "elizabeth", "edward", "bill", "peggy"]),
)
def test_nickname_equivalence_is_symmetric(a: str, b: str) -> None:
    assert nickname_equivalent(a, b) == nickname_equivalent(b, a)


@given(dates)
def test_swapping_day_and_month_twice_gives_the_date_back(value: date) -> None:
    swapped = swapped_day_month(value)
    if swapped is not None:
        assert swapped != value
        assert swapped_day_month(swapped) == value


@given(dates, dates)
def test_digits_apart_is_a_distance(a: date, b: date) -> None:
    assert digits_apart(a, b) == digits_apart(b, a)
    assert (digits_apart(a, b) == 0) == (a == b)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Climbié", "climbie"),
        ("O'Neill", "oneill"),
        ("Smith-Jones", "smith jones"),
        ("  Zoë   Ann ", "zoe ann"),
        ("Strauß", "strauss"),
        ("Ødegård", "odegard"),
    ],
)
def test_folding_examples(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_particles_are_set_aside_and_barrels_split() -> None:
    assert family_name_parts("de Souza-Lopes") == {"souza", "lopes"}
    assert family_name_parts("Van") == {"van"}  # a name that is only a particle keeps it


def test_british_short_forms_fill_gaps_in_the_dataset() -> None:
    assert "alfred" in name_group("Alfie")
    assert "maisie" in name_group("Margaret")
    assert "william" in name_group("Bill")


def test_a_year_or_an_age_gives_an_approximate_date_of_birth() -> None:
    today = date(2026, 11, 23)
    assert approximate_date_of_birth(year_of_birth=2016, age_years=None, today=today) == (
        date(2016, 7, 1),
        "year",
    )
    born, precision = approximate_date_of_birth(year_of_birth=None, age_years=10, today=today)
    assert precision == "estimated"
    assert date(2015, 11, 24) <= born <= date(2016, 11, 23)  # ten on 2026-11-23
    assert approximate_date_of_birth(year_of_birth=None, age_years=None, today=today) is None


@pytest.mark.parametrize(
    ("value", "names"),
    [("Ng", True), ("Zoë", True), ("O'Neil", True), ("Li", True), ("*", False),
     ("A", False), ("A.", False), ("-", False), ("'", False), ("12", False), ("", False)],
)  # fmt: skip
def test_a_name_carries_two_letters(value: str, names: bool) -> None:
    assert is_a_name(value) is names
