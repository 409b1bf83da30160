"""The look-up form (`web/forms.py`) and the one way every page reads a number typed or
sent in a query: ASCII digits only, so "²" (which `str.isdigit` accepts and `int`
refuses) is a form error or a default, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index_service.web.forms import whole_number
from tests.web.test_pages import csrf, state_purpose
from tests.web.test_work import sign_in_as


@pytest.mark.parametrize(
    ("typed", "number", "capped"),
    [
        ("7", 7, 7),
        ("007", 7, 7),
        ("", None, None),
        ("²", None, None),  # a superscript: "²".isdigit() is True, int("²") raises
        ("٣", None, None),  # an Arabic-Indic three: int() would read it as 3
        ("-1", None, None),
        ("1e3", None, None),
        (" 7", None, None),
        ("9" * 5000, None, 100),  # int() refuses more than 4300 digits
        ("0" * 40 + "5", 5, 5),
    ],
)
def test_a_whole_number_is_ascii_digits_only(
    typed: str, number: int | None, capped: int | None
) -> None:
    assert whole_number(typed) == number
    assert whole_number(typed, most=100) == capped


@pytest.mark.parametrize("field", ["age_years", "dob_day"])
def test_an_odd_digit_in_the_search_form_is_a_form_error_not_a_500(
    browser_client: TestClient, personas_organisations: dict[str, str], field: str
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    form = browser_client.get("/search")
    typed = (
        {"age_years": "²"}
        if field == "age_years"
        else {"dob_day": "²", "dob_month": "2", "dob_year": "2016"}
    )
    answered = browser_client.post(
        "/search",
        data={
            "family_name": "Nobodyknown",
            "given_names": "Zed",
            "postcode": "W5 2AA",
            **typed,
            "csrf_token": csrf(form.text),
        },
    )
    assert answered.status_code == 422, answered.text
    assert "There is a problem" in answered.text
    expected = "Age must be a whole number" if field == "age_years" else "Date of birth must be"
    assert expected in answered.text
