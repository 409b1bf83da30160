"""The feed review queue as pages, for the data managers without an agency system: the
authority's open feed rows (who sent them, when, why they were queued, the row's names
and date of birth as sent, and the candidates as links to their records), each resolved
by a POSTed form: the same child as a candidate, a different child, or ignore.

Thin views: the list is `feeds/reviews.open_reviews` and each decision
`feeds/reviews.resolve_review`, what `GET /v1/feeds/reviews` and `POST
/v1/feeds/reviews/{id}/resolve` call; audited as those are (`child:feed:review`, the
candidates shown or the child touched), with the session's purpose. Only review ids are
in the URLs; the confirmation is a word in the query string, never child data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from index_service.access.policy import Permission
from index_service.alerts.flows import timing_of
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.feeds import reviews
from index_service.feeds.models import FeedReview, ReviewReason, ReviewStatus
from index_service.web import forms
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LISTED = 50
REASONS: dict[str, str] = {
    ReviewReason.POSSIBLE_MATCH: "It looks like children already on the index, but not "
    "closely enough to be sure which, if any, it is.",
    ReviewReason.SHIELDED_RECORD: "It matches a shielded record, which the sender may not see "
    "or change.",
    ReviewReason.OUTSIDE_YOUR_AUTHORITY: "It matches a child of your authority, whose record "
    "the sender may not change.",
    ReviewReason.SEVERAL_ROWS_FOR_ONE_CHILD: "The same feed sent more than one row for this child.",
}
DONE = {
    "same_child": "The row was added to the child's record",
    "different_child": "A new entry was made from the row",
    "ignored": "The row was ignored",
}
PROBLEMS = {
    "already_resolved": "Someone has already decided this row",
    "not_a_candidate": "Choose which child it is the same as",
    "child_archived": "That child's record is archived and takes no new details: choose a "
    "different child or ignore the row",
    "not_found": "This row is no longer waiting for a decision",
    "invalid_input": "Choose what this row is",
}


@dataclass(frozen=True)
class Row:
    """One queued row as the page shows it: the names and date of birth as sent."""

    id: uuid.UUID
    sender: str
    received: datetime
    reason: str
    names: list[str]
    date_of_birth: str
    candidate_ids: list[uuid.UUID]


def _row(review: FeedReview) -> Row:
    sent = review.record.get("record", {})
    names = [
        f"{n.get('given_names', '')} {n.get('family_name', '')}" for n in sent.get("names", [])
    ]
    return Row(
        id=review.id,
        sender=review.organisation_code,
        received=review.created_at,
        reason=REASONS.get(review.reason, "The index could not decide which child it is."),
        names=names,
        date_of_birth=str(sent.get("date_of_birth") or ""),
        candidate_ids=list(review.candidate_ids),
    )


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


def _list(page: PageContext, *, status_code: int = 200, problem: str = "") -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    offset_sent = page.request.query_params.get("from", "0")
    offset = forms.whole_number(offset_sent, most=10**9) or 0
    total, found = reviews.open_reviews(
        session=unit.session, caller=viewer.principal, limit=LISTED, offset=offset
    )
    for review in found:
        unit.audit.children(*review.candidate_ids)
    done = page.request.query_params.get("done", "")
    return render(
        page.request,
        "records_reviews.html",
        status_code=status_code,
        rows=[_row(r) for r in found],
        total=total,
        offset=offset,
        listed=LISTED,
        done=DONE.get(done, ""),
        problem=problem,
    )


@router.get("/records/reviews", **page(Permission.FEED_REVIEW, purpose=True))
def review_list(page: PageDep) -> Response:
    """The open rows, oldest first, `LISTED` at a time; the candidates shown are audited."""
    return _list(page)


@router.post("/records/reviews/{review_id}", **page(Permission.FEED_REVIEW, purpose=True))
def resolve(review_id: uuid.UUID, page: PageDep) -> Response:
    """One decision, as the API's resolve: a problem (already decided, no candidate
    chosen) is said in plain words above the list, nothing changed."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    decision_sent = page.field("decision")
    chosen = page.field("child_id")
    if decision_sent.startswith("same_child:"):
        decision_sent, chosen = "same_child", decision_sent.split(":", 1)[1]
    try:
        decision = ReviewStatus(decision_sent)
        child_id = uuid.UUID(chosen) if chosen else None
    except ValueError:
        decision, child_id = ReviewStatus.OPEN, None
    if decision == ReviewStatus.OPEN:
        unit.audit.reason = "invalid_input"
        return _list(page, status_code=422, problem="Choose what this row is")
    unit.audit.detail.update(review_id=str(review_id), decision=decision.value)
    try:
        review = reviews.resolve_review(
            session=unit.session,
            caller=viewer.principal,
            review_id=review_id,
            decision=decision,
            child_id=child_id,
            timing=timing_of(page.settings),
        )
    except (Conflict, InvalidInput, NotFound) as problem:
        unit.audit.reason = problem.code
        words = PROBLEMS.get(problem.code, "Choose what this row is")
        return _list(page, status_code=problem.status, problem=words)
    if review.child_id is not None:
        unit.audit.children(review.child_id)
    return RedirectResponse(f"/records/reviews?done={decision.value}", status_code=303)
