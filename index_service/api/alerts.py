"""/v1/alerts: my alerts and my teams' (designated managers', data managers'), one alert,
and acknowledging one. Alerts carry ids, not child data: no purpose header is needed to
read them; opening the child they name is a separate, purposeful request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from index_service.access.policy import Permission
from index_service.alerts import service
from index_service.alerts.models import Alert
from index_service.alerts.schemas import ActorPublic, AlertList, AlertPublic
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], route_class=AuditedRoute)


def public_of(alert: Alert) -> AlertPublic:
    actor = None
    if alert.actor_issuer is not None:
        actor = ActorPublic(
            name=alert.actor_name,
            organisation_code=alert.actor_organisation_code,
            organisation_name=alert.actor_organisation_name,
            phone=alert.actor_phone,
            email=alert.actor_email,
        )
    return AlertPublic(
        **alert.model_dump(include=set(AlertPublic.model_fields) - {"actor", "team", "authority"}),
        team=alert.recipient_team,
        authority=alert.recipient_authority,
        actor=actor,
    )


@router.get("", response_model=AlertList, **permission(Permission.ALERT_READ))
def list_alerts(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    unacknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: datetime | None = None,
) -> AlertList:
    found = service.list_alerts(
        session=session,
        caller=caller,
        unacknowledged_only=unacknowledged,
        limit=limit,
        before=before,
    )
    ctx.audit.detail["alert_ids"] = [str(a.id) for a in found]
    ctx.audit.children(*(a.child_id for a in found if a.child_id is not None))
    next_before = found[-1].created_at if len(found) == limit else None
    return AlertList(items=[public_of(a) for a in found], next_before=next_before)


@router.get("/{alert_id}", response_model=AlertPublic, **permission(Permission.ALERT_READ))
def read_alert(
    alert_id: uuid.UUID, session: SessionDep, caller: PrincipalDep, ctx: ContextDep
) -> AlertPublic:
    ctx.audit.detail["alert_id"] = str(alert_id)
    alert = service.get_alert(session=session, caller=caller, alert_id=alert_id)
    if alert.child_id is not None:
        ctx.audit.children(alert.child_id)
    return public_of(alert)


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertPublic,
    **permission(Permission.ALERT_ACKNOWLEDGE),
)
def acknowledge(
    alert_id: uuid.UUID, session: SessionDep, caller: PrincipalDep, ctx: ContextDep
) -> AlertPublic:
    ctx.audit.detail["alert_id"] = str(alert_id)
    alert = service.acknowledge(session=session, caller=caller, alert_id=alert_id)
    if alert.child_id is not None:
        ctx.audit.children(alert.child_id)
    return public_of(alert)
