"""Involvements: a practitioner records their own involvement with a child they can
reach, and their organisation ends it. Each raises R4 alerts to the others involved."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response, status

from index_service.access.policy import Permission
from index_service.api.contract import CHILD_MERGED, ProblemCase
from index_service.api.deps import (
    AlertTimingDep,
    ContextDep,
    PrincipalDep,
    PurposeDep,
    ReachSinceDep,
    SessionDep,
    permission,
    purpose_headers,
)
from index_service.api.routing import AuditedRoute
from index_service.errors import Conflict
from index_service.involvements import flows
from index_service.involvements.schemas import (
    InvolvementCreate,
    InvolvementEnd,
    InvolvementRecordPublic,
)
from index_service.involvements.service import public_of

router = APIRouter(
    tags=["involvements"], route_class=AuditedRoute, dependencies=[Depends(purpose_headers)]
)


@router.post(
    "/v1/children/{child_id}/involvements",
    status_code=status.HTTP_201_CREATED,
    response_model=InvolvementRecordPublic,
    **permission(Permission.INVOLVEMENT_RECORD, raises=(CHILD_MERGED,)),
)
def record_involvement(
    child_id: uuid.UUID,
    body: InvolvementCreate,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    reach_since: ReachSinceDep,
    timing: AlertTimingDep,
    response: Response,
) -> InvolvementRecordPublic:
    """Record your involvement with a child

    Say that you (and your organisation) work with this child, so that others who look
    them up can reach you. Only on a child you reached recently through an enquiry, or one
    your organisation already works with. May raise an alert to the child's key worker."""
    involvement, raised = flows.start(
        session=session,
        caller=caller,
        purpose=purpose,
        child_id=child_id,
        data=body,
        enquiry_since=reach_since,
        timing=timing,
    )
    ctx.audit.detail["involvement_id"] = str(involvement.id)
    ctx.note_alerts(raised)
    response.headers["Location"] = f"/v1/involvements/{involvement.id}"
    return public_of(involvement, caller.organisation_code)


@router.post(
    "/v1/involvements/{involvement_id}/end",
    response_model=InvolvementRecordPublic,
    **permission(
        Permission.INVOLVEMENT_END,
        raises=(ProblemCase.of(Conflict, "it has already ended", "already_ended"),),
    ),
)
def end_involvement(
    involvement_id: uuid.UUID,
    body: InvolvementEnd,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    timing: AlertTimingDep,
) -> InvolvementRecordPublic:
    """End an involvement

    Your organisation no longer works with the child; it stays in the history. May raise an
    alert to the child's key worker."""
    ctx.audit.detail["involvement_id"] = str(involvement_id)
    involvement, raised = flows.end(
        session=session,
        caller=caller,
        purpose=purpose,
        involvement_id=involvement_id,
        data=body,
        timing=timing,
    )
    ctx.audit.children(involvement.child_id)
    ctx.note_alerts(raised)
    return public_of(involvement, caller.organisation_code)
