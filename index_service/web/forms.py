"""The look-up form: what a practitioner typed, as the API's `EnquiryCreate`, or the
errors to show (the GOV.UK error summary and each field's own message). The rules on what
is enough to search on stay in `access/need_to_know.py`: this only says them in words.

One form for the practitioner's search, the data manager's "find a child" and the
auditor's "find the child to audit" (`search.html`, which the other two extend), so the
three ask for the same criteria, the address lines and town with them: match model v4
compares the house and street, which tells apart children at one postcode."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from index_service.access.need_to_know import CriteriaInsufficient
from index_service.enquiries.models import EnquiryCreate

FIELDS = (
    "given_names",
    "family_name",
    "other_given_names",
    "other_family_name",
    "dob_day",
    "dob_month",
    "dob_year",
    "age_years",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "nhs_number",
    "upn",
)
# Passed to `EnquiryCreate` as typed when given (its validators are the rules).
AS_TYPED = (
    "given_names",
    "family_name",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "nhs_number",
    "upn",
)

MINIMUM = (
    "an NHS number",
    "a unique pupil number (UPN)",
    "family name, given names and date of birth (or age)",
    "family name, date of birth (or age) and postcode",
)

MESSAGES = {
    "given_names": "Enter the child's given names using letters",
    "family_name": "Enter the child's family name using letters",
    "other_names": "Enter both the given and family name of the other name",
    "date_of_birth": "Date of birth must be a real date in the past, within the last 25 years",
    "age_years": "Age must be a whole number of years, from 0 to 25",
    "address_line1": "Enter the first line of the address in 200 characters or fewer",
    "address_line2": "Enter the second line of the address in 200 characters or fewer",
    "town": "Enter the town or city in 100 characters or fewer",
    "postcode": "Enter a real postcode, like W5 2AA",
    "nhs_number": "Enter a valid NHS number: 10 digits, like 999 291 4173",
    "upn": "Enter a valid UPN: 13 characters, starting with a letter",
}

ANCHORS = {
    "date_of_birth": "dob_day",
    "other_names": "other_given_names",
    "criteria": "given_names",
}


def whole_number(typed: str, *, most: int | None = None) -> int | None:
    """The whole number typed in a form field or query, or None if it is not one. Only
    the ASCII digits 0-9: `str.isdigit` also says yes to "²" (which `int` refuses: a 500)
    and to other scripts' digits (which `int` reads), so every page reads numbers here.
    `most`: the largest answer (a longer number is that too); without it, a number of
    more than 18 digits is no answer."""
    if not (typed.isascii() and typed.isdigit()):
        return None
    significant = typed.lstrip("0") or "0"
    if len(significant) > 18:
        return most
    number = int(significant)
    return number if most is None else min(number, most)


@dataclass
class SearchForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> list[dict[str, str]]:
        return [
            {"text": message, "href": f"#{ANCHORS.get(name, name)}"}
            for name, message in self.errors.items()
        ]


def read(values: dict[str, str]) -> tuple[SearchForm, EnquiryCreate | None]:
    form = SearchForm(values={name: values.get(name, "") for name in FIELDS})
    v = form.values
    data: dict[str, Any] = {key: v[key] for key in AS_TYPED if v[key]}
    if v["other_given_names"] or v["other_family_name"]:
        if not (v["other_given_names"] and v["other_family_name"]):
            form.errors["other_names"] = MESSAGES["other_names"]
        else:
            data["other_names"] = [
                {"given_names": v["other_given_names"], "family_name": v["other_family_name"]}
            ]
    day, month, year = v["dob_day"], v["dob_month"], v["dob_year"]
    if day or month or year:
        parts = [whole_number(part) for part in (year, month, day)]
        try:
            if None in parts:
                raise ValueError("not a number")
            data["date_of_birth"] = date(*parts).isoformat()  # type: ignore[arg-type]
        except ValueError:
            form.errors["date_of_birth"] = MESSAGES["date_of_birth"]
    if v["age_years"]:
        if "date_of_birth" in data or "date_of_birth" in form.errors:
            form.errors["age_years"] = "Give the date of birth or the age, not both"
        elif (age := whole_number(v["age_years"])) is None:
            form.errors["age_years"] = MESSAGES["age_years"]
        else:
            data["age_years"] = age
    try:
        enquiry = EnquiryCreate.model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "date_of_birth"
            form.errors.setdefault(name, MESSAGES.get(name, "Check this answer"))
        enquiry = None
    return form, (None if form.errors else enquiry)


def insufficient(form: SearchForm, refused: CriteriaInsufficient) -> None:
    """Say what is enough, naming the names that name nobody."""
    for name in refused.extra.get("not_a_name", []):
        form.errors[name] = MESSAGES[name] + " (at least 2 letters)"
    form.errors["criteria"] = "Give more to search on: " + "; or ".join(MINIMUM)
