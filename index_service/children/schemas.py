"""API schemas of the child record: Base / Create / Update / Public.

"Unknown" and "none" are different facts: carers, GP practice and education each carry a
`status`, so "not registered with a GP" is never confused with "we do not know the GP".
Identifiers are optional: a null NHS number means it is not recorded."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from index_service.children.identifiers import (
    nhs_number_is_valid,
    normalise_nhs_number,
    upn_is_valid,
)
from index_service.children.models import (
    CarersStatus,
    ChildStatus,
    DatePrecision,
    EducationStatus,
    GpStatus,
    NameKind,
    NhsNumberStatus,
)
from index_service.common import (
    LocalAuthorityCode,
    OdsCode,
    PersonName,
    Phone,
    ShortText,
    Text40,
    Text60,
    Text100,
    Urn,
    utcnow,
)
from index_service.flags.schemas import FlagPublic
from index_service.matching.normalise import MIN_NAME_LETTERS, is_a_name
from index_service.matching.postcodes import normalise_postcode

# In an enquiry, older than this is a typing error, not a child. Who a *record* may be for
# (the age limit, unborn children) is a setting, checked by `children/age.py`.
MAX_AGE_YEARS = 25


def _nhs_number(value: str) -> str:
    value = normalise_nhs_number(value)
    if not nhs_number_is_valid(value):
        raise ValueError("not a valid NHS number (10 digits with a modulus-11 check digit)")
    return value


def _upn(value: str) -> str:
    value = value.strip().upper()
    if not upn_is_valid(value):
        raise ValueError("not a valid UPN (13 characters starting with the check letter)")
    return value


def _postcode(value: str) -> str:
    return normalise_postcode(value)


def _a_name(value: str) -> str:
    if not is_a_name(value):
        raise ValueError(f"a name must carry at least {MIN_NAME_LETTERS} letters")
    return value


def _date_of_birth(value: date) -> date:
    today = utcnow().date()
    if value > today:
        raise ValueError("a date of birth cannot be in the future")
    if value < date(today.year - MAX_AGE_YEARS, today.month, min(today.day, 28)):
        raise ValueError(f"a child's date of birth is within the last {MAX_AGE_YEARS} years")
    return value


def _not_future(value: date | None) -> date | None:
    if value is not None and value > utcnow().date():
        raise ValueError("this date cannot be in the future")
    return value


NhsNumber = Annotated[str, Field(max_length=14), AfterValidator(_nhs_number)]
Upn = Annotated[str, Field(max_length=13), AfterValidator(_upn)]
Postcode = Annotated[str, Field(min_length=5, max_length=10), AfterValidator(_postcode)]
DateOfBirth = Annotated[date, AfterValidator(_date_of_birth)]
Uprn = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$", strip_whitespace=True)]
# A child's recorded name: "*", "-" or "A" name nobody and would match anyone's.
ChildNameText = Annotated[PersonName, AfterValidator(_a_name)]
PastDate = Annotated[date | None, AfterValidator(_not_future)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NameIn(Strict):
    kind: NameKind = NameKind.LEGAL
    given_names: ChildNameText
    family_name: ChildNameText


class AddressIn(Strict):
    line1: ShortText
    line2: ShortText | None = None
    town: Text100 | None = None
    postcode: Postcode
    uprn: Uprn | None = Field(
        default=None,
        description="Unique Property Reference Number (1-12 digits), where known: two "
        "addresses with the same UPRN are the same dwelling however written.",
    )
    local_authority: LocalAuthorityCode
    from_date: PastDate = None
    to_date: PastDate = Field(default=None, description="Null for the current address.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise ValueError("to_date is before from_date")
        return self


class CarerIn(Strict):
    name: PersonName
    relationship: Text60
    phone: Phone | None = None


class CarersIn(Strict):
    status: CarersStatus
    people: list[CarerIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status == CarersStatus.KNOWN) != bool(self.people):
            raise ValueError("list people exactly when status is 'known'")
        return self


class GpPracticeIn(Strict):
    status: GpStatus
    ods_code: OdsCode | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status == GpStatus.REGISTERED) != (self.ods_code is not None):
            raise ValueError("give ods_code exactly when status is 'registered'")
        return self


class EducationIn(Strict):
    status: EducationStatus
    urn: Urn | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status == EducationStatus.ATTENDING) != (self.urn is not None):
            raise ValueError("give urn exactly when status is 'attending'")
        return self


# A woman's date of birth, as a record or an enquiry gives it: in the past, and not
# beyond what a person's age could be (a typing error, not a mother).
MAX_MOTHER_AGE_YEARS = 70


def _mothers_date_of_birth(value: date) -> date:
    today = utcnow().date()
    if value > today:
        raise ValueError("a date of birth cannot be in the future")
    if value < date(today.year - MAX_MOTHER_AGE_YEARS, 1, 1):
        raise ValueError(
            f"a mother's date of birth is within the last {MAX_MOTHER_AGE_YEARS} years"
        )
    return value


MothersDateOfBirth = Annotated[date, AfterValidator(_mothers_date_of_birth)]


class MotherIn(Strict):
    """The expectant mother of an unborn child on a pre-birth plan: who an enquiry at
    maternity or an emergency department is about. Her address is the child's current
    address. Only on an unborn child's record."""

    given_names: ChildNameText
    family_name: ChildNameText
    date_of_birth: MothersDateOfBirth
    nhs_number: NhsNumber | None = None


class MotherPublic(MotherIn):
    pass


def _check_names(names: list[NameIn]) -> list[NameIn]:
    if sum(1 for n in names if n.kind == NameKind.LEGAL) != 1:
        raise ValueError("give exactly one legal name")
    return names


def _check_addresses(addresses: list[AddressIn]) -> list[AddressIn]:
    if sum(1 for a in addresses if a.to_date is None) > 1:
        raise ValueError("at most one address may be current (no to_date)")
    return addresses


Names = Annotated[list[NameIn], Field(min_length=1, max_length=20), AfterValidator(_check_names)]
Addresses = Annotated[list[AddressIn], Field(max_length=50), AfterValidator(_check_addresses)]

UNKNOWN_CARERS = CarersIn(status=CarersStatus.UNKNOWN)
UNKNOWN_GP = GpPracticeIn(status=GpStatus.UNKNOWN)
UNKNOWN_EDUCATION = EducationIn(status=EducationStatus.UNKNOWN)


class ChildCreate(Strict):
    names: Names
    date_of_birth: date = Field(
        description="For an unborn child with a pre-birth plan, the expected date of "
        "delivery, with date_of_birth_precision 'estimated'."
    )
    date_of_birth_precision: DatePrecision = DatePrecision.EXACT
    nhs_number: NhsNumber | None = None
    nhs_number_status: NhsNumberStatus = Field(
        default=NhsNumberStatus.UNVERIFIED,
        description="How far the NHS number is known to be this child's: `unverified` (as "
        "typed or received), `verified_trace` (traced against PDS), `trusted_feed` (from a "
        "feed that sends traced numbers). Only a verified number decides a match; only a "
        "data manager may say it is verified.",
    )
    upn: Upn | None = None
    la_reference: Text40 | None = None
    addresses: Addresses = Field(default_factory=list)
    carers: CarersIn = UNKNOWN_CARERS
    gp_practice: GpPracticeIn = UNKNOWN_GP
    education: EducationIn = UNKNOWN_EDUCATION
    responsible_authority: LocalAuthorityCode
    mother: MotherIn | None = Field(
        default=None,
        description="For an unborn child on a pre-birth plan only (a date of birth in the "
        "future): the expectant mother's identity, so that an enquiry about her from "
        "maternity or an emergency department finds the plan. Refused (422) on a born child.",
    )
    confirmed_distinct_from: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Existing children a 409 `possible_duplicate` named that you have "
        "checked are different children; the confirmation is kept in the audit trail.",
    )


class ChildUpdate(Strict):
    """A partial update: the fields given replace the stored ones (lists as a whole).
    Send `null` to clear an identifier."""

    names: Names | None = None
    date_of_birth: date | None = None
    date_of_birth_precision: DatePrecision | None = None
    nhs_number: NhsNumber | None = None
    nhs_number_status: NhsNumberStatus | None = Field(
        default=None,
        description="As on create. A new NHS number without a status is `unverified`.",
    )
    upn: Upn | None = None
    la_reference: Text40 | None = None
    addresses: Addresses | None = None
    carers: CarersIn | None = None
    gp_practice: GpPracticeIn | None = None
    education: EducationIn | None = None
    responsible_authority: LocalAuthorityCode | None = None
    mother: MotherIn | None = Field(
        default=None,
        description="As on create; `null` removes it. Refused (422) on a born child.",
    )

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        for name in (
            "names",
            "date_of_birth",
            "date_of_birth_precision",
            "addresses",
            "carers",
            "gp_practice",
            "education",
            "responsible_authority",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class Provenance(BaseModel):
    organisation: str = Field(description="Code of the organisation that supplied the field.")
    confirmed_at: datetime = Field(description="When it was last supplied or confirmed.")


class NamePublic(NameIn):
    pass


class AddressPublic(AddressIn):
    current: bool


class ContactPublic(BaseModel):
    """Whom to call: an organisation's public contact (never a child's)."""

    organisation_code: str
    organisation_name: str
    phone: str | None = Field(description="In hours.")
    email: str | None
    out_of_hours_phone: str | None = Field(
        default=None,
        description="Out of hours (children's social care: its emergency duty team).",
    )


class GpPracticePublic(GpPracticeIn):
    name: str | None = Field(
        default=None, description="The practice's name, if it takes part in the index."
    )
    contact: ContactPublic | None = Field(
        default=None, description="The practice as it takes part in the index, if it does."
    )


class EducationPublic(EducationIn):
    name: str | None = Field(
        default=None, description="The setting's name, if it takes part in the index."
    )
    contact: ContactPublic | None = Field(
        default=None, description="The setting as it takes part in the index, if it does."
    )


class InvolvementPublic(BaseModel):
    """Who is working with the child. A sensitive service (sexual health, mental health,
    substance misuse) of another organisation shows only as `sensitive` with a notice and
    the data manager's contact: no organisation, service or practitioner."""

    sensitive: bool
    notice: str | None = None
    organisation_code: str | None = None
    organisation_name: str | None = None
    service: str | None = None
    practitioner_name: str | None = None
    practitioner_phone: str | None = None
    practitioner_email: str | None = None
    is_key_worker: bool | None = None
    is_lead_professional: bool | None = None
    is_allocated_worker: bool | None = None
    start_date: date | None = None
    contact: ContactPublic | None = None


class ChildPublic(BaseModel):
    """A child as one caller may see it. Which fields are present is decided per role by
    the access policy (`access/views.py`): a field the caller may not see is absent, not
    null. A shielded record shows only that it exists and whom to contact."""

    id: uuid.UUID
    status: ChildStatus | None = None
    shielded: bool | None = None
    notice: str | None = None
    contact: ContactPublic | None = None
    names: list[NamePublic] | None = None
    date_of_birth: date | None = None
    date_of_birth_precision: DatePrecision | None = None
    age_years: int | None = None
    nhs_number: str | None = None
    nhs_number_status: NhsNumberStatus | None = None
    nhs_number_region: str | None = Field(
        default=None,
        description="The range the number falls in: england_wales_iom, scotland_chi, "
        "northern_ireland_hc, republic_of_ireland_ihi, synthetic or unallocated.",
    )
    upn: str | None = None
    la_reference: str | None = None
    current_address: AddressPublic | None = None
    addresses: list[AddressPublic] | None = None
    carers: CarersIn | None = None
    gp_practice: GpPracticePublic | None = None
    education: EducationPublic | None = None
    responsible_authority: str | None = Field(default=None, description="Its ONS code.")
    responsible_authority_name: str | None = Field(
        default=None, description="Its name on the ONS list of English local authorities."
    )
    responsible_authority_contact: ContactPublic | None = Field(
        default=None,
        description="Its children's social care (in hours, secure email, out of hours), if "
        "it takes part in the index.",
    )
    involvements: list[InvolvementPublic] | None = None
    flags: list[FlagPublic] | None = Field(
        default=None,
        description="Active flags, each with the contact to call. A flag never carries the "
        "concern itself.",
    )
    mother: MotherPublic | None = Field(
        default=None,
        description="An unborn child's expectant mother (data managers only).",
    )
    provenance: dict[str, Provenance] | None = None
    version: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ChildSummary(BaseModel):
    """A search candidate: enough to tell children apart, no more (DOMAIN.md "Access").
    A shielded child's summary says only that it exists: open it for whom to contact."""

    child_id: uuid.UUID
    shielded: bool
    given_names: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    date_of_birth_precision: DatePrecision | None = None
    postcode_district: str | None = Field(
        default=None, description="Outward code of the current address."
    )
    explanation: dict[str, Any] | None = Field(
        default=None,
        description="How the match model scored this candidate: the prior (log2 odds that "
        "a candidate pair is the same child, before comparing), per field the level reached "
        "and its weight, and the total, which is the prior plus the weights (each rounded "
        "to 3 places); the model version.",
    )


class PossibleDuplicateProblem(BaseModel):
    """409 on a new record: the children it may be (RFC 9457 problem document)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    candidates: list[ChildSummary]


FIELD_GROUPS: tuple[str, ...] = tuple(
    name for name in ChildCreate.model_fields if name != "confirmed_distinct_from"
)


def provenance_for(fields: Any, organisation: str, when: datetime) -> dict[str, Any]:
    return {f: {"organisation": organisation, "confirmed_at": when.isoformat()} for f in fields}


class MergeCreate(BaseModel):
    """Merge the entry `merged_id` into the one addressed (the survivor, whose ETag goes
    in If-Match); `merged_version` is the merged entry's ETag value as last read, so
    neither entry's change since is lost."""

    model_config = ConfigDict(extra="forbid")

    merged_id: uuid.UUID
    merged_version: int = Field(ge=1, le=999_999_999)


class MergePublic(BaseModel):
    id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_at: datetime
    unmerged_at: datetime | None = None
    survivor_version: int = Field(description="the survivor's ETag value now")
    merged_version: int = Field(description="the merged entry's ETag value now")


class LegalHoldIn(BaseModel):
    """Why destruction is stopped (an inquiry's moratorium, a claim): one line."""

    model_config = ConfigDict(extra="forbid")

    reason: ShortText


class LegalHoldPublic(BaseModel):
    child_id: uuid.UUID
    held: bool
    reason: str | None = None
    set_at: datetime | None = None
    status: ChildStatus
    version: int = Field(
        description="The entry's version, also its `ETag`: send it as `If-Match` to set or "
        "lift the hold."
    )
