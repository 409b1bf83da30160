"""The audit trail over time: the coming months' partitions made ahead, and the personal
part of events older than the retention period erased, each a worker hook with the clock
as a parameter (tests move time instead of waiting).

Erasure keeps the chain whole: what is chained is a salted commitment to the personal
part, never the part itself (`audit/chain.py`); erasing the data and its salt together
leaves every link as it was and the commitment unguessable. It goes through
`audit_erase_personal` (migration 0020), the one UPDATE the append-only guard lets through,
oldest first in batches, each batch in a transaction of its own with an audit event that
says how many and up to when (a count and a time: no personal data, in the trail or the
log).

Partitions: `audit_ensure_partition` makes a month's partition of `audit_event`; the
worker asks for this month's and the next `PARTITIONS_AHEAD`, so that events land in
their month's partition and not the default one (a month whose rows already sit in the
default partition cannot be made: it is logged, and the events stay correct there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from index_service.audit.service import record_system_event
from index_service.database import Database
from index_service.settings import Settings

log = structlog.get_logger("index_service.audit.retention")

PART = "worker:audit-retention"
ERASE_ACTION = "audit:personal:erase"
PARTITIONS_AHEAD = 2
_ENSURE = text("SELECT audit_ensure_partition(:month)")
_ERASE = text("SELECT audit_erase_personal(:cutoff, :batch)")


def months_from(day: date, count: int) -> list[date]:
    """The first days of `count` months from the month holding `day`."""
    index = day.year * 12 + day.month - 1
    return [date((index + n) // 12, (index + n) % 12 + 1, 1) for n in range(count)]


def ensure_partitions(db: Database, now: datetime, ahead: int = PARTITIONS_AHEAD) -> list[str]:
    """This month's partition and the next `ahead` months'; the names made or found."""
    names = []
    for month in months_from(now.date(), ahead + 1):
        try:
            with db.transaction() as session:
                names.append(str(session.execute(_ENSURE, {"month": month}).scalar_one()))
        except DBAPIError as exc:
            log.error(
                "audit_partition_not_made", month=month.isoformat(), error=type(exc.orig).__name__
            )
    return names


def retention_cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.audit_personal_retention_days)


def erase_personal(db: Database, settings: Settings, now: datetime) -> int:
    """Erase the personal part of every event older than the retention period; how many
    were erased."""
    cutoff = retention_cutoff(settings, now)
    batch = settings.audit_erase_batch
    total = 0
    while True:
        with db.transaction() as session:
            erased = int(session.execute(_ERASE, {"cutoff": cutoff, "batch": batch}).scalar_one())
            if erased:
                record_system_event(
                    session=session,
                    action=ERASE_ACTION,
                    instance=settings.instance_name,
                    part=PART,
                    detail={
                        "erased": erased,
                        "before": cutoff.isoformat(),
                        "reason": "retention period ended",
                    },
                )
        total += erased
        if erased < batch:
            break
    if total:
        log.info("audit_personal_erased", erased=total, before=cutoff.isoformat())
    return total


@dataclass
class Retention:
    """The worker's hook: partitions ahead, then erasure, at most once per
    `audit_retention_interval_seconds` (the clock is the tick's)."""

    db: Database
    settings: Settings
    _last: datetime | None = field(default=None, init=False)

    def tick(self, now: datetime) -> None:
        every = timedelta(seconds=self.settings.audit_retention_interval_seconds)
        if self._last is not None and now - self._last < every:
            return
        self._last = now
        ensure_partitions(self.db, now)
        erase_personal(self.db, self.settings, now)
