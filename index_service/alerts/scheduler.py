"""The scheduled side of the rules, run by the worker on every tick, each step in its own
transaction: alerts for reached shielded records (R7), escalation of alerts nobody
acknowledged in time (R6), alerts for flags past their review date (R8), destruction
of expired enquiry-only contacts, and the record's lifecycle (`children/retention.py`):
archiving at the age limit (its workers told, R4) and destroying archived records after
the retention period unless a legal hold stops it. The clock is a parameter, so tests
move time instead of waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlmodel import Session

from index_service.access.policy import Permission
from index_service.alerts import flows
from index_service.alerts.models import Alert
from index_service.alerts.service import Occasion
from index_service.audit.service import record_system_event
from index_service.children import retention
from index_service.database import Database
from index_service.enquiries.contacts import destroy_expired
from index_service.feeds import reviews as feed_reviews
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
    archived: int = 0
    destroyed: int = 0


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
    archived, records_destroyed = lifecycle(db=db, settings=settings, now=now)
    report = TickReport(
        len(shielded), len(escalated), destroyed, len(overdue), archived, records_destroyed
    )
    if shielded or escalated or destroyed or overdue or archived or records_destroyed:
        log.info(
            "scheduler_tick",
            shielded_alerts=report.shielded_alerts,
            escalations=report.escalations,
            contacts_destroyed=report.contacts_destroyed,
            overdue_flag_alerts=report.overdue_flag_alerts,
            records_archived=report.archived,
            records_destroyed=report.destroyed,
        )
    return report


def lifecycle(*, db: Database, settings: Settings, now: datetime) -> tuple[int, int]:
    """Archive the records of children who reached the age limit, telling their workers
    (R4), then destroy those archived long enough and not held; each batch in its own
    transaction with its audit event. A destruction's event names the tombstones' ids and
    a count, never anything about the child. How many were archived and destroyed."""
    timing = flows.timing_of(settings)
    archived = destroyed = 0
    while True:
        with db.transaction() as session:
            ids = retention.archive_due(
                session=session, now=now, age_years=settings.archive_age_years
            )
            raised: list[Alert] = []
            for child_id in ids:
                raised += flows.after_lifecycle(
                    session=session,
                    occasion=Occasion(actor=None, occurred_at=now),
                    child_id=child_id,
                    reason="record_archived",
                    about=child_id,
                    timing=timing,
                )
            if ids:
                record_system_event(
                    session=session,
                    action="child:record:archive",
                    instance=settings.instance_name,
                    part=PART,
                    child_ids=ids,
                    detail={
                        "archived": len(ids),
                        "age_years": settings.archive_age_years,
                        "alerts_raised": [str(a.id) for a in raised],
                    },
                )
        archived += len(ids)
        if not ids:
            break
    while True:
        with db.transaction() as session:
            batch = retention.destroy_due(
                session=session, now=now, after_years=settings.destroy_after_archive_years
            )
            feed_reviews.forget_children(session, batch.ids)  # reviews and row keys naming them
            if batch.destroyed:
                record_system_event(
                    session=session,
                    action="child:record:destroy",
                    instance=settings.instance_name,
                    part=PART,
                    detail={
                        "destroyed": batch.destroyed,
                        "reason": "retention period after archiving ended",
                    },
                )
            if batch.held:
                record_system_event(
                    session=session,
                    action=Permission.CHILD_LEGAL_HOLD.value,
                    instance=settings.instance_name,
                    part=PART,
                    child_ids=batch.held,
                    detail={"reason": "a legal hold on an entry merged into it moved to it"},
                )
        destroyed += batch.destroyed
        if not batch.destroyed and not batch.held:
            break
    return archived, destroyed
