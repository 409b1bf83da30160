"""Schemas of one's own involvement with a child: recording and ending it."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from index_service.common import PersonName, Phone, ShortText


class InvolvementCreate(BaseModel):
    """You record your own involvement: the practitioner is you (from your token). A
    social worker of children's social care may instead name another practitioner (the
    allocated worker or key worker) who has no login: alerts reach them by email."""

    model_config = ConfigDict(extra="forbid")

    service: ShortText = Field(description="The service you work in, e.g. 'Health visiting'.")
    practitioner_name: PersonName | None = Field(
        default=None,
        description="Unset: you. Set: another practitioner of your organisation, who need "
        "not sign in; `practitioner_email` (a secure email) is then required. Social "
        "workers of children's social care only.",
    )
    practitioner_phone: Phone | None = None
    practitioner_email: EmailStr | None = Field(default=None, description="Unset: your email.")
    start_date: date | None = Field(default=None, description="Unset: today. Not in the future.")
    is_key_worker: bool = Field(
        default=False, description="The social worker holding a child protection plan."
    )
    is_lead_professional: bool = Field(default=False, description="Early help / CAF.")
    is_allocated_worker: bool = Field(
        default=False,
        description="The allocated worker of a child in need: told of enquiries (R1). "
        "Social workers of children's social care only.",
    )
    sensitive: bool = Field(
        default=False,
        description="A sensitive service (sexual health, mental health, substance misuse): "
        "others see only that a sensitive service is involved.",
    )


class InvolvementEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Unset: today. Not in the future.")


class InvolvementRecordPublic(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    organisation_code: str
    service: str
    practitioner_name: str
    practitioner_phone: str | None = None
    practitioner_email: str | None = None
    is_key_worker: bool
    is_lead_professional: bool
    is_allocated_worker: bool
    sensitive: bool
    start_date: date
    end_date: date | None = None
