"""Anomaly events for the auditors: a user who opens more distinct children in an hour
than the configured threshold. Checked when a child is opened, from the audit trail
itself, and recorded once an hour per user as an audit event of its own, in the same
transaction as the request that crossed the line."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from index_service.audit.models import AuditEvent, Outcome
from index_service.audit.service import AuditDraft, record_event
from index_service.common import utcnow

MANY_CHILDREN = "access:anomaly:many_children"
# Every action that answers with a child's record.
OPENING_ACTIONS = (
    "child:record:read",
    "child:record:update",
    "child:record:shield",
    "child:enquiry:open",
)


def note_children_opened(*, session: Session, draft: AuditDraft, threshold: int) -> bool:
    """Record the anomaly if this request takes its user over `threshold` distinct
    children in the last hour, and none is on record for them in that hour. True if
    it was recorded."""
    principal = draft.principal
    if principal is None or not draft.child_ids:
        return False
    since = utcnow() - timedelta(hours=1)
    mine = (
        (col(AuditEvent.issuer) == principal.issuer)
        & (col(AuditEvent.subject) == principal.subject)
        & (col(AuditEvent.occurred_at) >= since)
    )
    opened_before = select(func.unnest(col(AuditEvent.child_ids)).label("child_id")).where(
        mine,
        col(AuditEvent.action).in_(OPENING_ACTIONS),
        col(AuditEvent.outcome) == Outcome.SUCCESS.value,
    )
    earlier = {row[0] for row in session.execute(opened_before)}
    distinct = len(earlier | set(draft.child_ids))
    if distinct <= threshold:
        return False
    already = session.execute(
        select(col(AuditEvent.id)).where(mine, col(AuditEvent.action) == MANY_CHILDREN).limit(1)
    ).first()
    if already is not None:
        return False
    anomaly = dataclasses.replace(
        draft,
        action=MANY_CHILDREN,
        child_ids=[],
        detail={"distinct_children": distinct, "threshold": threshold, "window": "1 hour"},
    )
    record_event(session=session, draft=anomaly, status_code=200, reason="threshold_exceeded")
    return True
