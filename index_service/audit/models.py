"""The audit tables. `audit_event` is shaped after FHIR AuditEvent / IHE ATNA (when, who,
what, which child, why, outcome, source); `audit_seal` is the hash chain over it, appended
to by the sealer (`audit/sealer.py`). Both are append-only: the service's database role
may only insert and read, and triggers refuse UPDATE, DELETE and TRUNCATE (migration 0007);
the one change let through is the erasure of an event's personal part at retention
(migration 0020, `audit/retention.py`).

`audit_event` is partitioned by month of `occurred_at` (PostgreSQL declarative range
partitioning, so the primary key carries `occurred_at`): a month is erased or archived
without rewriting the rest. The worker creates the coming months' partitions; a default
partition takes anything else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    String,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.types import UserDefinedType
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class Outcome(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"  # 4xx: the caller was told no, or their input was bad
    FAILED = "failed"  # 5xx: the service could not do it


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`xid8`): the transaction that wrote an event."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# Let schema reflection (Alembic's comparison of models and migrations) know the type.
postgresql_base.ischema_names.setdefault("xid8", XID8)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_child_ids", "child_ids", postgresql_using="gin"),
        Index("ix_audit_event_xid_seq", "xid", "seq"),
        Index("ix_audit_event_issuer_subject", "issuer", "subject"),
        Index("ix_audit_event_id", "id"),
        Index("uq_audit_event_seq", "seq", "occurred_at", unique=True),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # The order of allocation (gaps: transactions rolled back) and the writing transaction;
    # both set by the database, never by the service.
    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=True), nullable=False, key="seq"),
    )
    xid: int | None = Field(
        default=None,
        sa_column=Column(XID8(), server_default=text("pg_current_xact_id()"), nullable=False),
    )
    occurred_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), primary_key=True, index=True),
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
    # The salted commitment to the personal part (`audit/chain.py`): the hash is chained,
    # the salt is erased with the data at retention. Both null: no personal part.
    personal_salt: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    personal_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary))


class AuditSeal(SQLModel, table=True):
    """One link of the hash chain: the event at `position` and the chain's hash after it."""

    __tablename__ = "audit_seal"

    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False, unique=True))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The event's place, kept here too, so the sealer goes on from its last seal whatever
    # became of that event's row.
    xid: int = Field(sa_column=Column(XID8(), nullable=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The version-1 hash of seals made before migration 0020 re-chained the trail: what
    # version-1 checkpoints are checked against. Null for seals made since.
    v1_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    sealed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class AuditErasure(SQLModel, table=True):
    """How far the erasure of personal parts has got (one row, once it has run): events
    before `erased_before` have none left. Written only by `audit_erase_personal` (migration
    0020), so each run reads on from there rather than through the whole erased past."""

    __tablename__ = "audit_erasure"
    only_row: bool = Field(
        default=True,
        sa_column=Column(Boolean, primary_key=True, server_default=text("true")),
    )
    erased_before: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
