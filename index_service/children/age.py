"""Who the index holds a record for: a child under the age limit (DOMAIN.md "What a record
holds": a person under 18), and an unborn child with a pre-birth plan, recorded under the
expected date of delivery. Both numbers are settings (`RECORD_AGE_LIMIT_YEARS`,
`UNBORN_DAYS_AHEAD`), checked here once for creating and for changing a record.

An unborn child's date of birth is the expected date of delivery, so it is in the future
and only ever `estimated`: an exact date in the future is a typing error, not a plan."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from index_service.children.models import DatePrecision
from index_service.errors import InvalidInput
from index_service.settings import Settings

_WHERE = ["body", "date_of_birth"]


@dataclass(frozen=True)
class AgeLimit:
    years: int  # a record is for a child younger than this
    unborn_days_ahead: int  # how far ahead an expected date of delivery may be (0: none)

    @classmethod
    def of(cls, settings: Settings) -> AgeLimit:
        return cls(
            years=settings.record_age_limit_years,
            unborn_days_ahead=settings.unborn_days_ahead,
        )


def age_in_years(date_of_birth: date, today: date) -> int | None:
    """Whole years of age on `today`; None for an unborn child."""
    if date_of_birth > today:
        return None
    years = today.year - date_of_birth.year
    return years - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def latest_possible(date_of_birth: date, precision: str) -> date:
    """The latest day a date of birth known only to its year or month may be: a child
    recorded as born "in 2008" may be 17 until the last day of 2026."""
    if precision == DatePrecision.YEAR.value:
        return date(date_of_birth.year, 12, 31)
    if precision == DatePrecision.MONTH.value:
        last = calendar.monthrange(date_of_birth.year, date_of_birth.month)[1]
        return date(date_of_birth.year, date_of_birth.month, last)
    return date_of_birth


def require_within_age_limit(
    date_of_birth: date, precision: str, *, limit: AgeLimit, today: date
) -> None:
    """A 422 naming the field (never the date) if the index may not hold this child."""
    if date_of_birth > today:
        if precision != DatePrecision.ESTIMATED.value:
            raise _refused(
                "date_of_birth_in_future",
                "a date of birth in the future is an unborn child's expected date of "
                "delivery: send it with date_of_birth_precision 'estimated'",
            )
        if (date_of_birth - today).days > limit.unborn_days_ahead:
            raise _refused(
                "date_of_birth_in_future",
                f"an unborn child's expected date of delivery is at most "
                f"{limit.unborn_days_ahead} days ahead",
            )
        return
    age = age_in_years(latest_possible(date_of_birth, precision), today)
    if age is not None and age >= limit.years:
        raise _refused(
            "beyond_age_limit",
            f"the index holds records of children under {limit.years}: this date of birth "
            f"is of someone {limit.years} or older",
        )


def _refused(code: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, code=code, errors=[{"location": _WHERE, "message": message, "type": code}]
    )
