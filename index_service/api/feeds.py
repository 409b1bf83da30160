"""Agency feeds (`POST /v1/feeds`), their review queue, and the data-quality gaps.

A feed's body is read as it streams, into a spooled file, and refused with 413 as soon as
it passes `FEED_MAX_BYTES` (larger files go through `index-service import`); its format is
its content type (`text/csv`, or `application/fhir+json` for a Bundle). A file that cannot
be read as a whole is a problem document and nothing is kept; a row that does not
validate is reported in the feed's report and the rest is applied."""

from __future__ import annotations

import tempfile
import uuid
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.alerts.flows import timing_of
from index_service.api.context import RequestContext
from index_service.api.contract import RAISES_KEY, ProblemCase
from index_service.api.deps import (
    ContextDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    permission,
    purpose_headers,
)
from index_service.api.routing import PERMISSION_KEY, AuditedRoute
from index_service.children.age import AgeLimit
from index_service.children.quality import GapKind, gap_report
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from index_service.feeds import reviews
from index_service.feeds.records import FORMATS, FeedUnreadable, format_of_content_type
from index_service.feeds.schemas import (
    ChildGapsPublic,
    FeedReportPublic,
    FeedRowReport,
    GapReportPublic,
    ReviewList,
    ReviewPublic,
    ReviewResolution,
    RowProblem,
)
from index_service.feeds.service import FeedReport, FeedRun
from index_service.settings import Settings

# How far into a paged list: bounded, so that a number PostgreSQL cannot hold is a 422,
# not a failed query (England's children fit well within it).
Offset = Annotated[int, Query(ge=0, le=100_000_000)]

router = APIRouter(
    tags=["feeds"], route_class=AuditedRoute, dependencies=[Depends(purpose_headers)]
)

_FEED_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/fhir+json": {"schema": {"type": "object"}},
    },
}


@router.post(
    "/v1/feeds",
    response_model=FeedReportPublic,
    openapi_extra={
        PERMISSION_KEY: Permission.FEED_SUBMIT.value,
        "requestBody": _FEED_BODY,
        # The body is read as a stream, not by a model: what it can answer is said here.
        RAISES_KEY: (
            ProblemCase.of(PayloadTooLarge, "the feed is larger than `FEED_MAX_BYTES`"),
            ProblemCase.of(UnsupportedMediaType, "not `text/csv` or `application/fhir+json`"),
            ProblemCase.of(
                InvalidInput,
                "the file cannot be read as its format at all (rows at fault are reported "
                "in the answer instead, and the rest applied)",
                "feed_unreadable",
            ),
        ),
    },
)
async def submit_feed(
    request: Request, caller: PrincipalDep, ctx: ContextDep, settings: SettingsDep
) -> FeedReportPublic:
    """Send a feed: CSV (the documented columns) or a FHIR R4 Bundle of Patients."""
    kind = format_of_content_type(request.headers.get("content-type", ""))
    if kind is None:
        raise UnsupportedMediaType("send a feed as text/csv or application/fhir+json")
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (closed below)
    try:
        await _receive(request, spool, settings.feed_max_bytes)
        spool.seek(0)
        report = await run_in_threadpool(_apply, spool, kind, caller, ctx, settings)
    finally:
        spool.close()
    return _public(report)


async def _receive(request: Request, spool: IO[bytes], limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise PayloadTooLarge(f"a feed may be at most {limit} bytes")
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"a feed may be at most {limit} bytes")
        spool.write(chunk)


def _apply(
    spool: IO[bytes], kind: str, caller: Principal, ctx: RequestContext, settings: Settings
) -> FeedReport:
    run = FeedRun(
        session=ctx.session,
        caller=caller,
        draft=ctx.audit,
        format=kind,
        channel="api",
        age_limit=AgeLimit.of(settings),
        timing=timing_of(settings),
    )
    try:
        run.run(FORMATS[kind](spool))
    except FeedUnreadable as exc:
        raise InvalidInput(str(exc), code="feed_unreadable") from None
    report = run.finish()
    ctx.audit.detail.update(feed_id=str(report.feed_id), format=kind, counts=report.counts)
    return report


def _public(report: FeedReport) -> FeedReportPublic:
    return FeedReportPublic(
        feed_id=report.feed_id,
        format=report.format,
        counts=report.counts,
        rows=[
            FeedRowReport(
                row=r.row,
                source_record_id=r.source_record_id,
                outcome=r.outcome.value,
                child_id=r.child_id,
                fields=r.fields,
                gaps=r.gaps,
                problems=[RowProblem(field=p.field, detail=p.detail) for p in r.problems],
            )
            for r in report.rows
        ],
    )


@router.get("/v1/feeds/reviews", response_model=ReviewList, **permission(Permission.FEED_REVIEW))
def list_reviews(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> ReviewList:
    """Feed rows waiting for a decision, for your authority's data managers."""
    total, found = reviews.open_reviews(session=session, caller=caller, limit=limit, offset=offset)
    for review in found:
        ctx.audit.children(*review.candidate_ids)
    return ReviewList(total=total, items=[_review(r) for r in found])


@router.post(
    "/v1/feeds/reviews/{review_id}/resolve",
    response_model=ReviewPublic,
    **permission(
        Permission.FEED_REVIEW,
        raises=(
            ProblemCase.of(Conflict, "the review is already resolved", "already_resolved"),
            ProblemCase.of(
                Conflict,
                "`same_child` names a child whose entry is archived (a candidate merged since "
                "is followed to the entry it was merged into)",
                "child_archived",
            ),
            ProblemCase.of(
                InvalidInput,
                "`same_child` names no candidate of the review, or another decision names one",
                "not_a_candidate",
            ),
        ),
    ),
)
def resolve_review(
    review_id: uuid.UUID,
    body: ReviewResolution,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
) -> ReviewPublic:
    """Resolve a queued feed row

    Decide a row the feed could not place: the same child as one of its candidates
    (the entry is updated with the row's provenance; a candidate merged since, the entry
    it was merged into), a different child (a new entry), or ignore it. Audited with the
    decision; the row as sent is not kept after it (`record` is then empty)."""
    ctx.audit.detail.update(review_id=str(review_id), decision=body.decision.value)
    review = reviews.resolve_review(
        session=session,
        caller=caller,
        review_id=review_id,
        decision=body.decision,
        child_id=body.child_id,
        timing=timing_of(settings),
    )
    if review.child_id is not None:
        ctx.audit.children(review.child_id)
    return _review(review)


def _review(review: Any) -> ReviewPublic:
    return ReviewPublic.model_validate(review, from_attributes=True)


@router.get(
    "/v1/data-quality/gaps",
    response_model=GapReportPublic,
    **permission(Permission.DATA_QUALITY_READ),
)
def data_quality_gaps(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    kind: Annotated[GapKind | None, Query(description="List only children with this gap.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> GapReportPublic:
    """Your authority's children whose records have gaps: counts, and a page of them."""
    report = gap_report(
        session=session,
        caller=caller,
        now=utcnow(),
        unconfirmed_days=settings.gaps_unconfirmed_days,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    ctx.audit.children(*(c.child_id for c in report.children))
    return GapReportPublic(
        counts=report.counts,
        total=report.total,
        limit=limit,
        offset=offset,
        items=[
            ChildGapsPublic(
                child_id=c.child_id,
                given_names=c.given_names,
                family_name=c.family_name,
                gaps=c.gaps,
            )
            for c in report.children
        ],
    )
