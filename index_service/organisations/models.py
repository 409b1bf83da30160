"""Organisation table and its API schemas (Base / Create / Public)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints
from sqlalchemy import Column, DateTime, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from index_service.common import (
    LocalAuthorityCode,
    Phone,
    ShortText,
    new_id,
    upper_stripped,
    utcnow,
)


class OrganisationType(StrEnum):
    """Kinds of participating agency (Working Together ch. 2)."""

    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    GP_PRACTICE = "gp_practice"
    HEALTH_VISITING = "health_visiting"
    HOSPITAL = "hospital"
    EMERGENCY_DEPARTMENT = "emergency_department"
    AMBULANCE = "ambulance"
    SCHOOL_NURSING = "school_nursing"
    CAMHS = "camhs"
    SEXUAL_HEALTH = "sexual_health"
    SUBSTANCE_MISUSE = "substance_misuse"
    SCHOOL = "school"
    COLLEGE = "college"
    EARLY_YEARS = "early_years"
    EDUCATION_WELFARE = "education_welfare"
    POLICE = "police"
    YOUTH_JUSTICE = "youth_justice"
    PROBATION = "probation"
    SECURE_ESTATE = "secure_estate"
    HOUSING = "housing"
    CAFCASS = "cafcass"
    VOLUNTARY = "voluntary"
    INDEX_OPERATOR = "index_operator"


EDUCATION_TYPES = frozenset(
    {
        OrganisationType.SCHOOL,
        OrganisationType.COLLEGE,
        OrganisationType.EARLY_YEARS,
        OrganisationType.EDUCATION_WELFARE,
    }
)

OrganisationCode = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9\-]{1,15}$"),
]


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    code: str = SQLField(sa_column=Column(String(16), unique=True, nullable=False))
    name: str = SQLField(max_length=200)
    type: str = SQLField(max_length=40)
    local_authority: str = SQLField(max_length=9, index=True)
    contact_phone: str | None = SQLField(default=None, max_length=24)
    contact_email: str | None = SQLField(default=None, max_length=254)
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class OrganisationBase(BaseModel):
    code: OrganisationCode = Field(description="Public code, e.g. an ODS code or DfE URN.")
    name: ShortText
    type: OrganisationType
    local_authority: LocalAuthorityCode = Field(
        description="ONS code of the local authority the organisation belongs to."
    )
    contact_phone: Phone | None = None
    contact_email: EmailStr | None = None


class OrganisationCreate(OrganisationBase):
    model_config = ConfigDict(extra="forbid")


class OrganisationPublic(OrganisationBase):
    id: uuid.UUID
    created_at: datetime
