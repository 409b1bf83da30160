"""Anomaly events for the auditors: a user who opens more distinct children in an hour
than the configured threshold (opening as `access/opening.py` defines it, the same for
the rate limit and the auditors' reports). Checked when a child is opened, from the
audit trail itself, and recorded once an hour per user as an audit event of its own, in the same
transaction as the request that crossed the line."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from index_service.access.opening import OPENED, opened_json
from index_service.audit.models import AuditEvent
from index_service.audit.service import AuditDraft, record_event
from index_service.common import utcnow

MANY_CHILDREN = "access:anomaly:many_children"


def note_children_opened(*, session: Session, draft: AuditDraft, threshold: int) -> bool:
    """Record the anomaly if this request takes its user over `threshold` distinct
    children in the last hour, and none is on record for them in that hour. True if
    it was recorded."""
    principal = draft.principal
    opening = {uuid.UUID(c) for c in draft.detail.get(OPENED, [])}
    if principal is None or not opening:
        return False
    since = utcnow() - timedelta(hours=1)
    mine = (
        (col(AuditEvent.issuer) == principal.issuer)
        & (col(AuditEvent.subject) == principal.subject)
        & (col(AuditEvent.occurred_at) >= since)
    )
    opened_before = select(func.jsonb_array_elements_text(opened_json())).where(mine)
    earlier = {uuid.UUID(row[0]) for row in session.execute(opened_before)}
    distinct = len(earlier | opening)
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
