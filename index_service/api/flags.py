"""Flags: raise one from the DOMAIN.md vocabulary on a child you can reach (who may raise
which kind: `access/objects.py`), review and end your organisation's, and list those
past their review date. Raising and ending raise R4 alerts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

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
from index_service.errors import Conflict, Forbidden
from index_service.flags import flows, service
from index_service.flags.models import Flag
from index_service.flags.queries import public_of
from index_service.flags.schemas import FlagCreate, FlagPublic, FlagReview, OverdueFlagList
from index_service.organisations.models import Organisation

router = APIRouter(
    tags=["flags"], route_class=AuditedRoute, dependencies=[Depends(purpose_headers)]
)


def _public(session: SessionDep, flag: Flag) -> FlagPublic:
    organisation = session.get(Organisation, flag.organisation_id)
    assert organisation is not None
    return public_of(flag, organisation)


@router.post(
    "/v1/children/{child_id}/flags",
    status_code=status.HTTP_201_CREATED,
    response_model=FlagPublic,
    **permission(
        Permission.FLAG_RAISE,
        raises=(
            CHILD_MERGED,
            ProblemCase.of(
                Forbidden,
                "your organisation may not raise this kind of flag",
                "flag_not_yours_to_raise",
            ),
        ),
    ),
)
def raise_flag(
    child_id: uuid.UUID,
    body: FlagCreate,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    reach_since: ReachSinceDep,
    timing: AlertTimingDep,
    response: Response,
) -> FlagPublic:
    """Raise a flag on a child

    A dated flag from the fixed vocabulary (child protection plan, looked after, missing
    from home...) on a child you can reach; who may raise which kind depends on the
    organisation. Raising one raises alerts to those working with the child."""
    flag, raised = flows.raise_flag(
        session=session,
        caller=caller,
        purpose=purpose,
        child_id=child_id,
        data=body,
        enquiry_since=reach_since,
        timing=timing,
    )
    ctx.audit.detail.update(flag_id=str(flag.id), kind=flag.kind)
    ctx.note_alerts(raised)
    response.headers["Location"] = f"/v1/flags/{flag.id}"
    return _public(session, flag)


@router.post(
    "/v1/flags/{flag_id}/review",
    response_model=FlagPublic,
    **permission(
        Permission.FLAG_REVIEW,
        raises=(ProblemCase.of(Conflict, "it has already ended", "already_ended"),),
    ),
)
def review_flag(
    flag_id: uuid.UUID,
    body: FlagReview,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
) -> FlagPublic:
    """Review a flag

    Set the flag's next review date."""
    ctx.audit.detail["flag_id"] = str(flag_id)
    flag = service.review_flag(
        session=session, caller=caller, flag_id=flag_id, review_date=body.review_date
    )
    ctx.audit.children(flag.child_id)
    return _public(session, flag)


@router.post(
    "/v1/flags/{flag_id}/end",
    response_model=FlagPublic,
    **permission(
        Permission.FLAG_END,
        raises=(ProblemCase.of(Conflict, "it has already ended", "already_ended"),),
    ),
)
def end_flag(
    flag_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    timing: AlertTimingDep,
) -> FlagPublic:
    """End a flag

    The flag no longer applies; it stays in the history. Ending one raises alerts."""
    ctx.audit.detail["flag_id"] = str(flag_id)
    flag, raised = flows.end_flag(
        session=session, caller=caller, purpose=purpose, flag_id=flag_id, timing=timing
    )
    ctx.audit.children(flag.child_id)
    ctx.note_alerts(raised)
    return _public(session, flag)


@router.get(
    "/v1/flags/overdue",
    response_model=OverdueFlagList,
    **permission(Permission.FLAG_OVERDUE_READ),
)
def overdue_flags(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> OverdueFlagList:
    """List overdue flags

    Active flags past their review date: those you raised, and for a data manager those
    on the children of their authority; the most overdue first."""
    items = service.overdue_flags(session=session, caller=caller, limit=limit)
    ctx.audit.children(*(item.child_id for item in items))
    return OverdueFlagList(items=items)
