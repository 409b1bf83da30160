"""Find a person to suspend by what an administrator knows of them, their name (or an
identifier such as an email used as the subject), from the audit trail: who acted, from
which organisation, through which identity provider, and when last. Never what they
looked at: an administrator sees who, not child data. The audit trail keeps no email
column; an email matches where the identity provider uses it as the subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from index_service.audit.models import AuditEvent

LISTED = 50


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str
    name: str | None
    organisation: str | None
    last_seen: datetime


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_people(*, session: Session, text: str, limit: int = LISTED) -> list[Person]:
    """People whose name or subject contains `text` (any case), most recently seen first."""
    pattern = _like(text.strip())
    last_seen = func.max(col(AuditEvent.occurred_at))
    rows = session.execute(
        sa_select(
            col(AuditEvent.issuer),
            col(AuditEvent.subject),
            func.max(col(AuditEvent.actor_name)),
            func.max(col(AuditEvent.organisation)),
            last_seen,
        )
        .where(col(AuditEvent.issuer).is_not(None), col(AuditEvent.subject).is_not(None))
        .where(
            or_(
                col(AuditEvent.actor_name).ilike(pattern, escape="\\"),
                col(AuditEvent.subject).ilike(pattern, escape="\\"),
            )
        )
        .group_by(col(AuditEvent.issuer), col(AuditEvent.subject))
        .order_by(last_seen.desc())
        .limit(limit)
    ).all()
    return [
        Person(issuer=i, subject=s, name=n, organisation=o, last_seen=t)
        for i, s, n, o, t in rows
        if i is not None and s is not None
    ]
