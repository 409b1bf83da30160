"""What auditors are shown: events, pages of them, reports and the chain's state."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventPublic(BaseModel):
    """One audit event, shaped after FHIR AuditEvent: when, who, what, which children,
    why, outcome, and where from."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    status_code: int
    reason: str | None
    issuer: str | None
    subject: str | None
    actor_name: str | None
    organisation: str | None
    roles: list[str]
    child_ids: list[uuid.UUID]
    purpose: str | None
    purpose_text: str | None
    method: str
    route: str
    request_id: str
    instance: str
    client_address: str | None
    user_agent: str | None
    detail: dict[str, Any]


class AuditEventPage(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class Practitioner(BaseModel):
    issuer: str | None
    subject: str | None
    name: str | None
    organisation: str | None
    organisation_name: str | None = None


class ChildAccess(BaseModel):
    """One look at (or attempt on) a child: who, when, from where, why, and the answer."""

    event_id: uuid.UUID
    occurred_at: datetime
    action: str
    outcome: str
    practitioner: Practitioner
    roles: list[str]
    purpose: str | None
    purpose_text: str | None
    client_address: str | None
    user_agent: str | None
    request_id: str


class ChildAccessReport(BaseModel):
    child_id: uuid.UUID
    accesses: list[ChildAccess]
    next_cursor: str | None


class ActionCount(BaseModel):
    action: str
    outcome: str
    count: int


class PractitionerActivity(BaseModel):
    practitioner: Practitioner
    since: datetime
    until: datetime
    counts: list[ActionCount]
    distinct_children: int
    events: AuditEventPage


class MisuseReportName(StrEnum):
    SHIELDED_ACCESSES = "shielded-accesses"
    FRUITLESS_SEARCHES = "fruitless-searches"
    OUT_OF_HOURS = "out-of-hours"
    OUT_OF_AREA = "out-of-area"
    MANY_CHILDREN = "many-children"
    OVERDUE_ALERTS = "overdue-alerts"


class MisuseCase(BaseModel):
    """One case a misuse report found, with what it rests on."""

    occurred_at: datetime
    practitioner: Practitioner
    child_ids: list[uuid.UUID]
    event_id: uuid.UUID | None = None
    alert_id: uuid.UUID | None = None
    action: str | None = None
    note: str


class MisuseReport(BaseModel):
    report: MisuseReportName
    since: datetime
    until: datetime
    cases: list[MisuseCase]


class ChainProblem(BaseModel):
    kind: str
    message: str
    position: int | None
    event_id: str | None


class ChainVerification(BaseModel):
    """The answer `index-service audit verify` gives."""

    ok: bool
    first_bad: ChainProblem | None
    events_checked: int
    head_position: int
    head_hash: str
    checkpoints_checked: int
    latest_checkpoint: int | None
    unsealed_events: int = Field(description="Written after the sealed head; sealed shortly.")
    seq_gaps: int | None = Field(
        description="Event numbers taken by transactions that rolled back (full walk only)."
    )
    verified_from: int = Field(
        description="The checkpoint position an incremental walk began after (0: the start)."
    )
    personal_checked: int = Field(
        description="Events whose personal part was there and matched its sealed commitment."
    )
    personal_erased: int = Field(
        description="Events whose personal part was erased at retention: the chain alone "
        "was checked."
    )
    period: str | None = Field(description="The month checked (YYYY-MM), if only one was.")
    period_events: int | None = Field(description="The sealed events of that month.")
    problems: list[ChainProblem]
