"""The review queue: feed rows the matcher could not decide, for the data managers of the
authority the row names as responsible. A data manager resolves one as the same child as
a candidate (the row is applied to it, with the supplier's provenance), a different child
(a new entry is made from the row), or ignores it; each resolution is audited by its
request, naming the child it touched. Applying a row that moves the child to another
authority raises R5 (`feeds/moves.py`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, col, func, select

from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope
from index_service.alerts.service import AlertTiming
from index_service.children.models import Child
from index_service.children.schemas import ChildCreate
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.feeds.models import FeedReview, ReviewStatus
from index_service.feeds.moves import alert_moves
from index_service.feeds.writes import Supplied, create_children, update_children


def _mine(caller: Principal) -> tuple[Any, Any]:
    return (
        col(FeedReview.responsible_authority) == caller.local_authority,
        col(FeedReview.status) == ReviewStatus.OPEN.value,
    )


def waiting(*, session: Session, caller: Principal) -> int:
    """How many of the caller's authority's reviews are open (a count: no child data)."""
    return session.exec(select(func.count()).select_from(FeedReview).where(*_mine(caller))).one()


def open_reviews(
    *, session: Session, caller: Principal, limit: int, offset: int
) -> tuple[int, list[FeedReview]]:
    """The caller's authority's open reviews, oldest first, and how many there are."""
    total = waiting(session=session, caller=caller)
    rows = session.exec(
        select(FeedReview)
        .where(*_mine(caller))
        .order_by(col(FeedReview.created_at), col(FeedReview.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def resolve_review(
    *,
    session: Session,
    caller: Principal,
    review_id: uuid.UUID,
    decision: ReviewStatus,
    child_id: uuid.UUID | None,
    timing: AlertTiming,
) -> FeedReview:
    review = session.exec(
        select(FeedReview)
        .where(col(FeedReview.id) == review_id)
        .where(col(FeedReview.responsible_authority) == caller.local_authority)
        .with_for_update()
    ).first()
    if review is None:
        raise NotFound("no such review")
    if review.status != ReviewStatus.OPEN.value:
        raise Conflict("this review is already resolved", code="already_resolved")
    now = utcnow()
    supplied = Supplied(
        record=ChildCreate.model_validate(review.record["record"]),
        groups=frozenset(review.record["groups"]),
        nhs_number_status=review.record.get("nhs_number_status"),
        organisation=review.organisation_code,
        feed_id=review.feed_id,
        at=now,
    )
    if decision == ReviewStatus.SAME_CHILD:
        if child_id is None or child_id not in review.candidate_ids:
            raise InvalidInput(
                "name one of the review's candidates as the same child", code="not_a_candidate"
            )
        reachable = session.exec(
            select(Child.id).where(Child.id == child_id).where(children_in_scope(caller))
        ).first()
        if reachable is None:
            raise NotFound("no such child")
        moves = update_children(session, [(child_id, supplied)])
        alert_moves(session=session, caller=caller, moves=moves, timing=timing)  # R5
        review.child_id = child_id
    elif decision == ReviewStatus.DIFFERENT_CHILD:
        if child_id is not None:
            raise InvalidInput("a different child is a new entry: name no child_id")
        (review.child_id,) = create_children(session, [supplied])
    elif child_id is not None:
        raise InvalidInput("an ignored row names no child_id")
    review.status = decision.value
    review.resolved_at = now
    review.resolved_by = f"{caller.issuer} {caller.subject}"[:300]
    session.add(review)
    session.flush()
    return review
