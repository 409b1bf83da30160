"""The involvement table. Its behaviour (record, end, alerts) comes with the enquiries work."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class Involvement(SQLModel, table=True):
    __tablename__ = "involvement"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("child.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    organisation_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("organisation.id"), nullable=False, index=True)
    )
    service: str = Field(max_length=200)
    practitioner_name: str = Field(max_length=200)
    practitioner_phone: str | None = Field(default=None, max_length=24)
    practitioner_email: str | None = Field(default=None, max_length=254)
    practitioner_issuer: str | None = Field(default=None, max_length=300)
    practitioner_subject: str | None = Field(default=None, max_length=300)
    is_key_worker: bool = Field(default=False)
    is_lead_professional: bool = Field(default=False)
    # The allocated worker of a child in need; R1 tells them of enquiries too.
    is_allocated_worker: bool = Field(default=False)
    sensitive: bool = Field(default=False)
    start_date: date = Field(sa_column=Column(Date, nullable=False))
    end_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    ended_by: str | None = Field(default=None, max_length=610)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
