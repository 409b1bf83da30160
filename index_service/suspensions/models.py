"""Suspended users and organisations: a suspended principal is refused on its next
request, whatever its token says."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import CheckConstraint, Column, DateTime, Index, text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from index_service.common import Text200, Text300, new_id, utcnow
from index_service.organisations.models import OrganisationCode


class SuspensionKind(StrEnum):
    USER = "user"
    ORGANISATION = "organisation"


class Suspension(SQLModel, table=True):
    __tablename__ = "suspension"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'user' AND issuer IS NOT NULL AND subject IS NOT NULL"
            " AND organisation_code IS NULL)"
            " OR (kind = 'organisation' AND organisation_code IS NOT NULL"
            " AND issuer IS NULL AND subject IS NULL)",
            name="ck_suspension_target",
        ),
        # One active suspension per user and per organisation; lookups use these.
        Index(
            "uq_suspension_active_user",
            "issuer",
            "subject",
            unique=True,
            postgresql_where=text("lifted_at IS NULL AND kind = 'user'"),
        ),
        Index(
            "uq_suspension_active_organisation",
            "organisation_code",
            unique=True,
            postgresql_where=text("lifted_at IS NULL AND kind = 'organisation'"),
        ),
    )

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    kind: str = SQLField(max_length=16)
    issuer: str | None = SQLField(default=None, max_length=300)
    subject: str | None = SQLField(default=None, max_length=300)
    organisation_code: str | None = SQLField(default=None, max_length=16)
    reason: str = SQLField(max_length=200)
    suspended_by: str = SQLField(max_length=300)
    suspended_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    lifted_by: str | None = SQLField(default=None, max_length=300)
    lifted_at: datetime | None = SQLField(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class SuspensionCreate(BaseModel):
    """Suspend a user (`issuer` + `subject`) or a whole organisation (`organisation_code`)."""

    model_config = ConfigDict(extra="forbid")

    kind: SuspensionKind
    issuer: Text300 | None = None
    subject: Text300 | None = None
    organisation_code: OrganisationCode | None = None
    reason: Text200

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.kind == SuspensionKind.USER:
            if not (self.issuer and self.subject) or self.organisation_code is not None:
                raise ValueError("a user suspension names issuer and subject, and nothing else")
        elif self.organisation_code is None or self.issuer or self.subject:
            raise ValueError("an organisation suspension names organisation_code only")
        return self


class SuspensionPublic(BaseModel):
    id: uuid.UUID
    kind: SuspensionKind
    issuer: str | None
    subject: str | None
    organisation_code: str | None
    reason: str
    suspended_by: str
    suspended_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None
