"""Need to know: the minimum a search must say about a child before anything is shown,
so that the index cannot be fished or browsed (DOMAIN.md "Access"), the most a search
may show, and what a caller's search may be matched on (`match_scope`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from index_service.access.policy import DATA_MANAGER, holds
from index_service.access.principal import Principal
from index_service.errors import DomainError
from index_service.matching.normalise import MIN_NAME_LETTERS, is_a_name
from index_service.matching.records import MatchScope

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
# A name counts only if it names someone: at least two letters ("*", "-", "A" do not).
NAME_FIELDS = ("family_name", "given_names")


class CriteriaInsufficient(DomainError):
    status = 400
    code = "criteria_insufficient"
    title = "Not enough to search on"


def require_sufficient_criteria(criteria: Mapping[str, Any]) -> tuple[str, ...]:
    """The first sufficient combination the criteria meet; otherwise a 400 that says,
    for each combination, what is missing (names only, never the values)."""
    given = {name for name, value in criteria.items() if value not in (None, "", [])}
    not_names = sorted(f for f in NAME_FIELDS if f in given and not is_a_name(criteria[f]))
    given -= set(not_names)
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
        f"age may stand for the date of birth; a name counts with {MIN_NAME_LETTERS} letters "
        "or more)",
        missing=missing,
        not_a_name=not_names,  # given, but without the letters to name anyone
    )


def match_scope(principal: Principal) -> MatchScope:
    """What this caller's searches (enquiries, the duplicate guard) may be matched on.
    A shielded child's addresses count only for its responsible authority's data managers
    (who alone see the record, `scope.sees_shielded_record`); for anyone else they are no
    key, so that no postcode, true or false, changes the answer about the child."""
    keeper = principal.local_authority if holds(principal, DATA_MANAGER) else None
    return MatchScope(shielded_addresses_of=keeper, max_shown=MAX_CANDIDATES)
