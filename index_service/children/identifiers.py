"""Child identifiers and their check digits: NHS number (modulus 11) and UPN (check letter)."""

from __future__ import annotations

import re

from nhs_number.constants import (
    REGION_EIRE,
    REGION_ENGLAND_WALES_IOM,
    REGION_NORTHERN_IRELAND,
    REGION_SCOTLAND,
    REGION_SYNTHETIC,
)
from nhs_number.details import NhsNumber

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE: 23 letters, no I, O or S

# The package's region labels -> this service's words for them.
REGION_KEYS = {
    REGION_ENGLAND_WALES_IOM.label: "england_wales_iom",
    REGION_SCOTLAND.label: "scotland_chi",
    REGION_NORTHERN_IRELAND.label: "northern_ireland_hc",
    REGION_EIRE.label: "republic_of_ireland_ihi",
    REGION_SYNTHETIC.label: "synthetic",
}


def nhs_number_is_valid(value: str) -> bool:
    """Ten digits whose tenth is the modulus-11 check digit of the first nine
    (weights 10 down to 2; a remainder giving 10 means no valid number)."""
    if not re.fullmatch(r"[0-9]{10}", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def nhs_number_region(value: str) -> str:
    """Which issuer's range a ten-digit number falls in, by the `nhs-number` package's
    table of ranges (England, Wales and the Isle of Man; Scotland's CHI numbers, which
    pass the same check digit; Northern Ireland's H&C numbers; the Republic of Ireland's
    IHI; the synthetic range never issued to a person; unallocated). A number from
    another nation is not wrong, but only a trace against its own register verifies it."""
    if not re.fullmatch(r"[0-9]{10}", value):
        return "unallocated"
    region = NhsNumber(value).region  # type: ignore[no-untyped-call]
    return REGION_KEYS.get(region.label if region else "", "unallocated")


def normalise_nhs_number(raw: str) -> str:
    """'943 476 5919' and '943-476-5919' -> '9434765919'."""
    return re.sub(r"[\s-]", "", raw)


def upn_check_letter(body: str) -> str:
    """The check letter for characters 2 to 13 of a UPN (DfE 'Unique Pupil Numbers'):
    each character times its position (2..13), summed, modulo 23, as a letter. A letter
    in position 13 (a temporary UPN) counts as its index in the 23-letter alphabet."""
    if len(body) != 12:
        raise ValueError("a UPN body has 12 characters")
    total = 0
    for position, char in enumerate(body, start=2):
        if char.isdigit():
            value = int(char)
        elif position == 13 and char in _UPN_LETTERS:
            value = _UPN_LETTERS.index(char)
        else:
            raise ValueError(f"unexpected character {char!r} at position {position}")
        total += value * position
    return _UPN_LETTERS[total % 23]


def upn_is_valid(value: str) -> bool:
    if not re.fullmatch(r"[A-Z][0-9]{11}[0-9A-Z]", value):
        return False
    try:
        return upn_check_letter(value[1:]) == value[0]
    except ValueError:
        return False
