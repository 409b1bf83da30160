"""/v1/children: the child record, for the local authority that keeps it. Reads return an
ETag; changes need If-Match. Practitioners reach children through enquiries instead."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.api.context import RequestContext
from index_service.api.contract import CHILD_MERGED, ProblemCase
from index_service.api.deps import (
    AlertTimingDep,
    ContextDep,
    PrincipalDep,
    PurposeDep,
    SessionDep,
    SettingsDep,
    permission,
    purpose_headers,
)
from index_service.api.opening import children_opened
from index_service.api.problems import PROBLEM_JSON, problem
from index_service.api.routing import AuditedRoute
from index_service.children import flows, lifecycle, service, subject_access
from index_service.children.age import AgeLimit
from index_service.children.models import Child, ChildStatus
from index_service.children.schemas import (
    ChildCreate,
    ChildPublic,
    ChildUpdate,
    LegalHoldIn,
    LegalHoldPublic,
    MergeCreate,
    MergePublic,
    PossibleDuplicateProblem,
)
from index_service.children.service import REFUSALS as _REFUSALS
from index_service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MalformedIfMatch,
    PreconditionRequired,
)
from index_service.settings import Settings

router = APIRouter(
    prefix="/v1/children",
    tags=["children"],
    route_class=AuditedRoute,
    dependencies=[Depends(purpose_headers)],
)

_ETAG = re.compile(r'^"(0|[1-9][0-9]{0,8})"$')  # exactly as etag() writes it
IfMatch = Annotated[str | None, Header(max_length=64)]
POSSIBLE_DUPLICATE = "possible_duplicate"
_DUPLICATE_ADVICE = (
    "nothing was created: check the candidates; if the child is a different one, send the "
    "record again with their ids in confirmed_distinct_from (an NHS number or UPN that "
    "agrees cannot be confirmed away)"
)
_DUPLICATE_ADVICE_FOR_FEEDS = (
    "nothing was created: the index may already hold this child; a data manager of the "
    "responsible authority must decide"
)


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the ETag from your last read, so no one else's change is lost"
        )
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise MalformedIfMatch('If-Match must be the exact ETag you read, such as "3"')
    return int(match.group(1))


def _answer(
    record: service.ChildRecord,
    *,
    session: Session,
    caller: Principal,
    ctx: RequestContext,
    response: Response,
    opened: Settings | None = None,
) -> ChildPublic:
    """The record as the caller may see it, with its ETag. `opened`: this request shows
    an existing record, so it counts towards the many-children anomaly."""
    response.headers["ETag"] = etag(record.child.version)
    if opened is not None:
        children_opened(
            session=session,
            settings=opened,
            ctx=ctx,
            caller=caller,
            child_ids=[record.child.id],
        )
    return service.present(
        session=session,
        caller=caller,
        record=record,
        action=ctx.audit.action,
        request_id=ctx.audit.request_id,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    responses={
        409: {
            "model": PossibleDuplicateProblem,
            "content": {PROBLEM_JSON: {}},
            "description": "The record may be a child the index already holds: nothing was "
            "created. Check the candidates; if the child is a different one, send the record "
            "again with their ids in `confirmed_distinct_from`.",
        }
    },
    **permission(Permission.CHILD_CREATE),
)
def create_child(
    body: ChildCreate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> ChildPublic | JSONResponse:
    """Register a child

    Adds a child record for the caller's local authority (a data manager or social worker
    of children's social care, or an agency's system). The duplicate guard runs the
    matcher first: if the record may be a child the index already holds, nothing is
    created and the answer is 409 `possible_duplicate` with the candidates (send again
    with their ids in `confirmed_distinct_from` if the child is a different one). Answers
    201 with the record, its `ETag` and `Location`."""
    outcome = flows.register_child(
        session=session,
        caller=caller,
        data=body,
        request_id=ctx.audit.request_id,
        age_limit=AgeLimit.of(settings),
    )
    if body.confirmed_distinct_from:  # found by "who looked at this child" too
        ctx.audit.detail["confirmed_distinct_from"] = [str(i) for i in body.confirmed_distinct_from]
    if isinstance(outcome, flows.PossibleDuplicates):
        # Declined, but committed with its audit row: the candidates shown are disclosures.
        ctx.audit.children(*outcome.child_ids, *body.confirmed_distinct_from)
        ctx.audit.reason = POSSIBLE_DUPLICATE
        return problem(
            request,
            status=409,
            code=POSSIBLE_DUPLICATE,
            title="This may be a child the index already holds",
            detail=_DUPLICATE_ADVICE if outcome.candidates else _DUPLICATE_ADVICE_FOR_FEEDS,
            candidates=[c.model_dump(mode="json", exclude_none=True) for c in outcome.candidates],
        )
    record = outcome
    ctx.audit.children(record.child.id, *body.confirmed_distinct_from)
    response.headers["Location"] = f"/v1/children/{record.child.id}"
    return _answer(record, session=session, caller=caller, ctx=ctx, response=response)


@router.get(
    "/{child_id}",
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    responses={307: {"description": "merged into the entry named in Location"}},
    **permission(Permission.CHILD_READ),
)
def read_child(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
) -> ChildPublic | JSONResponse:
    """Read a child's record

    The record as the caller may see it (fields by role, shielded and sensitive parts
    withheld), with its `ETag` for a later change. Only for the local authority's own
    staff: practitioners look children up with an enquiry (`POST /v1/enquiries`). Opening
    many children in a short time raises an alert. An entry merged into another answers
    `307 Temporary Redirect` to the survivor (`Location`), with a body naming it: a
    client following redirects reads the survivor (its read is audited on its own), and
    the redirect is temporary because a merge can be undone."""
    record = service.get_child(session=session, caller=caller, child_id=child_id)
    if record.child.merged_into is not None:
        ctx.audit.detail["merged_into"] = str(record.child.merged_into)
        location = f"/v1/children/{record.child.merged_into}"
        return JSONResponse(
            status_code=status.HTTP_307_TEMPORARY_REDIRECT,
            headers={"Location": location},
            content={
                "id": str(record.child.id),
                "status": record.child.status,
                "merged_into": str(record.child.merged_into),
            },
        )
    return _answer(
        record, session=session, caller=caller, ctx=ctx, response=response, opened=settings
    )


@router.patch(
    "/{child_id}",
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    **permission(
        Permission.CHILD_UPDATE,
        raises=(
            CHILD_MERGED,
            ProblemCase.of(Forbidden, _REFUSALS["record_shielded"], "record_shielded"),
            ProblemCase.of(
                Forbidden, _REFUSALS["not_responsible_authority"], "not_responsible_authority"
            ),
        ),
    ),
)
def update_child(
    child_id: uuid.UUID,
    body: ChildUpdate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    purpose: PurposeDep,
    timing: AlertTimingDep,
    response: Response,
    if_match: IfMatch = None,
) -> ChildPublic:
    """Change a child's record

    Send only the fields that change, with `If-Match` set to the `ETag` of your last read:
    a change made meanwhile by someone else answers 412 and nothing is lost. A change of
    status, education or GP may raise alerts to those working with the child. Answers the
    record with its new `ETag`."""
    record, changed, raised = flows.change_child(
        session=session,
        caller=caller,
        purpose=purpose,
        child_id=child_id,
        data=body,
        expected_version=expected_version(if_match),
        timing=timing,
        age_limit=AgeLimit.of(settings),
    )
    ctx.audit.detail["changed_fields"] = sorted(changed)
    ctx.audit.detail["changes"] = changed
    ctx.note_alerts(raised)
    return _answer(
        record, session=session, caller=caller, ctx=ctx, response=response, opened=settings
    )


def _set_shielded(
    shielded: bool,
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: Settings,
    response: Response,
    if_match: str | None,
) -> ChildPublic:
    record = service.set_shielded(
        session=session,
        caller=caller,
        child_id=child_id,
        shielded=shielded,
        expected_version=expected_version(if_match),
    )
    ctx.audit.detail["shielded"] = shielded
    return _answer(
        record, session=session, caller=caller, ctx=ctx, response=response, opened=settings
    )


@router.put(
    "/{child_id}/shield",
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    **permission(Permission.CHILD_SHIELD, raises=(CHILD_MERGED,)),
)
def shield_child(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ChildPublic:
    """Shield a child

    For a child in a refuge or with a new identity: others then learn only that a record
    exists and whom to contact, and every such access is kept for the data manager's alert.
    Needs `If-Match`."""
    return _set_shielded(True, child_id, session, caller, ctx, settings, response, if_match)


@router.delete(
    "/{child_id}/shield",
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    **permission(Permission.CHILD_SHIELD, raises=(CHILD_MERGED,)),
)
def unshield_child(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ChildPublic:
    """Lift a child's shield

    The record is shown again as usual. Needs `If-Match`."""
    return _set_shielded(False, child_id, session, caller, ctx, settings, response, if_match)


def _merge_answer(
    outcome: lifecycle.MergeOutcome, ctx: RequestContext, response: Response
) -> MergePublic:
    ctx.audit.children(outcome.survivor.child.id, outcome.merged.child.id)
    ctx.audit.detail["merge_id"] = str(outcome.merge.id)
    ctx.audit.detail["changes"] = outcome.changes
    response.headers["ETag"] = etag(outcome.survivor.child.version)
    return MergePublic(
        id=outcome.merge.id,
        survivor_id=outcome.merge.survivor_id,
        merged_id=outcome.merge.merged_id,
        merged_at=outcome.merge.merged_at,
        unmerged_at=outcome.merge.unmerged_at,
        survivor_version=outcome.survivor.child.version,
        merged_version=outcome.merged.child.version,
    )


@router.post(
    "/{child_id}/merges",
    status_code=status.HTTP_201_CREATED,
    response_model=MergePublic,
    **permission(
        Permission.CHILD_MERGE,
        raises=(
            ProblemCase.of(InvalidInput, "the two entries are one and the same", "same_entry"),
            ProblemCase.of(Conflict, "either entry is not active", "not_active"),
            ProblemCase.of(
                Conflict,
                "the entries hold different NHS numbers, UPNs or local references",
                "identifiers_conflict",
            ),
            ProblemCase.of(
                Forbidden,
                "either entry is not your authority's to merge",
                "not_responsible_authority",
            ),
        ),
    ),
)
def merge_children(
    child_id: uuid.UUID,
    body: MergeCreate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    purpose: PurposeDep,
    timing: AlertTimingDep,
    response: Response,
    if_match: IfMatch = None,
) -> MergePublic:
    """Merge two entries found to be one child

    The addressed entry (the survivor, `If-Match` its ETag) takes every name, address,
    identifier, involvement, flag, enquiry link and alert of `merged_id` (`merged_version`
    its ETag), which then redirects to it. Every current worker of the child is told
    (R4). Undo with `.../merges/{merge_id}/undo`."""
    outcome, raised = lifecycle.merge_telling_workers(
        session=session,
        caller=caller,
        purpose=purpose,
        timing=timing,
        survivor_id=child_id,
        survivor_version=expected_version(if_match),
        merged_id=body.merged_id,
        merged_version=body.merged_version,
    )
    ctx.note_alerts(raised)
    response.headers["Location"] = f"/v1/children/{child_id}"
    return _merge_answer(outcome, ctx, response)


@router.post(
    "/{child_id}/merges/{merge_id}/undo",
    response_model=MergePublic,
    **permission(
        Permission.CHILD_MERGE,
        raises=(
            ProblemCase.of(
                Conflict,
                "the survivor's own fields changed since the merge, or it was undone already",
                "changed_since_merge",
            ),
            ProblemCase.of(
                Forbidden, "the entry is not your authority's", "not_responsible_authority"
            ),
        ),
    ),
)
def unmerge_children(
    child_id: uuid.UUID,
    merge_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    purpose: PurposeDep,
    timing: AlertTimingDep,
    response: Response,
    if_match: IfMatch = None,
) -> MergePublic:
    """Undo a merge

    Both entries exactly as the merge found them (`If-Match`: the survivor's ETag), from
    the merge's stored record. Both entries' current workers are told (R4)."""
    outcome, raised = lifecycle.unmerge_telling_workers(
        session=session,
        caller=caller,
        purpose=purpose,
        timing=timing,
        survivor_id=child_id,
        merge_id=merge_id,
        survivor_version=expected_version(if_match),
    )
    ctx.note_alerts(raised)
    return _merge_answer(outcome, ctx, response)


_HOLD_PROBLEMS = (
    CHILD_MERGED,
    ProblemCase.of(
        Forbidden,
        "only the responsible authority's data managers and auditors, or a national auditor, "
        "set or lift a legal hold",
        "not_responsible_authority",
    ),
)


def _hold_answer(child: Child, ctx: RequestContext, response: Response) -> LegalHoldPublic:
    ctx.audit.children(child.id)
    ctx.audit.detail["legal_hold"] = child.legal_hold_reason is not None
    response.headers["ETag"] = etag(child.version)
    return LegalHoldPublic(
        child_id=child.id,
        held=child.legal_hold_reason is not None,
        reason=child.legal_hold_reason,
        set_at=child.legal_hold_at,
        status=ChildStatus(child.status),
        version=child.version,
    )


@router.get(
    "/{child_id}/legal-hold",
    response_model=LegalHoldPublic,
    **permission(Permission.CHILD_LEGAL_HOLD, raises=_HOLD_PROBLEMS),
)
def read_legal_hold(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
) -> LegalHoldPublic:
    """Read a legal hold

    Whether the record is held, why and since when, with the record's `ETag` to set or
    lift the hold with (an auditor reads no record: this is where they find it)."""
    ctx.audit.detail["read"] = True
    child = lifecycle.held_child(session=session, caller=caller, child_id=child_id)
    return _hold_answer(child, ctx, response)


@router.put(
    "/{child_id}/legal-hold",
    response_model=LegalHoldPublic,
    **permission(Permission.CHILD_LEGAL_HOLD, raises=_HOLD_PROBLEMS),
)
def set_legal_hold(
    child_id: uuid.UUID,
    body: LegalHoldIn,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> LegalHoldPublic:
    """Set a legal hold

    Stop the record's destruction (an inquiry's moratorium), with the reason. Setting it
    again replaces the reason. Needs `If-Match` (the record's `ETag`, from reading the
    record or the hold): a change made meanwhile answers 412 and nothing is lost; answers
    the new `ETag`. The reason is free text that may name the child: the audit row keeps
    it in its personal part (`note`), erased at retention."""
    ctx.audit.detail["note"] = body.reason
    child = lifecycle.set_legal_hold(
        session=session,
        caller=caller,
        child_id=child_id,
        reason=body.reason,
        expected_version=expected_version(if_match),
    )
    return _hold_answer(child, ctx, response)


@router.delete(
    "/{child_id}/legal-hold",
    response_model=LegalHoldPublic,
    **permission(Permission.CHILD_LEGAL_HOLD, raises=_HOLD_PROBLEMS),
)
def lift_legal_hold(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> LegalHoldPublic:
    """Lift a legal hold

    The record is destroyed when its retention period is over. Needs `If-Match`, as
    setting it does; answers the new `ETag`."""
    child = lifecycle.set_legal_hold(
        session=session,
        caller=caller,
        child_id=child_id,
        reason=None,
        expected_version=expected_version(if_match),
    )
    return _hold_answer(child, ctx, response)


@router.get(
    "/{child_id}/subject-access",
    response_model=subject_access.SubjectAccessReport,
    **permission(
        Permission.CHILD_SUBJECT_ACCESS,
        raises=(
            CHILD_MERGED,
            ProblemCase.of(
                Forbidden,
                "only the responsible authority's data managers produce the report",
                "not_responsible_authority",
            ),
        ),
    ),
)
def read_subject_access(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
) -> subject_access.SubjectAccessReport:
    """Produce a subject access report

    Everything the index holds about one child, with provenance, and who looked at it
    and why: for the responsible authority's data managers (a subject access request)."""
    report = subject_access.report(
        session=session,
        caller=caller,
        child_id=child_id,
        action=ctx.audit.action,
        request_id=ctx.audit.request_id,
    )
    children_opened(
        session=session, settings=settings, ctx=ctx, caller=caller, child_ids=[child_id]
    )
    ctx.audit.children(child_id)
    return report
