"""The alert, its outbox rows (one per delivery channel and target), each delivery
attempt, and the webhook endpoints an administrator has allowed.

An alert carries no case detail (DOMAIN.md): who enquired or acted, from which
organisation, how to reach them, the stated purpose, when, and which child (by id). Email
and webhook deliveries carry even less: the alert's id only."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, ForeignKey, Index, Uuid, text
from sqlmodel import Field, SQLModel

from index_service.common import new_id, utcnow


class Rule(StrEnum):
    """The enquiry rules of DOMAIN.md, each alert under exactly one."""

    R1 = "R1"  # an enquiry about a child someone is working with
    R2 = "R2"  # an enquiry about a child at the address of a child on a protection plan
    R3 = "R3"  # a second enquiry about a child the index does not hold
    R4 = "R4"  # a flag raised or ended, an involvement started or ended
    R5 = "R5"  # the child moved to another authority
    R6 = "R6"  # an alert nobody acknowledged in time
    R7 = "R7"  # a shielded record was reached
    R8 = "R8"  # a flag passed its review date (issue 13; not one of DOMAIN.md's seven)


class Team(StrEnum):
    """Team inboxes of a local authority: whoever holds the role there reads them."""

    DESIGNATED_MANAGERS = "designated_managers"
    DATA_MANAGERS = "data_managers"


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_recipient", "recipient_issuer", "recipient_subject", "created_at"),
        Index("ix_alert_team", "recipient_team", "recipient_authority", "created_at"),
        Index("ix_alert_dedupe", "dedupe_key", "created_at"),
        Index(
            "ix_alert_due",
            "due_at",
            postgresql_where=text("acknowledged_at IS NULL AND escalated_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    rule: str = Field(max_length=4)
    reason: str = Field(max_length=60)
    child_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("child.id", ondelete="SET NULL"), nullable=True),
    )
    enquiry_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    enquiry_contact_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, nullable=True)
    )
    # The recipient: a practitioner (issuer + subject) or a team inbox of an authority.
    recipient_issuer: str | None = Field(default=None, max_length=300)
    recipient_subject: str | None = Field(default=None, max_length=300)
    recipient_name: str | None = Field(default=None, max_length=200)
    recipient_email: str | None = Field(default=None, max_length=254)
    recipient_team: str | None = Field(default=None, max_length=40)
    recipient_authority: str | None = Field(default=None, max_length=9)
    recipient_organisation_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("organisation.id"), nullable=True)
    )
    # Who enquired or acted, and how to reach them.
    actor_issuer: str | None = Field(default=None, max_length=300)
    actor_subject: str | None = Field(default=None, max_length=300)
    actor_name: str | None = Field(default=None, max_length=200)
    actor_organisation_code: str | None = Field(default=None, max_length=16)
    actor_organisation_name: str | None = Field(default=None, max_length=200)
    actor_phone: str | None = Field(default=None, max_length=24)
    actor_email: str | None = Field(default=None, max_length=254)
    # A sensitive service acted: the actor columns hold whom to contact instead (the
    # data managers of the child's authority), never the service or its practitioner.
    actor_sensitive: bool = Field(default=False)
    purpose: str | None = Field(default=None, max_length=40)
    purpose_text: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Who must say they have seen it by when (R6); escalations themselves have no due time.
    due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    acknowledged_by: str | None = Field(default=None, max_length=610)
    acknowledged_note: str | None = Field(default=None, max_length=200)
    escalated_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    escalation_of: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("alert.id"), nullable=True)
    )
    dedupe_key: str = Field(max_length=300)


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    ABANDONED = "abandoned"  # out of attempts, or the webhook endpoint is gone (410)


class AlertDelivery(SQLModel, table=True):
    """An outbox row: written in the same transaction as its alert, sent by a worker."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        Index(
            "ix_alert_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    alert_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("alert.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    channel: str = Field(max_length=16)
    email_to: str | None = Field(default=None, max_length=254)
    webhook_endpoint_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("webhook_endpoint.id"), nullable=True)
    )
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "alert_delivery_attempt"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    delivery_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("alert_delivery.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    attempted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    worker: str = Field(max_length=100)
    succeeded: bool
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=300)


class WebhookEndpoint(SQLModel, table=True):
    """An agency system's receiver, allowed by an administrator: the only URLs the
    service ever posts to."""

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organisation_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("organisation.id"), nullable=False, index=True)
    )
    url: str = Field(max_length=500)
    secret: str = Field(max_length=100)
    active: bool = Field(default=True)
    disabled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=610)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
