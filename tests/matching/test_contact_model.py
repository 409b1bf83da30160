"""The contact match model (R3): the current model fitted to the enquiry-only contact
population, and what it links that the index's model does not."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import pytest

from index_service.matching.contact_model import (
    CONTACT_MODELS,
    CURRENT_CONTACT_VERSION,
    is_repeat,
    load_contact_model,
    may_link,
)
from index_service.matching.model import MatchModel, load_model, score
from index_service.matching.records import Person, PersonName

ANNA = PersonName("Anna", "Kouao")
# An age of 8 on 1 December 2026, read as the middle of the year of life.
AGED_8 = Person(names=(ANNA,), date_of_birth=date(2018, 6, 1), date_of_birth_precision="estimated")


def moved(born: date, *names: PersonName) -> Person:
    return Person(names=names or (ANNA,), date_of_birth=born, postcodes=("W52AA",))


def _base() -> MatchModel:
    """The model the contact spec names as its base (v3: the contact model compares
    postcodes; model v4 becoming current does not move it)."""
    return load_model(
        json.loads((CONTACT_MODELS / f"{CURRENT_CONTACT_VERSION}.json").read_text())["base"]
    )


def test_the_contact_model_is_its_base_model_with_the_contact_prior_and_postcode() -> None:
    base, contacts = _base(), load_contact_model()
    assert contacts.version != base.version
    assert contacts.estimation is not None
    assert contacts.estimation["base"] == base.version
    assert contacts.prior == pytest.approx(-math.log2(contacts.estimation["population"]))
    assert contacts.prior > base.prior
    different = contacts.comparison("postcode").weight("different")
    assert -1.5 < different < 0 < contacts.comparison("postcode").weight("same_district")
    assert sum(level.m for level in contacts.comparison("postcode").levels) == pytest.approx(1)
    for comparison in base.comparisons:
        if comparison.field != "postcode":
            assert contacts.comparison(comparison.field) == comparison
    assert contacts.thresholds == base.thresholds


@pytest.mark.parametrize("born", [date(2017, 12, 2), date(2018, 11, 30)])
def test_r3_links_a_child_who_moved_between_enquiries(born: date) -> None:
    first = Person(**{**vars(AGED_8), "postcodes": ("N155AB",)})
    contacts, base = load_contact_model(), _base()
    assert score(contacts, moved(born), first).total >= contacts.thresholds.possible
    assert score(base, moved(born), first).total < base.thresholds.possible  # the bug


@pytest.mark.parametrize(
    "second",
    [
        moved(date(2018, 11, 30), PersonName("Maria", "Santos")),
        moved(date(2018, 11, 30), PersonName("Anna", "Smith")),
        moved(date(2016, 3, 3)),  # same names, a date two years off the age
    ],
)
def test_r3_a_different_child_at_another_postcode_does_not_link(second: Person) -> None:
    first = Person(**{**vars(AGED_8), "postcodes": ("N155AB",)})
    contacts = load_contact_model()
    assert score(contacts, second, first).total < contacts.thresholds.possible


def test_a_repeat_agrees_on_the_names_and_twins_are_not_one() -> None:
    contacts = load_contact_model()
    zofia = moved(date(2019, 5, 17), PersonName("Zofia", "Nowakowska"))
    maja = moved(date(2019, 5, 17), PersonName("Maja", "Nowakowska"))
    assert is_repeat(score(contacts, zofia, zofia))
    twins = score(contacts, maja, zofia)
    assert twins.total >= contacts.thresholds.possible  # others' enquiries still link them
    assert not is_repeat(twins)


def test_two_given_names_born_the_same_day_are_never_linked_without_an_identifier() -> None:
    """The contact model alone would link "Oliver Smith" and "Jack Smith" born the same day
    at other postcodes; `may_link` refuses a pair whose given names disagree, unless an
    identifier agrees."""
    model = load_contact_model()
    oliver = Person(names=(PersonName("Oliver", "Smith"),), date_of_birth=date(2018, 6, 9),
                    date_of_birth_precision="exact", postcodes=("N15 5AB",))  # fmt: skip
    jack = replace(oliver, names=(PersonName("Jack", "Smith"),), postcodes=("W5 2AA",))
    pair = score(model, oliver, jack)
    assert pair.total >= model.thresholds.possible  # what the weights alone would do
    assert not may_link(pair)
    assert may_link(score(model, replace(oliver, nhs_number="9992914173"),
                          replace(jack, nhs_number="9992914173")))  # fmt: skip
    jones = replace(oliver, names=(PersonName("Oliver", "Jones"),), postcodes=("W5 2AA",))
    assert may_link(score(model, oliver, jones))
