"""The scheduled side of the rules, run by the worker on every tick, each step in its own
transaction: alerts for reached shielded records (R7), escalation of alerts nobody
acknowledged in time (R6), and destruction of expired enquiry-only contacts. The clock
is a parameter, so tests move time instead of waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from index_service.alerts import flows
from index_service.database import Database
from index_service.enquiries.contacts import destroy_expired
from index_service.settings import Settings

log = structlog.get_logger("index_service.scheduler")


@dataclass(frozen=True)
class TickReport:
    shielded_alerts: int
    escalations: int
    contacts_destroyed: int


def tick(*, db: Database, settings: Settings, now: datetime) -> TickReport:
    timing = flows.timing_of(settings)
    with db.transaction() as session:
        shielded = flows.alert_shielded_accesses(session=session, now=now, timing=timing)
    with db.transaction() as session:
        escalated = flows.escalate_overdue(session=session, now=now, timing=timing)
    with db.transaction() as session:
        destroyed = destroy_expired(session=session, now=now)
    report = TickReport(len(shielded), len(escalated), destroyed)
    if shielded or escalated or destroyed:
        log.info(
            "scheduler_tick",
            shielded_alerts=report.shielded_alerts,
            escalations=report.escalations,
            contacts_destroyed=report.contacts_destroyed,
        )
    return report
