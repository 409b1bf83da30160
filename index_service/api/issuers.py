"""/v1/trusted-issuers: administrators register an agency's identity provider (its keys
published at an https URL, and the organisations it may vouch for) or withdraw it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from index_service.access.policy import Permission
from index_service.access.tokens import TokenVerifier
from index_service.api.contract import ProblemCase
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute
from index_service.errors import Conflict, Forbidden
from index_service.issuers import service
from index_service.issuers.models import TrustedIssuerCreate, TrustedIssuerPublic

router = APIRouter(prefix="/v1/trusted-issuers", tags=["trusted issuers"], route_class=AuditedRoute)


class TrustedIssuerList(BaseModel):
    items: list[TrustedIssuerPublic]


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TrustedIssuerPublic,
    **permission(
        Permission.ISSUER_REGISTER,
        raises=(
            ProblemCase.of(Conflict, "that issuer is already known", "issuer_exists"),
            ProblemCase.of(
                Forbidden,
                "an organisation where a powerful role counts takes its issuers from settings",
                "organisation_needs_configured_issuer",
            ),
        ),
    ),
)
def register_issuer(
    body: TrustedIssuerCreate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    request: Request,
    response: Response,
) -> TrustedIssuerPublic:
    """Register an agency's identity provider

    Trust an OpenID Connect issuer to vouch for the named organisations' staff: its tokens
    are then accepted for those organisations only. Issuers of organisations where a
    powerful role counts (children's social care, the operator) are configured in settings
    instead, and refused here."""
    verifier = _verifier(request)
    record = service.register(
        session=session,
        caller=caller,
        data=body,
        configured=verifier.configured_issuers,
        allow_private=request.app.state.settings.outbound_private_allowed,
    )
    response.headers["Location"] = f"/v1/trusted-issuers/{record.id}"
    ctx.after_commit(verifier.invalidate_registered)
    return TrustedIssuerPublic.model_validate(record, from_attributes=True)


@router.get("", response_model=TrustedIssuerList, **permission(Permission.ISSUER_READ))
def list_issuers(
    session: SessionDep, caller: PrincipalDep, limit: Annotated[int, Query(ge=1, le=200)] = 100
) -> TrustedIssuerList:
    """List registered identity providers

    The issuers registered through the API (those configured in settings are not listed),
    with the organisations each may vouch for."""
    found = service.list_issuers(session=session, caller=caller, limit=limit)
    return TrustedIssuerList(
        items=[TrustedIssuerPublic.model_validate(r, from_attributes=True) for r in found]
    )


@router.delete(
    "/{issuer_id}", response_model=TrustedIssuerPublic, **permission(Permission.ISSUER_WITHDRAW)
)
def withdraw_issuer(
    issuer_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    request: Request,
) -> TrustedIssuerPublic:
    """Withdraw a registered identity provider

    Its tokens are refused from the next request on."""
    record = service.withdraw(session=session, caller=caller, issuer_id=issuer_id)
    ctx.after_commit(_verifier(request).invalidate_registered)
    return TrustedIssuerPublic.model_validate(record, from_attributes=True)
