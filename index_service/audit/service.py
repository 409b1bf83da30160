"""Writing audit events. `record_event` adds the row to the caller's session, so it
commits or rolls back with the work it describes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.audit.models import AuditEvent, Outcome


@dataclass
class AuditDraft:
    """What one request will leave in the audit trail, filled in as the request goes."""

    action: str
    method: str
    route: str
    request_id: str
    instance: str
    client_address: str | None = None
    user_agent: str | None = None
    principal: Principal | None = None
    child_ids: list[uuid.UUID] = field(default_factory=list)
    purpose: str | None = None
    purpose_text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def children(self, *ids: uuid.UUID) -> None:
        for child_id in ids:
            if child_id not in self.child_ids:
                self.child_ids.append(child_id)


def outcome_for(status_code: int) -> Outcome:
    if status_code >= 500:
        return Outcome.FAILED
    if status_code >= 400:
        return Outcome.REFUSED
    return Outcome.SUCCESS


def record_event(
    *, session: Session, draft: AuditDraft, status_code: int, reason: str | None = None
) -> AuditEvent:
    principal = draft.principal
    event = AuditEvent(
        action=draft.action,
        outcome=outcome_for(status_code).value,
        status_code=status_code,
        reason=reason[:200] if reason else None,
        issuer=principal.issuer if principal else None,
        subject=principal.subject if principal else None,
        actor_name=principal.name if principal else None,
        organisation=principal.organisation_code if principal else None,
        roles=sorted(r.value for r in principal.roles) if principal else [],
        child_ids=list(draft.child_ids),
        purpose=draft.purpose,
        purpose_text=draft.purpose_text,
        method=draft.method,
        route=draft.route,
        request_id=draft.request_id,
        instance=draft.instance,
        client_address=draft.client_address,
        user_agent=(draft.user_agent or "")[:300] or None,
        detail=draft.detail,
    )
    session.add(event)
    session.flush()
    return event
