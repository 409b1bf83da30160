"""The flag table and its fixed vocabulary. Behaviour comes with the enquiries work."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class FlagKind(StrEnum):
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    LOOKED_AFTER = "looked_after"
    UNBORN_CHILD_PROTECTION_PLAN = "unborn_child_protection_plan"
    CHILD_IN_NEED = "child_in_need"
    EARLY_HELP = "early_help"
    CONCERN_RAISED = "concern_raised"
    MISSING_EDUCATION = "missing_education"
    MISSING_FROM_HOME = "missing_from_home"


class Flag(SQLModel, table=True):
    __tablename__ = "flag"
    __table_args__ = (
        Index(
            "ix_flag_review",
            "raised_by_issuer",
            "raised_by_subject",
            "review_date",
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("child.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=40)
    organisation_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("organisation.id"), nullable=False, index=True)
    )
    contact_name: str = Field(max_length=200)
    contact_phone: str | None = Field(default=None, max_length=24)
    contact_email: str | None = Field(default=None, max_length=254)
    raised_by_issuer: str = Field(max_length=300)
    raised_by_subject: str = Field(max_length=300)
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    raised_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    review_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reviewed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The review date the overdue alert (R8) was raised for: once per review date.
    overdue_alerted_for: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    ended_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    ended_by: str | None = Field(default=None, max_length=610)
