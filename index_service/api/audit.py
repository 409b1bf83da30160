"""/v1/audit: the auditors' tools. Search events and export the same selection (CSV, FHIR
R4 AuditEvent bundle, streamed), one child's access report, one practitioner's activity,
the misuse reports, and the chain's verification. An auditor sees their own authority's
part of the trail, a national auditor all of it; every one of these requests is itself an
audit event, with the filter it used."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.access.purpose import PurposeCode
from index_service.api.context import RequestContext
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, SettingsDep, permission
from index_service.api.routing import AuditedRoute
from index_service.audit import export, queries, reports
from index_service.audit.models import Outcome
from index_service.audit.schemas import (
    AuditEventPage,
    AuditEventPublic,
    ChainVerification,
    ChildAccessReport,
    MisuseReport,
    MisuseReportName,
    PractitionerActivity,
)
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.errors import InvalidInput

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=AuditedRoute)

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
# Text that goes into a query: no control characters (PostgreSQL refuses NUL outright).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Cursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]


def event_filter(
    child_id: uuid.UUID | None = None,
    issuer: Annotated[str | None, Query(max_length=300, pattern=PRINTABLE)] = None,
    subject: Annotated[
        str | None, Query(max_length=300, pattern=PRINTABLE, description="The practitioner.")
    ] = None,
    organisation: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=80,
            pattern=PRINTABLE,
            description="An action, or a prefix ending in * (child:*).",
        ),
    ] = None,
    purpose: PurposeCode | None = None,
    outcome: Outcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> queries.EventFilter:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must carry a time zone (e.g. Z)", code="naive_time")
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since must be before until", code="empty_window")
    return queries.EventFilter(
        child_id=child_id,
        issuer=issuer,
        subject=subject,
        organisation=organisation,
        action=action,
        purpose=purpose.value if purpose else None,
        outcome=outcome.value if outcome else None,
        since=since,
        until=until,
    )


FilterDep = Annotated[queries.EventFilter, Depends(event_filter)]


def _record(ctx: RequestContext, wanted: queries.EventFilter, **more: object) -> None:
    ctx.audit.detail.update(filter=wanted.as_detail(), **more)
    if wanted.child_id is not None:
        ctx.audit.children(wanted.child_id)


@router.get("/events", response_model=AuditEventPage, **permission(Permission.AUDIT_EVENT_SEARCH))
def search_events(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    wanted: FilterDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AuditEventPage:
    """Search the audit trail

    Audit events by time window, actor, child, route and outcome, one page at a time. A
    local authority's auditor sees their authority's events; a national auditor sees all.
    The search itself is audited."""
    _record(ctx, wanted)
    events, next_cursor = queries.page(
        session=session, principal=caller, wanted=wanted, limit=limit, cursor=cursor
    )
    ctx.audit.detail["returned"] = len(events)
    return AuditEventPage(
        items=[AuditEventPublic.model_validate(e) for e in events], next_cursor=next_cursor
    )


def _streamed(
    ctx: RequestContext, caller: Principal, wanted: queries.EventFilter, kind: str
) -> Iterator[str]:
    """The export, read in a snapshot of its own once the request's audit row is committed
    (the response streams after that commit)."""
    db = ctx.db

    def events() -> Iterator[str]:
        with db.session() as session:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            found = queries.stream(session=session, principal=caller, wanted=wanted)
            if kind == "csv":
                yield from export.csv_lines(found)
            else:
                yield from export.fhir_bundle_chunks(found)

    return events()


@router.get(
    "/events/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The selection as CSV."}},
    **permission(Permission.AUDIT_EVENT_EXPORT),
)
def export_csv(caller: PrincipalDep, ctx: ContextDep, wanted: FilterDep) -> StreamingResponse:
    """Export audit events as CSV

    The events the same filters find, streamed as CSV."""
    _record(ctx, wanted, format="csv")
    return StreamingResponse(
        _streamed(ctx, caller, wanted, "csv"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )


@router.get(
    "/events/export.fhir",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/fhir+json": {}},
            "description": "The selection as a FHIR R4 Bundle of AuditEvent resources.",
        }
    },
    **permission(Permission.AUDIT_EVENT_EXPORT),
)
def export_fhir(caller: PrincipalDep, ctx: ContextDep, wanted: FilterDep) -> StreamingResponse:
    """Export audit events as FHIR

    The events the same filters find, streamed as a FHIR R4 Bundle of AuditEvent resources."""
    _record(ctx, wanted, format="fhir")
    return StreamingResponse(
        _streamed(ctx, caller, wanted, "fhir"), media_type="application/fhir+json"
    )


@router.get(
    "/children/{child_id}/accesses",
    response_model=ChildAccessReport,
    **permission(Permission.AUDIT_REPORT_READ),
)
def child_access_report(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ChildAccessReport:
    """Who looked at this child

    Every access to one child's record, by whom, when and why (for a subject access
    request or a complaint)."""
    return queries.child_accesses(
        session=session, principal=caller, child_id=child_id, limit=limit, cursor=cursor
    )


@router.get(
    "/practitioners/activity",
    response_model=PractitionerActivity,
    **permission(Permission.AUDIT_REPORT_READ),
)
def practitioner_activity(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    issuer: Annotated[str, Query(min_length=1, max_length=300, pattern=PRINTABLE)],
    subject: Annotated[str, Query(min_length=1, max_length=300, pattern=PRINTABLE)],
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PractitionerActivity:
    """What a practitioner did

    One practitioner's requests over a window (by issuer and subject), counted by action
    and outcome, with how many distinct children they reached and the events, a page at
    a time."""
    window = reports.window_between(since, until)
    wanted = queries.EventFilter(
        issuer=issuer, subject=subject, since=window.since, until=window.until
    )
    _record(ctx, wanted)
    return queries.practitioner_activity(
        session=session, principal=caller, wanted=wanted, limit=limit, cursor=cursor
    )


@router.get(
    "/reports/{report}", response_model=MisuseReport, **permission(Permission.AUDIT_REPORT_READ)
)
def misuse_report(
    report: MisuseReportName,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MisuseReport:
    """A misuse report

    One of the named reports of possible misuse (shielded accesses, fruitless searches,
    out of hours, out of area, many children, overdue alerts), with the cases it finds."""
    window = reports.window_between(since, until)
    ctx.audit.detail.update(report=report.value, since=str(window.since), until=str(window.until))
    rules = reports.ReportRules(
        working_hours=(settings.working_hours_start, settings.working_hours_end),
        distinct_children_per_hour=settings.anomaly_distinct_children_per_hour,
        now=utcnow(),
    )
    cases = reports.misuse_report(
        session=session, principal=caller, report=report, window=window, rules=rules
    )
    ctx.audit.detail["cases"] = len(cases)
    return MisuseReport(report=report, since=window.since, until=window.until, cases=cases)


@router.get(
    "/verify", response_model=ChainVerification, **permission(Permission.AUDIT_CHAIN_VERIFY)
)
def verify_chain(
    ctx: ContextDep,
    settings: SettingsDep,
    incremental: Annotated[
        bool,
        Query(
            description="Walk only what was sealed after the newest checkpoint whose signature "
            "and seal hold (quick); the default walks the whole chain."
        ),
    ] = False,
    period: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Only this month's events (YYYY-MM), walked from the newest good "
            "checkpoint before them.",
        ),
    ] = None,
) -> ChainVerification:
    """Verify the audit trail's chain

    The same check as `index-service audit verify`: every sealed event hashed again, every
    checkpoint's signature, and the first bad event named; with `period`, one month's
    events only, from the newest good checkpoint before them."""
    month = date.fromisoformat(f"{period}-01") if period else None
    report = run_verify(db=ctx.db, settings=settings, incremental=incremental, period=month)
    ctx.audit.detail.update(
        ok=report.ok, head_position=report.head_position, incremental=incremental, period=period
    )
    return ChainVerification.model_validate(report.as_dict())
