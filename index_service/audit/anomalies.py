"""Anomaly events for the auditors: a user who opens more distinct children in an hour
than the configured threshold (opening as `access/opening.py` defines it, the same for
the rate limit and the auditors' reports). Checked when a child is opened, from the
audit trail itself, and recorded once an hour per user as an audit event of its own, in
the same transaction as the request that crossed the line.

Reading the user's hour of audit events on every opening would cost in proportion to how
busy they are (a service account's thousands an hour). So each opening first adds to a
count per user and clock hour (a row of the rate-limit table, added with the request's
other counts in one statement that also returns the hour before): the openings in the
last sixty minutes are at most the two hours' counts, and only when those exceed the
threshold is the audit trail read for the distinct children. The count bounds, the trail decides."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from index_service.access.opening import OPENED, opened_json
from index_service.access.ratelimit import Tally
from index_service.audit.models import AuditEvent
from index_service.audit.service import AuditDraft, record_event

MANY_CHILDREN = "access:anomaly:many_children"
OPENINGS_BUCKET = "opened"  # the rate-limit table's rows that count openings per hour
HOUR = 3600


def openings_tally(*, draft: AuditDraft, now: datetime) -> Tally | None:
    """The request's openings as an addition to its user's count for this clock hour,
    whose total includes the hour before: at least the openings of the last sixty
    minutes (None if it opened none)."""
    principal = draft.principal
    opened = len(set(draft.detail.get(OPENED, [])))
    if principal is None or not opened:
        return None
    epoch = int(now.timestamp())
    this_hour = datetime.fromtimestamp(epoch - epoch % HOUR, tz=UTC)
    return Tally(
        principal=principal.actor,
        bucket=OPENINGS_BUCKET,
        window_start=this_hour,
        add=opened,
        earlier=this_hour - timedelta(seconds=HOUR),
    )


def note_children_opened(
    *, session: Session, draft: AuditDraft, threshold: int, bound: int, now: datetime
) -> bool:
    """Record the anomaly if this request takes its user over `threshold` distinct
    children in the last hour, and none is on record for them in that hour. `bound`: the
    total of its `openings_tally`. True if it was recorded."""
    principal = draft.principal
    opening = {uuid.UUID(c) for c in draft.detail.get(OPENED, [])}
    if principal is None or not opening:
        return False
    if bound <= threshold:
        return False  # fewer openings than the threshold: fewer distinct children too
    since = now - timedelta(hours=1)
    mine = (
        (col(AuditEvent.issuer) == principal.issuer)
        & (col(AuditEvent.subject) == principal.subject)
        & (col(AuditEvent.occurred_at) >= since)
    )
    # Recorded already this hour: nothing more to read (a busy user past the threshold
    # would otherwise have their whole hour read at every opening).
    already = session.execute(
        select(col(AuditEvent.id)).where(mine, col(AuditEvent.action) == MANY_CHILDREN).limit(1)
    ).first()
    if already is not None:
        return False
    opened_before = select(func.jsonb_array_elements_text(opened_json())).where(mine)
    earlier = {uuid.UUID(row[0]) for row in session.execute(opened_before)}
    distinct = len(earlier | opening)
    if distinct <= threshold:
        return False
    anomaly = dataclasses.replace(
        draft,
        action=MANY_CHILDREN,
        child_ids=[],
        detail={"distinct_children": distinct, "threshold": threshold, "window": "1 hour"},
    )
    record_event(session=session, draft=anomaly, status_code=200, reason="threshold_exceeded")
    return True
