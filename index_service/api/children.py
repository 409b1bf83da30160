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
from index_service.api.contract import ProblemCase
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
from index_service.children import flows, service
from index_service.children.age import AgeLimit
from index_service.children.schemas import (
    ChildCreate,
    ChildPublic,
    ChildUpdate,
    PossibleDuplicateProblem,
)
from index_service.children.service import REFUSALS as _REFUSALS
from index_service.errors import Forbidden, MalformedIfMatch, PreconditionRequired
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
    **permission(Permission.CHILD_READ),
)
def read_child(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    settings: SettingsDep,
    response: Response,
) -> ChildPublic:
    """Read a child's record

    The record as the caller may see it (fields by role, shielded and sensitive parts
    withheld), with its `ETag` for a later change. Only for the local authority's own
    staff: practitioners look children up with an enquiry (`POST /v1/enquiries`). Opening
    many children in a short time raises an alert."""
    record = service.get_child(session=session, caller=caller, child_id=child_id)
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
    **permission(Permission.CHILD_SHIELD),
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
    **permission(Permission.CHILD_SHIELD),
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
