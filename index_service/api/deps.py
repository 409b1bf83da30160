"""FastAPI dependencies, in one place, with `Annotated` aliases for routers.

Every `/v1` route declares its permission with `permission(...)`; `PrincipalDep`
authenticates the bearer token and asks the access policy about that permission. A route
that declares none is refused (deny by default), and a test fails if one exists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from index_service.access.policy import Permission, authorise
from index_service.access.principal import Principal
from index_service.access.roles import parse_roles
from index_service.access.tokens import TokenVerifier, claimed_identity
from index_service.api.context import RequestContext
from index_service.api.routing import PERMISSION_KEY
from index_service.errors import Forbidden, Unauthenticated
from index_service.organisations import service as organisations

_bearer = HTTPBearer(auto_error=False, description="A JWT from a trusted identity provider.")


def permission(required: Permission) -> dict[str, Any]:
    """Route keyword arguments that declare the permission a route needs."""
    return {"openapi_extra": {PERMISSION_KEY: required.value}}


def get_context(request: Request) -> RequestContext:
    ctx: RequestContext = request.state.ctx
    return ctx


ContextDep = Annotated[RequestContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Session:
    return ctx.session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated("send a bearer token in the Authorization header", code="missing_token")
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        claims = verifier.verify(credentials.credentials)
    except Unauthenticated:
        ctx.audit.detail["claimed"] = claimed_identity(credentials.credentials)
        raise
    organisation = organisations.find_by_code(session=ctx.session, code=claims.organisation_code)
    if organisation is None:
        ctx.audit.detail["claimed"] = {"iss": claims.issuer, "sub": claims.subject}
        raise Forbidden(
            "your organisation is not a participating organisation",
            code="organisation_not_participating",
        )
    principal = Principal(
        issuer=claims.issuer,
        subject=claims.subject,
        name=claims.name,
        email=claims.email,
        roles=parse_roles(claims.roles),
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_type=organisation.type,
        local_authority=organisation.local_authority,
    )
    ctx.audit.principal = principal
    try:
        required = Permission(ctx.audit.action)
    except ValueError:
        raise Forbidden("this route declares no permission", code="permission_undeclared") from None
    decision = authorise(principal, required)
    if not decision:
        raise Forbidden(decision.reason, code="permission_denied")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
