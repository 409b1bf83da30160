"""The review queue: feed rows the matcher could not decide, for the data managers of the
authority that decides each (`FeedReview.responsible_authority`: the child's responsible
authority for a row confidently matched to a child the sender may not update, else the
authority the row names). A data manager resolves one as the same child as a candidate
(the row is applied to it, with the supplier's provenance; a candidate merged since is
followed to the entry that answers for it, an archived one refused), a different child (a
new entry is made from the row), or ignores it; each resolution is audited by its
request, naming the child it touched, and the row as sent is then cleared (the review
keeps the ids, the decision, who and when). Applying a row that moves the child to
another authority raises R5 (`feeds/moves.py`). When children are destroyed, the reviews
and row keys naming them go too (`forget_children`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, func, select

from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope, reviews_in_scope
from index_service.alerts.service import AlertTiming
from index_service.children.models import Child, ChildStatus, NhsNumberStatus
from index_service.children.schemas import ChildCreate
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.feeds.models import FeedReview, ReviewStatus
from index_service.feeds.moves import alert_moves
from index_service.feeds.writes import Supplied, create_children, update_children

_OPEN = col(FeedReview.status) == ReviewStatus.OPEN.value


def waiting(*, session: Session, caller: Principal) -> int:
    """How many of the caller's authority's reviews are open (a count: no child data)."""
    return session.exec(
        select(func.count()).select_from(FeedReview).where(reviews_in_scope(caller), _OPEN)
    ).one()


def open_reviews(
    *, session: Session, caller: Principal, limit: int, offset: int
) -> tuple[int, list[FeedReview]]:
    """The caller's authority's open reviews, oldest first, and how many there are."""
    total = waiting(session=session, caller=caller)
    rows = session.exec(
        select(FeedReview)
        .where(reviews_in_scope(caller), _OPEN)
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
        .where(reviews_in_scope(caller))
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
        nhs_number_status=_status(review.record.get("nhs_number_status")),
        organisation=review.organisation_code,
        feed_id=review.feed_id,
        at=now,
    )
    if decision == ReviewStatus.SAME_CHILD:
        if child_id is None or child_id not in review.candidate_ids:
            raise InvalidInput(
                "name one of the review's candidates as the same child", code="not_a_candidate"
            )
        child_id = _answering_for(session, caller, child_id)
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
    review.resolved_by = caller.actor[:300]
    review.record = {}  # the row as sent (names, addresses, carers) is no longer needed
    session.add(review)
    session.flush()
    return review


def _status(kept: str | None) -> NhsNumberStatus | None:
    return NhsNumberStatus(kept) if kept else None


def _answering_for(session: Session, caller: Principal, child_id: uuid.UUID) -> uuid.UUID:
    """The entry a "same child" row is written to. A candidate merged into another since
    the row was queued answers through the entry it was merged into, however deep (as an
    enquiry finds the survivor, never the merged entry); an archived entry takes no new
    data (409 `child_archived`: the child is past the age the index holds, or the entry
    is waiting to be destroyed); one the caller cannot reach is the same 404 as none."""
    seen: set[uuid.UUID] = set()
    while True:
        child = session.exec(
            select(Child).where(col(Child.id) == child_id).with_for_update(of=Child)
        ).first()
        if child is None or child.id in seen:
            raise NotFound("no such child")
        seen.add(child.id)
        if child.merged_into is None:
            break
        child_id = child.merged_into
    reachable = session.exec(
        select(Child.id).where(col(Child.id) == child_id).where(children_in_scope(caller))
    ).first()
    if reachable is None:
        raise NotFound("no such child")
    if child.status != ChildStatus.ACTIVE.value:
        raise Conflict(
            "this child's entry is archived and takes no new data: decide the row as a "
            "different child or ignore it",
            code="child_archived",
        )
    return child_id


_IDS = bindparam("ids", type_=ARRAY(Uuid))
_FORGET_REVIEWS = text(
    """
    DELETE FROM feed_review
    WHERE child_id = ANY(:ids) OR candidate_ids && :ids
    RETURNING organisation_code, source_record_id
    """
).bindparams(_IDS)
# A row key naming the child, and the key of a queued row whose review went: sent again,
# that row is matched afresh rather than taken as `unchanged` and never decided.
_FORGET_ROW_KEYS = text(
    """
    DELETE FROM feed_row_key k
    WHERE k.child_id = ANY(:ids)
       OR (k.outcome = 'queued_for_review' AND (k.organisation_code, k.source_record_id) IN (
           SELECT * FROM unnest(CAST(:organisations AS text[]), CAST(:sources AS text[]))))
    """
).bindparams(_IDS)


def forget_children(session: Session, ids: Sequence[uuid.UUID]) -> None:
    """Children destroyed (`children/retention.destroy_due`): the feed reviews naming any
    of them (as the child decided or a candidate: the row as sent is about them) and the
    feed row keys naming them go in the same transaction, so nothing of the feeds keeps
    a destroyed child's id or a row about it. Without personal data, as the destruction."""
    if not ids:
        return
    gone = session.execute(_FORGET_REVIEWS, {"ids": list(ids)}).all()
    session.execute(
        _FORGET_ROW_KEYS,
        {
            "ids": list(ids),
            "organisations": [organisation for organisation, _ in gone],
            "sources": [source for _, source in gone],
        },
    )
