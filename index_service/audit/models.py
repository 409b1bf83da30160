"""The audit_event table, shaped after FHIR AuditEvent / IHE ATNA (when, who, what, which
child, why, outcome, source)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, Column, DateTime, Index, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class Outcome(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"  # 4xx: the caller was told no, or their input was bad
    FAILED = "failed"  # 5xx: the service could not do it


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_child_ids", "child_ids", postgresql_using="gin"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    occurred_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True),
    )
    action: str = Field(max_length=80, index=True)
    outcome: str = Field(max_length=16)
    status_code: int
    reason: str | None = Field(default=None, max_length=200)
    issuer: str | None = Field(default=None, max_length=300)
    subject: str | None = Field(default=None, max_length=300, index=True)
    actor_name: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=16, index=True)
    roles: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(40)), nullable=False)
    )
    child_ids: list[uuid.UUID] = Field(
        default_factory=list, sa_column=Column(ARRAY(Uuid), nullable=False)
    )
    purpose: str | None = Field(default=None, max_length=40)
    purpose_text: str | None = Field(default=None, max_length=500)
    method: str = Field(max_length=10)
    route: str = Field(max_length=200)
    request_id: str = Field(max_length=64, index=True)
    instance: str = Field(max_length=100)
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
