"""FastAPI dependencies, in one place, with `Annotated` aliases for routers.

They are `async def` although none awaits: FastAPI runs a plain `def` dependency in the
thread pool, a hop per dependency per request, and these only read what the route class
prepared (none does I/O: the session connects on its first statement, in the endpoint's
thread).

Every `/v1` route declares its permission with `permission(...)`. `AuditedRoute`
authenticates the caller and asks the access policy about that permission before the
body is read; a route that declares none is refused (deny by default), and a test fails
if one exists. `PrincipalDep` hands the authorised caller to the endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.access.purpose import MAX_PURPOSE_TEXT, Purpose, PurposeCode, PurposeRequired
from index_service.alerts.flows import timing_of
from index_service.alerts.service import AlertTiming
from index_service.api.context import RequestContext
from index_service.api.contract import ProblemCase
from index_service.api.contract import raises as contract_raises
from index_service.api.routing import PERMISSION_KEY
from index_service.common import utcnow
from index_service.errors import DomainError, Unauthenticated
from index_service.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A JWT from a trusted identity provider.")


def permission(
    required: Permission, *, raises: tuple[type[DomainError] | ProblemCase, ...] = ()
) -> dict[str, Any]:
    """Route keyword arguments that declare the permission a route needs and the domain
    errors its service can raise beyond those the route implies (`api/contract.py`
    documents both)."""
    return {"openapi_extra": {PERMISSION_KEY: required.value, **contract_raises(*raises)}}


async def get_context(request: Request) -> RequestContext:
    ctx: RequestContext = request.state.ctx
    return ctx


ContextDep = Annotated[RequestContext, Depends(get_context)]


async def get_session(ctx: ContextDep) -> Session:
    return ctx.session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
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


async def get_settings_of_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]


async def purpose_headers(
    purpose_of_use: Annotated[
        PurposeCode,
        Header(alias="Purpose-Of-Use", description="Why you need this child's data."),
    ],
    purpose_text: Annotated[
        str,
        Header(
            alias="Purpose-Text",
            min_length=1,
            max_length=MAX_PURPOSE_TEXT
            * 12,  # percent-encoded: up to 4 UTF-8 bytes of 3 characters
            description="A few words on why; percent-encode characters outside ASCII.",
        ),
    ],
) -> None:
    """Documents the purpose headers on every route that touches child data. They are
    checked, and a missing or empty one refused with 400, by `api/security.py` before
    anything else is read, so no route can forget them."""


async def get_purpose(ctx: ContextDep) -> Purpose:
    """The purpose `api/security.py` checked for this request."""
    if ctx.purpose is None:
        raise PurposeRequired("state the purpose of this access")
    return ctx.purpose


PurposeDep = Annotated[Purpose, Depends(get_purpose)]


async def get_alert_timing(settings: SettingsDep) -> AlertTiming:
    return timing_of(settings)


AlertTimingDep = Annotated[AlertTiming, Depends(get_alert_timing)]


async def get_reach_since(settings: SettingsDep) -> datetime:
    """Enquiries since when let their enquirer record work on the children they found."""
    return utcnow() - timedelta(days=settings.reach_after_enquiry_days)


ReachSinceDep = Annotated[datetime, Depends(get_reach_since)]
