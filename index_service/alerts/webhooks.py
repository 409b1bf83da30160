"""The webhook allowlist: administrators register an agency system's receiver URL for an
organisation; the service posts only to these. Each gets its own signing secret."""

from __future__ import annotations

import base64
import secrets
import uuid

from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.alerts.models import WebhookEndpoint
from index_service.alerts.schemas import WebhookEndpointCreate
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.organisations.models import Organisation
from index_service.outbound import require_public_url


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def register(
    *, session: Session, caller: Principal, data: WebhookEndpointCreate, allow_private: bool
) -> tuple[WebhookEndpoint, Organisation]:
    """Only https to a host whose every address is public (checked again at every
    delivery); with OUTBOUND_ALLOW_PRIVATE (never in production) also plain http to this
    machine, for a local receiver."""
    require_public_url(data.url, allow_private=allow_private, field="url")
    organisation = session.exec(
        select(Organisation).where(col(Organisation.code) == data.organisation_code)
    ).first()
    if organisation is None:
        raise InvalidInput("no such organisation", code="unknown_organisation")
    endpoint = WebhookEndpoint(
        organisation_id=organisation.id,
        url=data.url,
        secret=new_secret(),
        created_by=f"{caller.issuer} {caller.subject}",
    )
    session.add(endpoint)
    session.flush()
    return endpoint, organisation


def list_endpoints(*, session: Session, limit: int) -> list[tuple[WebhookEndpoint, Organisation]]:
    rows = session.exec(
        select(WebhookEndpoint, Organisation)
        .join(Organisation, col(Organisation.id) == col(WebhookEndpoint.organisation_id))
        .order_by(col(WebhookEndpoint.created_at).desc())
        .limit(limit)
    ).all()
    return [(endpoint, organisation) for endpoint, organisation in rows]


def withdraw(
    *, session: Session, caller: Principal, endpoint_id: uuid.UUID
) -> tuple[WebhookEndpoint, Organisation]:
    endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    if not endpoint.active:
        raise Conflict("this webhook endpoint is already disabled", code="already_disabled")
    endpoint.active = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = f"withdrawn by {caller.issuer} {caller.subject}"[:200]
    session.add(endpoint)
    session.flush()
    organisation = session.get(Organisation, endpoint.organisation_id)
    assert organisation is not None
    return endpoint, organisation
