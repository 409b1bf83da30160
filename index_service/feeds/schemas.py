"""API schemas of feeds, their reports, the review queue and the gap report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from index_service.children.quality import GapKind
from index_service.feeds.models import ReviewReason, ReviewStatus


class RowProblem(BaseModel):
    field: str
    detail: str


class FeedRowReport(BaseModel):
    row: int = Field(description="The row's number in the file (1: the first after the header).")
    source_record_id: str
    outcome: str = Field(
        description="created, updated, unchanged (sent before), queued_for_review, rejected"
    )
    child_id: uuid.UUID | None = Field(
        default=None, description="The index's id of the child created or updated."
    )
    fields: list[str] = Field(
        default_factory=list, description="The field groups the row supplied and the index took."
    )
    gaps: list[str] = Field(
        default_factory=list,
        description="What the row as sent leaves unknown (Laming R12), for the supplier to fill.",
    )
    problems: list[RowProblem] = Field(default_factory=list)


class FeedReportPublic(BaseModel):
    feed_id: uuid.UUID
    format: str
    counts: dict[str, int]
    rows: list[FeedRowReport]


class ReviewPublic(BaseModel):
    id: uuid.UUID
    feed_id: uuid.UUID
    organisation_code: str = Field(description="The organisation that sent the row.")
    source_record_id: str
    reason: ReviewReason = Field(description="Why the row waits for a decision.")
    record: dict[str, Any] = Field(
        description="The row as sent, in the child record's form; empty once resolved."
    )
    candidate_ids: list[uuid.UUID]
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    child_id: uuid.UUID | None = None


class ReviewList(BaseModel):
    total: int
    items: list[ReviewPublic]


class ReviewResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: ReviewStatus = Field(description="same_child, different_child or ignored")
    child_id: uuid.UUID | None = Field(
        default=None, description="For same_child: the candidate the row is about."
    )

    @model_validator(mode="after")
    def _decided(self) -> Self:
        if self.decision == ReviewStatus.OPEN:
            raise ValueError("decide: same_child, different_child or ignored")
        return self


class ChildGapsPublic(BaseModel):
    child_id: uuid.UUID
    given_names: str | None
    family_name: str | None
    gaps: list[GapKind]


class GapReportPublic(BaseModel):
    counts: dict[str, int] = Field(
        description="Children with each gap, and `children`: those with any."
    )
    total: int = Field(description="Children the list holds under the filter, on every page.")
    limit: int
    offset: int
    items: list[ChildGapsPublic]
