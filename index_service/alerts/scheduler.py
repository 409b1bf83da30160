"""The scheduled side of the rules, run by the worker on every tick, each step in its own
transaction: alerts for reached shielded records (R7), escalation of alerts nobody
acknowledged in time (R6), alerts for flags past their review date (R8), and destruction
of expired enquiry-only contacts. The clock is a parameter, so tests move time instead
of waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlmodel import Session

from index_service.alerts import flows
from index_service.alerts.models import Alert
from index_service.audit.service import record_system_event
from index_service.database import Database
from index_service.enquiries.contacts import destroy_expired
from index_service.settings import Settings

log = structlog.get_logger("index_service.scheduler")
PART = "worker:scheduler"


def _audit_raised(session: Session, settings: Settings, raised: list[Alert], rule: str) -> None:
    if raised:
        record_system_event(
            session=session,
            action="alert:raise",
            instance=settings.instance_name,
            part=PART,
            child_ids=[a.child_id for a in raised if a.child_id is not None],
            detail={"rule": rule, "alerts_raised": [str(a.id) for a in raised]},
        )


@dataclass(frozen=True)
class TickReport:
    shielded_alerts: int
    escalations: int
    contacts_destroyed: int
    overdue_flag_alerts: int = 0


def tick(*, db: Database, settings: Settings, now: datetime) -> TickReport:
    """Each step commits with its own audit event (alerts raised, by id; contacts
    destroyed, by count only: no personal data)."""
    timing = flows.timing_of(settings)
    with db.transaction() as session:
        shielded = flows.alert_shielded_accesses(session=session, now=now, timing=timing)
        _audit_raised(session, settings, shielded, "R7")
    with db.transaction() as session:
        escalated = flows.escalate_overdue(session=session, now=now, timing=timing)
        _audit_raised(session, settings, escalated, "R6")
    with db.transaction() as session:
        overdue = flows.alert_flags_past_review(session=session, now=now, timing=timing)
        _audit_raised(session, settings, overdue, "R8")
    with db.transaction() as session:
        destroyed = destroy_expired(session=session, now=now)
        if destroyed:
            record_system_event(
                session=session,
                action="child:enquiry_contact:destroy",
                instance=settings.instance_name,
                part=PART,
                detail={"destroyed": destroyed, "reason": "retention period ended"},
            )
    report = TickReport(len(shielded), len(escalated), destroyed, len(overdue))
    if shielded or escalated or destroyed or overdue:
        log.info(
            "scheduler_tick",
            shielded_alerts=report.shielded_alerts,
            escalations=report.escalations,
            contacts_destroyed=report.contacts_destroyed,
            overdue_flag_alerts=report.overdue_flag_alerts,
        )
    return report
