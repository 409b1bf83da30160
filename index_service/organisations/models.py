"""Organisation table and its API schemas (Base / Create / Public)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)
from sqlalchemy import CheckConstraint, Column, DateTime, String
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
    __table_args__ = (
        CheckConstraint(
            "(deactivated_at IS NULL) = (deactivated_by IS NULL)"
            " AND (deactivated_at IS NULL) = (deactivation_reason IS NULL)",
            name="ck_organisation_deactivation_complete",
        ),
    )

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    code: str = SQLField(sa_column=Column(String(16), unique=True, nullable=False))
    name: str = SQLField(max_length=200)
    type: str = SQLField(max_length=40)
    local_authority: str = SQLField(max_length=9, index=True)
    contact_phone: str | None = SQLField(default=None, max_length=24)
    contact_email: str | None = SQLField(default=None, max_length=254)
    out_of_hours_phone: str | None = SQLField(default=None, max_length=24)
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Deactivated by an administrator (migration 0016): it no longer takes part, as if it
    # had never been added, but its row stays for the trail and the records naming it.
    deactivated_at: datetime | None = SQLField(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    deactivated_by: str | None = SQLField(default=None, max_length=200)
    deactivation_reason: str | None = SQLField(default=None, max_length=500)

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


class OrganisationBase(BaseModel):
    code: OrganisationCode = Field(description="Public code, e.g. an ODS code or DfE URN.")
    name: ShortText
    type: OrganisationType
    local_authority: LocalAuthorityCode = Field(
        description="ONS code of the local authority the organisation belongs to."
    )
    contact_phone: Phone | None = Field(
        default=None,
        description="In hours. For children's social care: its front door (MASH or "
        "referral line), which enquirers who find no record are told to call.",
    )
    contact_email: EmailStr | None = Field(
        default=None,
        description="For children's social care: the front door's secure email for referrals.",
    )
    out_of_hours_phone: Phone | None = Field(
        default=None,
        description="Out of hours. For children's social care: its emergency duty team.",
    )


class OrganisationCreate(OrganisationBase):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _front_door_reachable(self) -> Self:
        """A children's social care organisation is the front door every `not_found`
        answer sends enquirers to: it must be reachable in hours and out of hours."""
        if self.type == OrganisationType.CHILDRENS_SOCIAL_CARE and not (
            self.contact_phone and self.out_of_hours_phone
        ):
            raise ValueError(
                "children's social care needs contact_phone (in hours) and "
                "out_of_hours_phone (emergency duty team)"
            )
        return self


class OrganisationPublic(OrganisationBase):
    id: uuid.UUID
    created_at: datetime
    deactivated_at: datetime | None = Field(
        default=None,
        description="Set while the organisation is deactivated: its users and systems are "
        "refused, as for an organisation that does not take part.",
    )
    deactivated_by: str | None = Field(default=None, description="The administrator's name.")
    deactivation_reason: str | None = None


class OrganisationDeactivation(BaseModel):
    """Why an administrator deactivates an organisation (kept on it, and in the trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class OrganisationContacts(BaseModel):
    """How to reach an organisation, as an administrator corrects it: the same rule as
    at creation (children's social care reachable in hours and out of hours)."""

    model_config = ConfigDict(extra="forbid")

    contact_phone: Phone | None = None
    contact_email: EmailStr | None = None
    out_of_hours_phone: Phone | None = None
