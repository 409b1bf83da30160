"""Writing audit events. `record_event` adds the row to the caller's session, so it
commits or rolls back with the work it describes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, overload

from sqlalchemy import insert
from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.audit.chain import commit
from index_service.audit.models import AuditEvent, Outcome
from index_service.common import new_id, utcnow


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
    reason: str | None = None  # why a request was declined without an exception (a 409)

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


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@overload
def clean(value: str, limit: int) -> str: ...
@overload
def clean(value: None, limit: int) -> None: ...
@overload
def clean(value: str | None, limit: int) -> str | None: ...
def clean(value: str | None, limit: int) -> str | None:
    """A string fit for an audit column: control characters (NUL breaks PostgreSQL text
    and JSONB) replaced, cut to the column's width. The audit row must always be writable,
    whatever a caller sent."""
    if value is None:
        return None
    return _UNPRINTABLE.sub("\ufffd", value)[:limit]


def clean_json(value: Any, limit: int = 500) -> Any:
    """`clean` applied to every string (keys too) of a JSON value."""
    if isinstance(value, str):
        return clean(value, limit)
    if isinstance(value, dict):
        return {clean(str(k), 100): clean_json(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, limit) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean(str(value), limit)


def record_event(
    *, session: Session, draft: AuditDraft, status_code: int, reason: str | None = None
) -> uuid.UUID:
    """Write the event in the session's transaction; its id. One prebuilt INSERT (every
    request writes one): the ORM's unit of work cost more than the statement itself. An
    event with a personal part carries its salted commitment (`audit/chain.py`).

    The caller's email (their token's or sign-in's `email` claim), if they carry one, goes
    with the actor in `detail["email"]`, so that an auditor finds an API user by email as
    well as a person who signed in to the pages (`queries.find_people`); in the same
    statement, at no cost to the request."""
    principal = draft.principal
    event_id = new_id()
    detail = draft.detail
    if principal is not None and principal.email and "email" not in detail:
        detail = {**detail, "email": principal.email}
    purpose_text = clean(draft.purpose_text, 500)
    detail = clean_json(detail)
    salt, committed = commit(purpose_text, detail)
    session.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "occurred_at": utcnow(),
            "action": clean(draft.action, 80),
            "outcome": outcome_for(status_code).value,
            "status_code": status_code,
            "reason": clean(reason or draft.reason, 200),
            "issuer": clean(principal.issuer, 300) if principal else None,
            "subject": clean(principal.subject, 300) if principal else None,
            "actor_name": clean(principal.name, 200) if principal else None,
            "organisation": clean(principal.organisation_code, 16) if principal else None,
            "roles": sorted(r.value for r in principal.roles) if principal else [],
            "child_ids": list(draft.child_ids),
            "purpose": clean(draft.purpose, 40),
            "purpose_text": purpose_text,
            "method": clean(draft.method, 10),
            "route": clean(draft.route, 200),
            "request_id": clean(draft.request_id, 64),
            "instance": clean(draft.instance, 100),
            "client_address": clean(draft.client_address, 64),
            "user_agent": clean(draft.user_agent, 300),
            "detail": detail,
            "personal_salt": salt,
            "personal_hash": committed,
        },
    )
    return event_id


_INSERT_EVENT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


SYSTEM_METHOD = "SYSTEM"


def record_system_event(
    *,
    session: Session,
    action: str,
    instance: str,
    part: str,
    child_ids: list[uuid.UUID] | None = None,
    detail: dict[str, Any] | None = None,
    status_code: int = 200,
    reason: str | None = None,
) -> uuid.UUID:
    """An act of the service's own (the worker's scheduler or delivery), with no caller:
    written in the transaction of the work, like a request's. `part` names the part of the
    worker (`worker:scheduler`, `worker:delivery`), recorded as the route."""
    draft = AuditDraft(
        action=action,
        method=SYSTEM_METHOD,
        route=part,
        request_id=uuid.uuid4().hex,
        instance=instance,
        child_ids=list(dict.fromkeys(child_ids or [])),
        detail=detail or {},
    )
    return record_event(session=session, draft=draft, status_code=status_code, reason=reason)
