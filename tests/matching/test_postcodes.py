"""UK postcode normal form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index_service.matching.postcodes import InvalidPostcode, normalise_postcode, outward_code


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("W5 2AA", "W5 2AA"),
        ("n176ab", "N17 6AB"),
        ("EC1A1BB", "EC1A 1BB"),
        ("M1 1AE", "M1 1AE"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(raw: str, normal: str) -> None:
    assert normalise_postcode(raw) == normal


@pytest.mark.parametrize("raw", ["", "W5", "12345", "NOT A POSTCODE", "SW1A 1AAA", "QW1 1AA"])
def test_non_postcodes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPostcode):
        normalise_postcode(raw)


def test_outward_code() -> None:
    assert outward_code("sw1a1aa") == "SW1A"


POSTCODES = st.sampled_from(["SW1A 1AA", "W5 2AA", "N17 6AB", "EC1A 1BB", "B33 8TH", "CR2 6XH"])


@given(POSTCODES, st.sampled_from(["", " ", "  "]), st.booleans())
def test_normalising_is_idempotent_whatever_the_spacing_and_case(
    postcode: str, spacing: str, lower: bool
) -> None:
    raw = postcode.replace(" ", spacing)
    raw = raw.lower() if lower else raw
    once = normalise_postcode(raw)
    assert once == postcode
    assert normalise_postcode(once) == once
