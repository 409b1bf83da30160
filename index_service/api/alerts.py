"""/v1/alerts: my alerts and my teams' (designated managers', data managers'), one alert,
and acknowledging one. Alerts carry ids, not child data: no purpose header is needed to
read them; opening the child they name is a separate, purposeful request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from index_service.access.policy import Permission
from index_service.access.sensitive import SENSITIVE_NOTICE
from index_service.alerts import service
from index_service.alerts.models import Alert
from index_service.alerts.reasons import reason_text
from index_service.alerts.schemas import ActorPublic, AlertAcknowledge, AlertList, AlertPublic
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], route_class=AuditedRoute)


def public_of(alert: Alert, child_name: str | None = None) -> AlertPublic:
    actor = None
    if alert.actor_sensitive:
        actor = ActorPublic(
            sensitive=True,
            notice=SENSITIVE_NOTICE,
            organisation_code=alert.actor_organisation_code,
            organisation_name=alert.actor_organisation_name,
            phone=alert.actor_phone,
            email=alert.actor_email,
        )
    elif alert.actor_issuer is not None:
        actor = ActorPublic(
            name=alert.actor_name,
            organisation_code=alert.actor_organisation_code,
            organisation_name=alert.actor_organisation_name,
            phone=alert.actor_phone,
            email=alert.actor_email,
        )
    return AlertPublic(
        **alert.model_dump(
            include=set(AlertPublic.model_fields)
            - {"actor", "team", "authority", "reason_text", "child_name"}
        ),
        reason_text=reason_text(alert.reason, actor_sensitive=alert.actor_sensitive),
        child_name=child_name,
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
    """List your alerts

    The alerts for you (and, for a designated or data manager, your team), newest first,
    with the child's name as your role may see it."""
    found = service.list_alerts(
        session=session,
        caller=caller,
        unacknowledged_only=unacknowledged,
        limit=limit,
        before=before,
    )
    next_before = found[-1].created_at if len(found) == limit else None
    return AlertList(items=answer_list(session, caller, ctx, found), next_before=next_before)


def answer_list(
    session: SessionDep, caller: PrincipalDep, ctx: ContextDep, found: list[Alert]
) -> list[AlertPublic]:
    """The alerts as their reader sees them (names as `access/views` allows), with the
    request's audit detail: which alerts, which children. The pages answer with it too."""
    ctx.audit.detail["alert_ids"] = [str(a.id) for a in found]
    ctx.audit.children(*(a.child_id for a in found if a.child_id is not None))
    names = service.child_names(session=session, caller=caller, alerts=found)
    return [public_of(a, names.get(a.child_id)) if a.child_id else public_of(a) for a in found]


@router.get("/{alert_id}", response_model=AlertPublic, **permission(Permission.ALERT_READ))
def read_alert(
    alert_id: uuid.UUID, session: SessionDep, caller: PrincipalDep, ctx: ContextDep
) -> AlertPublic:
    """Read an alert

    One of your alerts: which rule raised it, about which child, and whether it has been
    acknowledged."""
    ctx.audit.detail["alert_id"] = str(alert_id)
    alert = service.get_alert(session=session, caller=caller, alert_id=alert_id)
    return _answer(session, caller, ctx, alert)


def _answer(
    session: SessionDep, caller: PrincipalDep, ctx: ContextDep, alert: Alert
) -> AlertPublic:
    if alert.child_id is None:
        return public_of(alert)
    ctx.audit.children(alert.child_id)
    names = service.child_names(session=session, caller=caller, alerts=[alert])
    return public_of(alert, names.get(alert.child_id))


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertPublic,
    **permission(Permission.ALERT_ACKNOWLEDGE),
)
def acknowledge(
    alert_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    body: AlertAcknowledge | None = None,
) -> AlertPublic:
    """Acknowledge an alert

    An optional body `{"note": "..."}` says what was done; kept on the alert and in this
    request's audit row. Acknowledging again keeps the first acknowledgement."""
    ctx.audit.detail["alert_id"] = str(alert_id)
    note = body.note if body else None
    alert, acknowledged = service.acknowledge(
        session=session, caller=caller, alert_id=alert_id, note=note
    )
    if note is not None:  # the audit row says whether it is the note the alert keeps
        ctx.audit.detail["note"] = note
        ctx.audit.detail["note_kept"] = acknowledged
    return _answer(session, caller, ctx, alert)
