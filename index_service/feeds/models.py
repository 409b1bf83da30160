"""Tables of the feeds: one row per feed received, one per feed row applied (the row key
that makes a re-sent feed change nothing), and the review queue of rows the matcher could
not decide."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, Column, DateTime, Index, PrimaryKeyConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class ReviewStatus(StrEnum):
    OPEN = "open"
    SAME_CHILD = "same_child"
    DIFFERENT_CHILD = "different_child"
    IGNORED = "ignored"


class ReviewReason(StrEnum):
    """Why a feed row waits for a data manager (`feeds/service.py` decides; the review
    pages say each in plain words): like children on the index but none confidently; a
    confident match on a shielded record the sender may not see; a confident match on a
    child the sender may not change; a second row of one feed for one child."""

    POSSIBLE_MATCH = "possible_match"
    SHIELDED_RECORD = "shielded_record"
    OUTSIDE_YOUR_AUTHORITY = "outside_your_authority"
    SEVERAL_ROWS_FOR_ONE_CHILD = "several_rows_for_one_child"


class Feed(SQLModel, table=True):
    """A feed received: who sent it, in which format, and what became of its rows."""

    __tablename__ = "feed"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organisation_code: str = Field(max_length=16, index=True)
    format: str = Field(max_length=8)
    channel: str = Field(max_length=8)  # "api" or "cli"
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class FeedRowKey(SQLModel, table=True):
    """A feed row already taken: the supplying organisation, its own id for the record and
    a hash of the row's content. The same row sent again is recognised and left alone."""

    __tablename__ = "feed_row_key"
    __table_args__ = (
        PrimaryKeyConstraint("organisation_code", "source_record_id", "content_hash"),
    )

    organisation_code: str = Field(max_length=16)
    source_record_id: str = Field(max_length=64)
    content_hash: str = Field(max_length=64)
    feed_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    outcome: str = Field(max_length=24)
    child_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))


class FeedReview(SQLModel, table=True):
    """A feed row the matcher could not decide (possible matches, or a match on a shielded
    record the agency may not see in full): for the data managers of `responsible_authority`,
    the authority that decides it. For a row confidently matched to one child that is the
    child's responsible authority (its data managers alone may act on it, and only they may
    learn that it is shielded); otherwise the authority the row names as responsible.

    `record` is the row as sent, kept while the review is open and cleared when it is
    resolved (what an audit needs stays: the ids, the decision, who and when)."""

    __tablename__ = "feed_review"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'same_child', 'different_child', 'ignored')",
            name="ck_feed_review_status",
        ),
        Index("ix_feed_review_open", "responsible_authority", "status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    feed_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False, index=True))
    organisation_code: str = Field(max_length=16)
    source_record_id: str = Field(max_length=64)
    responsible_authority: str = Field(max_length=9)
    record: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    candidate_ids: list[uuid.UUID] = Field(sa_column=Column(ARRAY(Uuid), nullable=False))
    reason: str = Field(max_length=40)
    status: str = Field(default=ReviewStatus.OPEN.value, max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    resolved_by: str | None = Field(default=None, max_length=300)
    child_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
