"""Working days in England: the time an alert has before it escalates (R6) counts only
weekdays that are not bank holidays (the `holidays` package's calendar for England)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays_between(first: date, last: date) -> list[date]:
    """England's bank holidays from `first` to `last`, both included."""
    years = range(first.year, last.year + 1)
    return sorted(d for y in years for d in _bank_holidays(y) if first <= d <= last)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` moved on by `days` working days, at the same time of day: an alert raised on
    Friday at 17:00 with one working day is due on Monday at 17:00 (Tuesday if Monday is a
    bank holiday). An alert raised at a weekend counts from the next working day. Days
    are England's: an aware time is counted on the London calendar and returned in its
    own zone."""
    zone = start.tzinfo
    moment = start.astimezone(LONDON) if zone is not None else start
    while not is_working_day(moment.date()):
        moment += timedelta(days=1)
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            remaining -= 1
    return moment.astimezone(zone) if zone is not None else moment
