"""Tables for the child record. Names and addresses have their own tables because every
alias and every previous address is searched, not only the current ones."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class ChildStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    MERGED = "merged"  # merged into another entry (`merged_into`), which answers for it


class DatePrecision(StrEnum):
    EXACT = "exact"
    MONTH = "month"
    YEAR = "year"
    ESTIMATED = "estimated"


class NameKind(StrEnum):
    LEGAL = "legal"
    ALIAS = "alias"
    PREVIOUS = "previous"
    PREFERRED = "preferred"
    OTHER_SPELLING = "other_spelling"


class NhsNumberStatus(StrEnum):
    """How far the NHS number on a record is known to be this child's (UK Core's
    verification status, as CP-IS requires): only a verified one decides a match."""

    UNVERIFIED = "unverified"  # as typed or received, the check digit only
    VERIFIED_TRACE = "verified_trace"  # traced against the Personal Demographics Service
    TRUSTED_FEED = "trusted_feed"  # from an agency feed that sends traced numbers


class CarersStatus(StrEnum):
    KNOWN = "known"
    NONE = "none"
    UNKNOWN = "unknown"


class GpStatus(StrEnum):
    REGISTERED = "registered"
    NOT_REGISTERED = "not_registered"
    UNKNOWN = "unknown"


class EducationStatus(StrEnum):
    ATTENDING = "attending"
    NOT_OF_SCHOOL_AGE = "not_of_school_age"
    NOT_IN_EDUCATION = "not_in_education"
    UNKNOWN = "unknown"


def _child_fk() -> Any:
    return Column(Uuid, ForeignKey("child.id", ondelete="CASCADE"), nullable=False, index=True)


class Child(SQLModel, table=True):
    __tablename__ = "child"
    __table_args__ = (
        CheckConstraint("version > 0", name="ck_child_version_positive"),
        CheckConstraint("status IN ('active', 'archived', 'merged')", name="ck_child_status"),
        CheckConstraint(
            "(status = 'merged') = (merged_into IS NOT NULL)", name="ck_child_merged_into"
        ),
        # The scheduler's archive look-up (`children/retention.py`), every tick: active
        # entries by date of birth, never walking past the archived ones.
        Index("ix_child_active_born", "date_of_birth", postgresql_where=text("status = 'active'")),
        CheckConstraint(
            "nhs_number_status IN ('unverified', 'verified_trace', 'trusted_feed')",
            name="ck_child_nhs_number_status",
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: str = Field(default=ChildStatus.ACTIVE.value, max_length=16)
    date_of_birth: date = Field(sa_column=Column(Date, nullable=False, index=True))
    date_of_birth_precision: str = Field(max_length=16)
    nhs_number: str | None = Field(default=None, max_length=10, index=True)
    nhs_number_status: str = Field(default=NhsNumberStatus.UNVERIFIED.value, max_length=16)
    upn: str | None = Field(default=None, max_length=13, index=True)
    la_reference: str | None = Field(default=None, max_length=40)
    responsible_authority: str = Field(max_length=9, index=True)
    carers_status: str = Field(max_length=16)
    gp_status: str = Field(max_length=16)
    gp_ods_code: str | None = Field(default=None, max_length=8)
    gp_phone: str | None = Field(default=None, max_length=24)
    education_status: str = Field(max_length=24)
    school_urn: str | None = Field(default=None, max_length=8)
    school_phone: str | None = Field(default=None, max_length=24)
    shielded: bool = Field(default=False)
    version: int = Field(default=1)
    provenance: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    created_by_organisation: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Lifecycle (`children/lifecycle.py`): the entry this one was merged into; when it was
    # archived; a legal hold (an inquiry's moratorium), which stops its destruction.
    merged_into: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            Uuid, ForeignKey("child.id", name="fk_child_merged_into"), nullable=True, index=True
        ),
    )
    archived_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )
    legal_hold_reason: str | None = Field(default=None, max_length=200)
    legal_hold_by: str | None = Field(default=None, max_length=610)
    legal_hold_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


# The child's record fields on its own row: what a change writes (a feed's update,
# `feeds/writes.py`) and what a change's audit diff compares (merge and unmerge,
# `children/lifecycle.py`): identifiers and how far the NHS number is verified, the
# carers' status, GP practice and school. One list, so that a field added to the record is
# written by a feed and compared by a merge alike. Not here: date of birth and legal name
# (identity, not a feed's to change), the responsible authority (who owns the record).
RECORD_COLUMNS: tuple[str, ...] = (
    "nhs_number",
    "nhs_number_status",
    "upn",
    "la_reference",
    "carers_status",
    "gp_status",
    "gp_ods_code",
    "gp_phone",
    "education_status",
    "school_urn",
    "school_phone",
)
# The entry's fields compared for the audit row's diff of a merge or unmerge (lists
# without their row ids): the record's columns, its names, addresses and carers, and its
# status and shield.
DIFF_FIELDS = frozenset(
    {"status", "merged_into", "shielded", "names", "addresses", "carers", *RECORD_COLUMNS}
)


class ChildMerge(SQLModel, table=True):
    """One merge of two entries found to be one child, with everything needed to undo it:
    `snapshot` holds both entries as they were (rows with their ids) and the ids of the
    rows the survivor took over, so an unmerge restores both exactly. Deleted with the
    survivor when it is destroyed (the snapshot is personal data)."""

    __tablename__ = "child_merge"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    survivor_id: uuid.UUID = Field(sa_column=_child_fk())
    merged_id: uuid.UUID = Field(sa_column=_child_fk())
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    # The survivor's version the merge left: an unmerge over later changes is refused.
    survivor_version: int
    merged_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    merged_by: str = Field(max_length=610)
    unmerged_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    unmerged_by: str | None = Field(default=None, max_length=610)


class ChildTombstone(SQLModel, table=True):
    """What is left of a destroyed entry: its id (audit rows and alerts name it), the
    authority that was responsible, and when it was archived and destroyed. No personal
    data: the entry's row and everything about the child went at destruction."""

    __tablename__ = "child_tombstone"

    id: uuid.UUID = Field(primary_key=True)
    responsible_authority: str = Field(max_length=9)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    archived_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    destroyed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ChildName(SQLModel, table=True):
    """One name a child is known by. The `*_key` and `*_phonetic` columns are the matcher's
    blocking keys, computed by `matching/keys.py` whenever a name is written."""

    __tablename__ = "child_name"
    # The blocking rules' lookups (matching/blocking.py), each one composite index.
    __table_args__ = (
        Index("ix_child_name_born_family", "date_of_birth", "family_phonetic"),
        Index("ix_child_name_born_given", "date_of_birth", "given_key"),
        Index("ix_child_name_names", "family_phonetic", "given_key", "date_of_birth"),
        Index("ix_child_name_swapped", "given_phonetic", "family_phonetic"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(sa_column=_child_fk())
    kind: str = Field(max_length=16)
    given_names: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    position: int = Field(default=0)
    family_key: str = Field(default="", max_length=100)
    family_phonetic: str = Field(default="", max_length=40)
    given_key: str = Field(default="", max_length=100)
    given_phonetic: str = Field(default="", max_length=40)
    # The child's date of birth, copied here so that a blocking rule is one index lookup.
    date_of_birth: date = Field(sa_column=Column(Date, nullable=False))


class ChildAddress(SQLModel, table=True):
    __tablename__ = "child_address"
    __table_args__ = (
        Index("ix_child_address_postcode", "postcode"),
        # The front door's district lookup (`LIKE 'W5 %'`): a prefix needs pattern ops.
        Index(
            "ix_child_address_postcode_prefix",
            "postcode",
            postgresql_ops={"postcode": "text_pattern_ops"},
        ),
        CheckConstraint("uprn ~ '^[0-9]{1,12}$'", name="ck_child_address_uprn"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(sa_column=_child_fk())
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    town: str | None = Field(default=None, max_length=100)
    postcode: str = Field(max_length=8)
    # The Unique Property Reference Number, where the recording system knows it: the
    # surest way to tell that two addresses are the same dwelling (`matching/addresses`).
    uprn: str | None = Field(default=None, max_length=12)
    local_authority: str = Field(max_length=9)
    from_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    to_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class ChildMother(SQLModel, table=True):
    """The expectant mother of an unborn child on a pre-birth plan (DOMAIN.md: "unborn
    child protection plan ... mother's identity"). The plan is held against the child,
    but an enquiry at maternity or an emergency department is about the woman: this row
    is what such an enquiry is compared with (`enquiries/pre_birth.py`). Her address is
    the child's current address. Written only while the child is unborn; shown to the
    record's data managers only (`access/views.py`)."""

    __tablename__ = "child_mother"

    child_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("child.id", ondelete="CASCADE"), primary_key=True)
    )
    given_names: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date = Field(sa_column=Column(Date, nullable=False, index=True))
    nhs_number: str | None = Field(default=None, max_length=10, index=True)


class Carer(SQLModel, table=True):
    __tablename__ = "carer"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(sa_column=_child_fk())
    name: str = Field(max_length=200)
    relationship: str = Field(max_length=60)
    phone: str | None = Field(default=None, max_length=24)
    position: int = Field(default=0)


class ShieldedAccess(SQLModel, table=True):
    """Someone other than its data managers reached a shielded record. Kept so that the
    responsible authority's data manager is alerted (DOMAIN.md R7): `alerted_at` is set
    when the alert machinery has taken it."""

    __tablename__ = "shielded_access"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    child_id: uuid.UUID = Field(sa_column=_child_fk())
    responsible_authority: str = Field(max_length=9)
    accessed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=300)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    organisation_code: str = Field(max_length=16)
    action: str = Field(max_length=80)
    request_id: str = Field(max_length=64)
    alerted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )


class TermFrequency(SQLModel, table=True):
    """How many of the index's names (or addresses) carry a token: a folded first given
    name (`given`), a folded family name (`family`) or a postcode (`postcode`). Kept in
    step by the children service whenever names or addresses are written
    (`matching/frequencies.py`), read by model v4's term-frequency adjustment. Counts of
    a token only: nothing here says whose it is."""

    __tablename__ = "term_frequency"
    __table_args__ = (
        CheckConstraint("kind IN ('given', 'family', 'postcode')", name="ck_term_frequency_kind"),
    )

    kind: str = Field(primary_key=True, max_length=8)
    token: str = Field(primary_key=True, max_length=100)
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
