"""The serious-case-review report: for one child and a period, who looked, how often, from
which agencies, and which alerts were raised about the child, delivered and acknowledged,
with the looks in the order they happened. Read with the same scope clauses as every
auditor's report (`access/scope.py`): a child outside the auditor's scope is not found, an
event outside it is not shown (a local auditor sees no look by the operator's staff)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlmodel import Session, col

from index_service.access.principal import Principal
from index_service.access.scope import alerts_audited, children_audited
from index_service.alerts.models import Alert, AlertDelivery, DeliveryStatus
from index_service.audit import queries
from index_service.audit.actions import sentence
from index_service.audit.models import AuditEvent
from index_service.audit.reports import Window
from index_service.children.models import Child, ChildName
from index_service.errors import NotFound

MAX_EVENTS = 5000  # a review of one child: more than this is a case for the export


@dataclass(frozen=True)
class Look:
    occurred_at: datetime
    action: str
    outcome: str
    name: str | None
    organisation: str | None
    organisation_name: str | None
    purpose: str | None
    purpose_text: str | None
    request_id: str
    said: str  # the act in plain words (`audit/actions.py`), as the report prints it


@dataclass(frozen=True)
class AlertLine:
    rule: str
    reason: str
    raised_at: datetime
    recipient: str
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_note: str | None


@dataclass
class Review:
    child_id: uuid.UUID
    names: list[str]
    date_of_birth: date
    nhs_number: str | None
    responsible_authority: str
    window: Window
    looks: list[Look] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    truncated: bool = False

    @property
    def who(self) -> list[tuple[str, str, int]]:
        """(person, agency, how many events), most first."""
        counted = Counter(
            (look.name or "Unknown", look.organisation_name or look.organisation or "Unknown")
            for look in self.looks
        )
        return [(n, o, c) for (n, o), c in counted.most_common()]

    @property
    def agencies(self) -> list[str]:
        return sorted({a for _, a, _ in self.who})

    @property
    def people(self) -> int:
        return len(self.who)


def serious_case_review(
    *, session: Session, principal: Principal, child_id: uuid.UUID, window: Window
) -> Review:
    child = session.execute(
        select(Child).where(col(Child.id) == child_id, children_audited(principal))
    ).scalar_one_or_none()
    if child is None:
        raise NotFound("no such child in your audit scope", code="not_found")
    names = [
        f"{n.given_names} {n.family_name}"
        for n in session.execute(
            select(ChildName)
            .where(col(ChildName.child_id) == child_id)
            .order_by(col(ChildName.position))
        ).scalars()
    ]
    wanted = queries.EventFilter(child_id=child_id, since=window.since, until=window.until)
    events = list(
        session.execute(
            queries.selection(principal, wanted)
            .order_by(None)
            .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
            .limit(MAX_EVENTS + 1)
        ).scalars()
    )
    truncated = len(events) > MAX_EVENTS
    events = events[:MAX_EVENTS]
    orgs = queries.organisation_names(session, {e.organisation for e in events if e.organisation})
    review = Review(
        child_id=child_id,
        names=names,
        date_of_birth=child.date_of_birth,
        nhs_number=child.nhs_number,
        responsible_authority=child.responsible_authority,
        window=window,
        truncated=truncated,
        looks=[
            Look(
                occurred_at=e.occurred_at,
                action=e.action,
                outcome=e.outcome,
                name=e.actor_name,
                organisation=e.organisation,
                organisation_name=orgs.get(e.organisation or ""),
                purpose=e.purpose,
                purpose_text=e.purpose_text,
                request_id=e.request_id,
                said=sentence(e.action, e.outcome, e.detail),
            )
            for e in events
        ],
    )
    review.alerts = _alerts(session, principal, child_id, window)
    return review


def _alerts(
    session: Session, principal: Principal, child_id: uuid.UUID, window: Window
) -> list[AlertLine]:
    delivered = (
        select(func.min(col(AlertDelivery.delivered_at)))
        .where(
            col(AlertDelivery.alert_id) == col(Alert.id),
            col(AlertDelivery.status) == DeliveryStatus.DELIVERED.value,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Alert, delivered)
        .where(
            col(Alert.child_id) == child_id,
            alerts_audited(principal),
            window.over(Alert.occurred_at),
        )
        .order_by(col(Alert.occurred_at), col(Alert.id))
    ).all()
    return [
        AlertLine(
            rule=a.rule,
            reason=a.reason,
            raised_at=a.occurred_at,
            recipient=a.recipient_name or a.recipient_team or "a team inbox",
            delivered_at=when,
            acknowledged_at=a.acknowledged_at,
            acknowledged_note=a.acknowledged_note,
        )
        for a, when in rows
    ]


def has_child(session: Session, principal: Principal, child_id: uuid.UUID) -> bool:
    known = select(exists().where(col(Child.id) == child_id, children_audited(principal)))
    return bool(session.execute(known).scalar())
