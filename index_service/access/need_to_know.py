"""Need to know: the minimum a search must say about a child before anything is shown,
so that the index cannot be fished or browsed (DOMAIN.md "Access"), and the most a
search may show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from index_service.errors import DomainError

MAX_CANDIDATES = 5

# Each way of naming a child well enough, as the fields it needs.
SUFFICIENT_CRITERIA: tuple[tuple[str, ...], ...] = (
    ("nhs_number",),
    ("upn",),
    ("family_name", "given_names", "date_of_birth"),
    ("family_name", "date_of_birth", "postcode"),
)


# A field that counts as another when that one is missing: when the date of birth is not
# known, a year of birth or an age stands in for it (with less weight in the matcher).
STANDS_IN_FOR = {"year_of_birth": "date_of_birth", "age_years": "date_of_birth"}


class CriteriaInsufficient(DomainError):
    status = 400
    code = "criteria_insufficient"
    title = "Not enough to search on"


def require_sufficient_criteria(criteria: Mapping[str, Any]) -> tuple[str, ...]:
    """The first sufficient combination the criteria meet; otherwise a 400 that says,
    for each combination, what is missing (names only, never the values)."""
    given = {name for name, value in criteria.items() if value not in (None, "", [])}
    given |= {STANDS_IN_FOR[name] for name in given if name in STANDS_IN_FOR}
    for combination in SUFFICIENT_CRITERIA:
        if given.issuperset(combination):
            return combination
    missing = [
        {"give": list(combination), "missing": [f for f in combination if f not in given]}
        for combination in SUFFICIENT_CRITERIA
    ]
    raise CriteriaInsufficient(
        "give an NHS number, or a UPN, or family name + given names + date of birth, "
        "or family name + date of birth + postcode (in an enquiry, a year of birth or an "
        "age may stand for the date of birth)",
        missing=missing,
    )
