"""/v1/webhook-endpoints: administrators allow an agency system's receiver for an
organisation (the only URLs alerts are ever posted to), list them and withdraw one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from index_service.access.policy import Permission
from index_service.alerts import webhooks
from index_service.alerts.models import WebhookEndpoint
from index_service.alerts.schemas import (
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointPublic,
)
from index_service.api.contract import ProblemCase
from index_service.api.deps import PrincipalDep, SessionDep, SettingsDep, permission
from index_service.api.routing import AuditedRoute
from index_service.errors import Conflict
from index_service.organisations.models import Organisation

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], route_class=AuditedRoute)


def public_of(endpoint: WebhookEndpoint, organisation: Organisation) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        **endpoint.model_dump(exclude={"secret", "organisation_id"}),
        organisation_code=organisation.code,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointCreated,
    **permission(Permission.WEBHOOK_REGISTER),
)
def register(
    body: WebhookEndpointCreate,
    session: SessionDep,
    caller: PrincipalDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookEndpointCreated:
    """Register a webhook endpoint

    An organisation's HTTPS endpoint that receives its alerts as signed Standard Webhooks
    (ids only, never child data). The signing secret is in this answer only."""
    endpoint, organisation = webhooks.register(
        session=session,
        caller=caller,
        data=body,
        allow_private=settings.outbound_private_allowed,
    )
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return WebhookEndpointCreated(
        **public_of(endpoint, organisation).model_dump(), secret=endpoint.secret
    )


@router.get("", response_model=WebhookEndpointList, **permission(Permission.WEBHOOK_READ))
def list_endpoints(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 100
) -> WebhookEndpointList:
    """List webhook endpoints

    The registered endpoints and their organisations (never their secrets)."""
    found = webhooks.list_endpoints(session=session, limit=limit)
    return WebhookEndpointList(items=[public_of(e, o) for e, o in found])


@router.delete(
    "/{endpoint_id}",
    response_model=WebhookEndpointPublic,
    **permission(
        Permission.WEBHOOK_WITHDRAW,
        raises=(ProblemCase.of(Conflict, "the endpoint is already withdrawn", "already_disabled"),),
    ),
)
def withdraw(
    endpoint_id: uuid.UUID, session: SessionDep, caller: PrincipalDep
) -> WebhookEndpointPublic:
    """Withdraw a webhook endpoint

    No more deliveries are made to it."""
    endpoint, organisation = webhooks.withdraw(
        session=session, caller=caller, endpoint_id=endpoint_id
    )
    return public_of(endpoint, organisation)
