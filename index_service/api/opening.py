"""The one place a request says it opened children (`access/opening.py` defines what
that is): listed in its audit event, counted as a read by the rate limit, and counted
towards the many-children anomaly."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from index_service.access.opening import mark_opened
from index_service.access.policy import RATE_LIMITED, Permission, RateBucket
from index_service.access.principal import Principal
from index_service.api.context import RequestContext
from index_service.api.security import rate_window
from index_service.audit.anomalies import note_children_opened, openings_tally
from index_service.common import utcnow
from index_service.settings import Settings


def children_opened(
    *,
    session: Session,
    settings: Settings,
    ctx: RequestContext,
    caller: Principal,
    child_ids: list[uuid.UUID],
) -> None:
    """Call before answering with the children's records. A route whose permission is
    not already counted as a read (an enquiry that matched) spends one read: over the
    limit, the answer is 429 and the work is rolled back, nothing disclosed. The read and
    the openings are counted at the end of the work, beside its audit row (their rows
    are then locked only while it commits), once a request however many it opened."""
    del session  # counted on the work's own session, at its end
    mark_opened(ctx.audit.detail, child_ids)
    if RATE_LIMITED.get(Permission(ctx.audit.action)) != RateBucket.READ:
        window = rate_window(settings, caller, RateBucket.READ)
        ctx.before_audit(
            "rate:read:opened", window.tally, lambda _work, hits: window.refuse_over(hits)
        )
    now = utcnow()
    ctx.before_audit(
        "anomaly:many_children",
        lambda: openings_tally(draft=ctx.audit, now=now),
        lambda work, bound: note_children_opened(
            session=work,
            draft=ctx.audit,
            threshold=settings.anomaly_distinct_children_per_hour,
            bound=bound,
            now=now,
        ),
    )
