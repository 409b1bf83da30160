"""The enquiry: one look-up of a child by a practitioner, with its purpose and outcome.
The enquiries-and-alerts work adds the rules (R1 to R7) and enquiry-only contacts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import ARRAY, Column, DateTime, Index, String, Uuid
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from index_service.children.schemas import (
    MAX_AGE_YEARS,
    ChildPublic,
    ChildSummary,
    ContactPublic,
    DateOfBirth,
    InvolvementPublic,
    MothersDateOfBirth,
    NhsNumber,
    Postcode,
    Upn,
)
from index_service.common import (
    LocalAuthorityCode,
    PersonName,
    ShortText,
    Text100,
    new_id,
    utcnow,
)
from index_service.organisations.front_door import FrontDoorPublic


class EnquiryOutcome(StrEnum):
    MATCH = "match"
    POSSIBLE_MATCHES = "possible_matches"
    NOT_FOUND = "not_found"


class Enquiry(SQLModel, table=True):
    __tablename__ = "enquiry"
    __table_args__ = (
        Index("ix_enquiry_enquirer", "issuer", "subject", "created_at"),
        # A merge finds the enquiries that showed the entry it merges away (`@>`).
        Index("ix_enquiry_candidate_ids", "candidate_ids", postgresql_using="gin"),
    )

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    issuer: str = SQLField(max_length=300)
    subject: str = SQLField(max_length=300)
    organisation_id: uuid.UUID = SQLField(foreign_key="organisation.id", index=True)
    purpose: str = SQLField(max_length=40)
    purpose_text: str = SQLField(max_length=200)
    criteria: dict[str, Any] = SQLField(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    outcome: str = SQLField(max_length=24)
    candidate_ids: list[uuid.UUID] = SQLField(
        default_factory=list, sa_column=Column(ARRAY(Uuid), nullable=False)
    )
    model_version: str = SQLField(max_length=40)
    explanations: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class OtherName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_names: PersonName
    family_name: PersonName


MAX_OTHER_NAMES = 10


class ExpectantMotherIn(BaseModel):
    """What a maternity ward or an emergency department knows of a pregnant woman: the
    index finds her unborn child's pre-birth plan through her (DOMAIN.md "What a record
    holds")."""

    model_config = ConfigDict(extra="forbid")

    given_names: PersonName
    family_name: PersonName
    date_of_birth: MothersDateOfBirth
    nhs_number: NhsNumber | None = None
    postcode: Postcode | None = None
    address_line1: ShortText | None = None
    town: Text100 | None = None


class EnquiryCreate(BaseModel):
    """What the enquirer knows of the child. The purpose travels in the `Purpose-Of-Use`
    and `Purpose-Text` headers, as on every request that touches child data."""

    model_config = ConfigDict(extra="forbid")

    family_name: PersonName | None = None
    given_names: PersonName | None = None
    other_names: list[OtherName] = Field(
        default_factory=list,
        max_length=MAX_OTHER_NAMES,
        description="Other names the child is known by.",
    )
    date_of_birth: DateOfBirth | None = None
    year_of_birth: int | None = Field(
        default=None, description="When only the year of birth is known (instead of the date)."
    )
    age_years: int | None = Field(
        default=None,
        ge=0,
        le=MAX_AGE_YEARS,
        description="When only an age in years is known (instead of the date).",
    )
    postcode: Postcode | None = None
    address_line1: ShortText | None = Field(
        default=None,
        description="The first line of the child's address as known (house and street), "
        "compared with the lines of every address the index holds for a child.",
    )
    address_line2: ShortText | None = None
    town: Text100 | None = Field(default=None, description="The town of that address.")
    nhs_number: NhsNumber | None = None
    upn: Upn | None = None
    lives_in_local_authority: LocalAuthorityCode | None = Field(
        default=None,
        description="The local authority where the child lives, if you know it: if no record "
        "is found and someone else enquires about the same child, its designated managers "
        "are told. Unset: your own organisation's authority.",
    )
    expectant_mother: ExpectantMotherIn | None = Field(
        default=None,
        description="Instead of a child: an expectant mother (names, date of birth, and "
        "what else is known: NHS number, address). The answer says only whether her unborn "
        "child is on a pre-birth plan and whom to contact (`pre_birth_plan`). Hospitals, "
        "emergency departments, GP practices and health visitors only.",
    )

    @field_validator("year_of_birth")
    @classmethod
    def _plausible_year(cls, value: int | None) -> int | None:
        this_year = utcnow().year
        if value is not None and not this_year - MAX_AGE_YEARS <= value <= this_year:
            raise ValueError(f"a child's year of birth is within the last {MAX_AGE_YEARS} years")
        return value

    @model_validator(mode="after")
    def _one_way_of_dating(self) -> Self:
        given = [
            f
            for f in ("date_of_birth", "year_of_birth", "age_years")
            if getattr(self, f) is not None
        ]
        if len(given) > 1:
            raise ValueError("give one of date_of_birth, year_of_birth or age_years")
        if self.expectant_mother is not None:
            about_child = self.model_fields_set - {"expectant_mother"}
            if about_child:
                raise ValueError(
                    "an enquiry about an expectant mother gives only expectant_mother, "
                    f"not {', '.join(sorted(about_child))}"
                )
        return self


class EarlierEnquiryPublic(BaseModel):
    """An earlier enquirer about the same unknown child (R3), and how to reach them. An
    enquirer from a sensitive service is reachable by name and their own email, but
    their organisation is not named (`organisation_code` null) and its switchboard not
    given (`access/sensitive.py`)."""

    enquired_at: datetime
    organisation_code: str | None
    organisation_name: str
    enquirer_name: str
    phone: str | None = None
    email: str | None = None
    purpose: str


class PreBirthPlanPublic(BaseModel):
    """The answer to an enquiry about an expectant mother: that her unborn child is on a
    pre-birth plan, and whom to contact. Nothing of the child's record."""

    notice: str
    contacts: list[InvolvementPublic] = Field(
        description="The plan's key worker, allocated worker and lead professional, in "
        "the entry's order, each as the child's entry shows an involvement but only whom to "
        "call (`is_key_worker`, `is_allocated_worker`, `is_lead_professional` say the "
        "role; no service, no start date). Another organisation's sensitive service shows "
        "only as `sensitive` with the notice and the responsible authority's contact. "
        "Empty when none is on record or the record is shielded."
    )
    contact: ContactPublic | None = Field(
        description="The responsible authority's children's social care (in hours, secure "
        "email, out of hours), if it takes part in the index."
    )


class EnquiryPublic(BaseModel):
    id: uuid.UUID
    outcome: EnquiryOutcome
    candidates: list[ChildSummary] = Field(
        description="At most five summaries, best first, each with its match explanation; "
        "open one with GET /v1/enquiries/{id}/children/{child_id}, the second, separately "
        "logged step."
    )
    child: ChildPublic | None = Field(
        default=None, description="On `match` only: the child as your role may see it."
    )
    advice: str | None = Field(
        default=None,
        description="On `not_found`, and on `match` when the child has no current "
        "involvement and no active flag: that this is not evidence that the child is safe, "
        "and to refer to the front door if worried. On `possible_matches`: how to narrow "
        "the search.",
    )
    front_door: FrontDoorPublic | None = Field(
        default=None,
        description="With that warning: the children's social care front door of the "
        "authority where the child lives (name, phone, secure email, out-of-hours "
        "emergency duty team). On `not_found`: the authority you gave, else the one your "
        "postcode lies in by the index's own address records, else your own.",
    )
    earlier_enquiries: list[EarlierEnquiryPublic] = Field(
        default_factory=list,
        description="On `not_found` only: earlier enquiries by others that seem to be about "
        "the same child, none of which found a record either: when, which organisation, "
        "and how to reach the enquirer.",
    )
    pre_birth_plan: PreBirthPlanPublic | None = Field(
        default=None,
        description="On an enquiry about an expectant mother that found her (`match`): "
        "that a pre-birth plan exists and whom to contact.",
    )
    model_version: str
    created_at: datetime


class EnquiryContact(SQLModel, table=True):
    """An enquiry-only contact (DOMAIN.md R3): kept when an enquiry finds no record, so a
    second enquiry about the same unknown child is not lost. Not an index entry: nobody
    searches or browses these; the matcher compares later enquiries against them, the
    designated managers of the authority concerned list and close them, and they expire."""

    __tablename__ = "enquiry_contact"
    __table_args__ = (
        Index("ix_enquiry_contact_born", "date_of_birth"),
        Index("ix_enquiry_contact_year", "birth_year"),
        Index("ix_enquiry_contact_names", "name_keys", postgresql_using="gin"),
        Index("ix_enquiry_contact_nhs", "nhs_number"),
        Index("ix_enquiry_contact_authority", "local_authority", "created_at"),
        Index("ix_enquiry_contact_expires", "expires_at"),
    )

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    enquiry_id: uuid.UUID = SQLField(foreign_key="enquiry.id", index=True)
    issuer: str = SQLField(max_length=300)
    subject: str = SQLField(max_length=300)
    enquirer_name: str = SQLField(max_length=200)
    enquirer_email: str | None = SQLField(default=None, max_length=254)
    organisation_id: uuid.UUID = SQLField(foreign_key="organisation.id")
    purpose: str = SQLField(max_length=40)
    purpose_text: str = SQLField(max_length=200)
    criteria: dict[str, Any] = SQLField(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    advice: str = SQLField(max_length=1000)
    # The authority whose designated managers hear of a second enquiry: where the child
    # lives, as the enquirer gave it, else the enquirer's own authority.
    local_authority: str = SQLField(max_length=9)
    # Blocking keys for comparing later enquiries (the matcher's own normalisers):
    # `name_keys` holds the folded given and family name of every name the enquirer gave
    # (other names too), so a later enquiry under any of them, either way round, finds it.
    date_of_birth: date | None = SQLField(default=None)
    birth_year: int | None = SQLField(default=None)
    name_keys: list[str] = SQLField(
        default_factory=list,
        sa_column=Column(postgresql.ARRAY(String(100)), nullable=False, server_default="{}"),
    )
    nhs_number: str | None = SQLField(default=None, max_length=10)
    # The contact match model (matching/contact_model.py) that compared this enquiry with
    # earlier contacts, and later repeats of it.
    model_version: str | None = SQLField(default=None, max_length=40)
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # The same enquirer's repeats about the same child update this contact (R3): when last,
    # and how many enquiries in all.
    last_seen_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    enquiry_count: int = SQLField(default=1)
    expires_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = SQLField(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    closed_by: str | None = SQLField(default=None, max_length=610)
    closed_reason: str | None = SQLField(default=None, max_length=200)


class EnquiryContactPublic(BaseModel):
    """An enquiry-only contact as its authority's designated managers see it: what the
    enquirer gave, who they are and how to reach them, and the advice they were given."""

    id: uuid.UUID
    enquiry_id: uuid.UUID
    enquirer_name: str
    organisation_code: str | None = Field(
        description="Null for an enquirer from a sensitive service (reachable by name and "
        "email; their service is not named)."
    )
    organisation_name: str
    phone: str | None = None
    email: str | None = None
    purpose: str
    purpose_text: str | None
    criteria: dict[str, Any]
    advice: str
    local_authority: str
    created_at: datetime
    last_seen_at: datetime = Field(description="When its enquirer last enquired about the child.")
    enquiry_count: int = Field(description="How many enquiries its enquirer made about the child.")
    expires_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_reason: str | None = None


class EnquiryContactList(BaseModel):
    items: list[EnquiryContactPublic]


class EnquiryContactClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ShortText = Field(description="Why it is closed, e.g. 'referred; record created'.")
