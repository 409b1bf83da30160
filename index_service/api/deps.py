"""FastAPI dependencies, in one place, with `Annotated` aliases for routers.

Every `/v1` route declares its permission with `permission(...)`. `AuditedRoute`
authenticates the caller and asks the access policy about that permission before the
body is read; a route that declares none is refused (deny by default), and a test fails
if one exists. `PrincipalDep` hands the authorised caller to the endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.api.context import RequestContext
from index_service.api.routing import PERMISSION_KEY
from index_service.errors import Unauthenticated

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
    ctx: ContextDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, already authenticated and authorised by `AuditedRoute` (see
    `api/security.py`); the bearer dependency documents the scheme in OpenAPI."""
    if ctx.audit.principal is None:
        raise Unauthenticated(
            "send a bearer token in the Authorization header", code="missing_token"
        )
    return ctx.audit.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
