"""Flag schemas: one create schema per kind of the DOMAIN.md vocabulary, each with the
fields that kind carries (a discriminated union on `kind`), and the public view. A flag
carries a contact, never the concern itself."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from index_service.common import LocalAuthorityCode, PersonName, Phone


class ProtectionCategory(StrEnum):
    PHYSICAL = "physical"
    EMOTIONAL = "emotional"
    SEXUAL = "sexual"
    NEGLECT = "neglect"


class AreaOfConcern(StrEnum):
    """The common language of the Assessment Framework's three domains."""

    DEVELOPMENTAL_NEEDS = "developmental_needs"
    PARENTING_CAPACITY = "parenting_capacity"
    FAMILY_AND_ENVIRONMENTAL_FACTORS = "family_and_environmental_factors"


class _FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_name: PersonName | None = Field(
        default=None, description="Whom to call. Unset: you, the person raising the flag."
    )
    contact_phone: Phone | None = Field(
        default=None, description="Unset: your organisation's number."
    )
    contact_email: EmailStr | None = Field(default=None, description="Unset: your email.")
    review_date: date | None = Field(
        default=None, description="When the flag is to be reviewed; after it, it is overdue."
    )


class ChildProtectionPlanFlag(_FlagIn):
    kind: Literal["child_protection_plan"]
    category: ProtectionCategory
    key_worker: PersonName
    review_date: date  # required for a plan


class LookedAfterFlag(_FlagIn):
    kind: Literal["looked_after"]
    responsible_authority: LocalAuthorityCode


class UnbornChildProtectionPlanFlag(_FlagIn):
    kind: Literal["unborn_child_protection_plan"]
    expected_date_of_delivery: date
    mother_given_names: PersonName
    mother_family_name: PersonName
    mother_date_of_birth: date | None = None


class ChildInNeedFlag(_FlagIn):
    kind: Literal["child_in_need"]
    allocated_worker: PersonName


class EarlyHelpFlag(_FlagIn):
    kind: Literal["early_help"]
    lead_professional: PersonName


class ConcernRaisedFlag(_FlagIn):
    kind: Literal["concern_raised"]
    area_of_concern: AreaOfConcern


class MissingEducationFlag(_FlagIn):
    kind: Literal["missing_education"]
    education_welfare_contact: PersonName


class MissingFromHomeFlag(_FlagIn):
    kind: Literal["missing_from_home"]


FlagCreate = Annotated[
    ChildProtectionPlanFlag
    | LookedAfterFlag
    | UnbornChildProtectionPlanFlag
    | ChildInNeedFlag
    | EarlyHelpFlag
    | ConcernRaisedFlag
    | MissingEducationFlag
    | MissingFromHomeFlag,
    Field(discriminator="kind"),
]
CONTACT_FIELDS = frozenset(
    {"kind", "contact_name", "contact_phone", "contact_email", "review_date"}
)


def details_of(data: BaseModel) -> dict[str, Any]:
    """What the kind carries beyond the contact and review date, as stored."""
    return data.model_dump(mode="json", exclude=set(CONTACT_FIELDS), exclude_none=True)


class FlagReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_date: date = Field(description="The next review date: after today.")


class FlagPublic(BaseModel):
    """A flag: whom to contact, never the concern itself. A flag a sensitive service
    raised shows to others with `sensitive` true, the notice, and the data manager's
    contact in place of the organisation, raiser and details (`access/sensitive.py`)."""

    id: uuid.UUID
    kind: str
    sensitive: bool = False
    notice: str | None = None
    organisation_code: str | None
    organisation_name: str | None
    contact_name: str
    contact_phone: str | None = None
    contact_email: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    raised_at: datetime
    review_date: date | None = None
    reviewed_at: datetime | None = None
    ended_at: datetime | None = None


class OverdueFlagPublic(FlagPublic):
    child_id: uuid.UUID


class OverdueFlagList(BaseModel):
    items: list[OverdueFlagPublic]
