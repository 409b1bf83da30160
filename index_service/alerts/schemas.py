"""Alert schemas (in-app channel) and webhook endpoint schemas."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from index_service.common import Text200
from index_service.organisations.models import OrganisationCode


class ActorPublic(BaseModel):
    """Who enquired or acted, and how to reach them. Absent for the service's own
    escalations (R6). For a sensitive service's involvement (`sensitive`), nobody is
    named: the organisation and contact are the data managers' of the child's authority,
    and `notice` says so."""

    sensitive: bool = False
    notice: str | None = None
    name: str | None = None
    organisation_code: str | None = None
    organisation_name: str | None = None
    phone: str | None = None
    email: str | None = None


class AlertPublic(BaseModel):
    """An alert carries no case detail: who, from which organisation, how to reach them,
    the stated purpose, when, and which child (by id: open it with a purpose)."""

    id: uuid.UUID
    rule: str = Field(description="The enquiry rule that raised it: R1 to R7 (DOMAIN.md).")
    reason: str
    reason_text: str = Field(description="The reason as one plain-English sentence.")
    child_id: uuid.UUID | None = None
    child_name: str | None = Field(
        default=None,
        description="The child's legal name, only for a recipient whose role reads the "
        "record directly (staff of the child's authority); never a shielded child's but "
        "to its data managers.",
    )
    enquiry_id: uuid.UUID | None = None
    enquiry_contact_id: uuid.UUID | None = None
    team: str | None = Field(default=None, description="Set when it is a team inbox's alert.")
    authority: str | None = None
    actor: ActorPublic | None = None
    purpose: str | None = None
    purpose_text: str | None = None
    occurred_at: datetime
    created_at: datetime
    due_at: datetime | None = Field(
        default=None, description="Acknowledge by then, or it escalates (R6)."
    )
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_note: str | None = Field(
        default=None, description="What was done, as the acknowledgement said."
    )
    escalation_of: uuid.UUID | None = None


class AlertAcknowledge(BaseModel):
    """An acknowledgement may say what was done, in one line ("called the ED back")."""

    model_config = ConfigDict(extra="forbid")

    note: Text200 | None = None


class AlertList(BaseModel):
    items: list[AlertPublic]
    next_before: datetime | None = Field(
        default=None, description="Pass as `before` for the next page; absent on the last."
    )


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_code: OrganisationCode
    url: str = Field(min_length=8, max_length=500)


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    organisation_code: str
    url: str
    active: bool
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    created_by: str
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str = Field(
        description="The signing secret (Standard Webhooks, `whsec_...`). Shown once, now."
    )


class WebhookEndpointList(BaseModel):
    items: list[WebhookEndpointPublic]
