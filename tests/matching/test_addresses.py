"""The address normaliser: the same dwelling written another way is the same address;
another flat, another number or another postcode is not."""

from __future__ import annotations

import pytest

from index_service.matching.addresses import AddressText, line_words, same_address


def _at(
    line1: str, line2: str | None = None, postcode: str = "W5 2AA", uprn: str | None = None
) -> AddressText:
    return AddressText(line1=line1, line2=line2, postcode=postcode, uprn=uprn)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(_at("12 Acacia Rd"), _at("12 Acacia Road"), id="Rd = Road"),
        pytest.param(_at("12 High St"), _at("12 HIGH STREET"), id="St = Street, case"),
        pytest.param(_at("12 High St."), _at("12 High Street"), id="St. with a stop"),
        pytest.param(_at("4 St Mary's Rd"), _at("4 Saint Marys Road"), id="St before a name"),
        pytest.param(_at("4 St. Mary's Road"), _at("4 St Marys Rd"), id="Saint, punctuated"),
        pytest.param(_at("Flat 3, 12 X Road"), _at("Flat 3", "12 X Road"), id="two lines"),
        pytest.param(_at("Apartment 3", "12 X Road"), _at("Flat 3, 12 X Road"), id="apartment"),
        pytest.param(_at("Apt 3, 12 X Rd"), _at("Flat 3, 12 X Road"), id="apt"),
        pytest.param(_at("3/12 X Road"), _at("Flat 3, 12 X Road"), id="3/12"),
        pytest.param(_at("12 X Road", "Flat 3"), _at("Flat 3, 12 X Road"), id="flat second"),
        pytest.param(_at("12 X Road, Flat 3A"), _at("Flat 3a", "12 X Rd"), id="flat 3A last"),
        pytest.param(_at("No. 12 X Road"), _at("12 X Road"), id="No. 12"),
        pytest.param(_at("Number 12, X Road"), _at("12 X Road"), id="Number 12"),
        pytest.param(_at("Flat 3A, 12 X Road"), _at("flat 3a", "12 x road"), id="flat 3A"),
        pytest.param(_at("12a Acacia Avenue"), _at("12 A Acacia Ave"), id="12a = 12 A"),
        pytest.param(_at("12, Acacia Ave"), _at("12 Acacia Avenue"), id="comma after number"),
        pytest.param(_at("7 Rose Cl"), _at("7 Rose Close"), id="Cl"),
        pytest.param(_at("7 Kew Gdns"), _at("7 Kew Gardens"), id="Gdns"),
        pytest.param(_at("7 Park Cres"), _at("7 Park Crescent"), id="Cres"),
        pytest.param(_at("7 Oak Dr"), _at("7 Oak Drive"), id="Dr"),
        pytest.param(_at("7 Elm Ln"), _at("7 Elm Lane"), id="Ln"),
        pytest.param(_at("7 Bute Pl"), _at("7 Bute Place"), id="Pl"),
        pytest.param(_at("7 Ash Sq"), _at("7 Ash Square"), id="Sq"),
        pytest.param(_at("7 Fir Ct"), _at("7 Fir Court"), id="Ct"),
        pytest.param(_at("7 Bay Terr"), _at("7 Bay Terrace"), id="Terr"),
        pytest.param(_at("7 Zoë Road"), _at("7 Zoe Road"), id="accents"),
        pytest.param(_at("1 Synthetic Row", postcode="w52aa"), _at("1 Synthetic Row"), id="pc"),
        pytest.param(
            _at("Flat 9, 1 Other Road", uprn="100021234567"),
            _at("Flat 3, 12 X Road", uprn="100021234567"),
            id="the same UPRN decides",
        ),
    ],
)
def test_the_same_address_written_another_way(a: AddressText, b: AddressText) -> None:
    assert same_address(a, b)
    assert same_address(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(_at("Flat 4, 12 X Road"), _at("Flat 3, 12 X Road"), id="another flat"),
        pytest.param(_at("Flat 3A, 12 X Road"), _at("Flat 3B, 12 X Road"), id="3A, 3B"),
        pytest.param(_at("12 X Road"), _at("14 X Road"), id="another number"),
        pytest.param(_at("12a X Road"), _at("12 X Road"), id="12a is not 12"),
        pytest.param(_at("12 X Road"), _at("12 X Road", postcode="W5 2AB"), id="postcode"),
        pytest.param(_at("12 X Road"), _at("12 X Street"), id="Road, Street"),
        pytest.param(_at("3/12 X Road"), _at("12/3 X Road"), id="3/12, 12/3"),
        pytest.param(_at("12 X Road", "Flat 4"), _at("Flat 3, 12 X Road"), id="flat 4 second"),
        pytest.param(_at("No. 12 X Road"), _at("14 X Road"), id="No. 12, 14"),
        pytest.param(
            _at("12 X Road", uprn="100021234567"),
            _at("12 X Road", uprn="100021234568"),
            id="different UPRNs",
        ),
    ],
)
def test_another_address_is_not_the_same(a: AddressText, b: AddressText) -> None:
    assert not same_address(a, b)
    assert not same_address(b, a)


def test_one_uprn_only_falls_back_to_the_words() -> None:
    assert same_address(_at("12 X Rd", uprn="100021234567"), _at("12 X Road"))
    assert not same_address(_at("14 X Rd", uprn="100021234567"), _at("12 X Road"))


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (("Flat 3, 12 X Road",), ("flat", "3", "12", "x", "road")),
        (("St Mary's Rd",), ("saint", "marys", "road")),
        (("12 High St", "St Albans"), ("12", "high", "street", "saint", "albans")),
        (("3A/12 X Rd",), ("flat", "3", "a", "12", "x", "road")),
    ],
)
def test_line_words(lines: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert line_words(*lines) == words
