"""/v1/suspensions: administrators suspend a user or a whole organisation; the suspended
are refused on their next request, whatever their token says."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from index_service.access.policy import Permission
from index_service.access.tokens import TokenVerifier
from index_service.api.contract import ProblemCase
from index_service.api.deps import PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute
from index_service.errors import Conflict
from index_service.suspensions import service
from index_service.suspensions.models import SuspensionCreate, SuspensionPublic

router = APIRouter(prefix="/v1/suspensions", tags=["suspensions"], route_class=AuditedRoute)


class SuspensionList(BaseModel):
    items: list[SuspensionPublic]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SuspensionPublic,
    **permission(
        Permission.SUSPENSION_CREATE,
        raises=(
            ProblemCase.of(Conflict, "already suspended", "already_suspended"),
            ProblemCase.of(Conflict, "you may not suspend yourself", "cannot_suspend_yourself"),
            ProblemCase.of(
                Conflict,
                "you may not suspend your own organisation: no one would be left to lift it",
                "cannot_suspend_your_own_organisation",
            ),
        ),
    ),
)
def suspend(
    body: SuspensionCreate,
    session: SessionDep,
    caller: PrincipalDep,
    request: Request,
    response: Response,
) -> SuspensionPublic:
    """Suspend a user or an organisation

    From the next request on (on every server process), the suspended user or
    organisation's tokens are refused with 403 everywhere, the pages included, until the
    suspension is lifted. The reason is kept for the audit trail."""
    verifier: TokenVerifier = request.app.state.token_verifier
    suspension = service.suspend(
        session=session,
        caller=caller,
        data=body,
        configured_issuers=verifier.configured_issuers,
    )
    response.headers["Location"] = f"/v1/suspensions/{suspension.id}"
    return SuspensionPublic.model_validate(suspension, from_attributes=True)


@router.get("", response_model=SuspensionList, **permission(Permission.SUSPENSION_READ))
def list_suspensions(
    session: SessionDep,
    caller: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    include_lifted: bool = False,
) -> SuspensionList:
    """List suspensions

    Current suspensions, or with `include_lifted` those lifted as well, newest first."""
    found = service.list_suspensions(
        session=session, caller=caller, limit=limit, include_lifted=include_lifted
    )
    return SuspensionList(
        items=[SuspensionPublic.model_validate(s, from_attributes=True) for s in found]
    )


@router.delete(
    "/{suspension_id}", response_model=SuspensionPublic, **permission(Permission.SUSPENSION_LIFT)
)
def lift(suspension_id: uuid.UUID, session: SessionDep, caller: PrincipalDep) -> SuspensionPublic:
    """Lift a suspension

    The user or organisation may use the index again from their next request."""
    suspension = service.lift(session=session, caller=caller, suspension_id=suspension_id)
    return SuspensionPublic.model_validate(suspension, from_attributes=True)
