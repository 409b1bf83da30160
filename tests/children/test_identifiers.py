"""NHS number (modulus 11) and UPN (check letter): table-driven and property-based."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index_service.children.identifiers import (
    nhs_number_is_valid,
    normalise_nhs_number,
    upn_check_letter,
    upn_is_valid,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("9434765919", True),  # the NHS's published example
        ("9434765918", False),  # last digit changed
        ("9992914173", True),  # test range
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven digits
        ("943476591X", False),
        ("0000000000", True),  # check digit 0 (11 -> 0)
        ("1000000000", False),  # check digit should be 1
    ],
)
def test_nhs_number_check_digit(value: str, valid: bool) -> None:
    assert nhs_number_is_valid(value) is valid


def test_nhs_number_spacing_is_normalised() -> None:
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"


def _with_check_digit(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_error_in_an_nhs_number_is_caught(
    nine: str, position: int, delta: int
) -> None:
    number = _with_check_digit(nine)
    if number is None:
        assert not any(nhs_number_is_valid(nine + str(d)) for d in range(10))
        return
    assert nhs_number_is_valid(number)
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not nhs_number_is_valid(wrong)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("B801200005001", True),  # the DfE-style example used by python-stdnum
        ("A801200005001", False),  # wrong check letter
        ("B80120000500", False),  # twelve characters
        ("B80120000500A", False),  # temporary UPN letter with the wrong check letter
        ("I801200005001", False),  # I is never a check letter
        ("b801200005001", False),  # stored upper case only (the API upper-cases first)
    ],
)
def test_upn_check_letter(value: str, valid: bool) -> None:
    assert upn_is_valid(value) is valid


@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUVWXYZ"),
)
def test_a_computed_check_letter_always_validates(digits: str, last: str) -> None:
    body = digits + last
    assert upn_is_valid(upn_check_letter(body) + body)
