"""Raising alerts (with their outbox rows, in the caller's transaction), and reading and
acknowledging them. Repeats are suppressed here: the same rule, recipient, child and
actor inside the repeat window make one alert."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, text
from sqlmodel import Session, col, select

from index_service.access.inboxes import (
    alerts_for,
    has_team_inbox,
    own_alerts_for,
    team_alerts_for,
)
from index_service.access.principal import Principal
from index_service.access.sensitive import WITHHELD_ORGANISATION, ActorShown, actor_shown
from index_service.access.views import alert_names_child
from index_service.alerts.calendar import add_working_days
from index_service.alerts.models import (
    Alert,
    AlertDelivery,
    Channel,
    Team,
    WebhookEndpoint,
)
from index_service.alerts.rules import Actor, AlertDraft, Recipient
from index_service.children.models import Child, ChildName, NameKind
from index_service.common import utcnow
from index_service.errors import Forbidden, NotFound
from index_service.organisations.models import Organisation
from index_service.organisations.service import authority_contact


@dataclass(frozen=True)
class Occasion:
    """The event the alerts are about: who, why, when, and the enquiry if there was one."""

    actor: Actor | None
    occurred_at: datetime
    purpose: str | None = None
    purpose_text: str | None = None
    enquiry_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AlertTiming:
    repeat_window: timedelta
    acknowledge_working_days: int


def dedupe_key(draft: AlertDraft, actor: Actor | None) -> str:
    who = f"{actor.issuer}|{actor.subject}" if actor else "system"
    subject = draft.child_id or draft.enquiry_contact_id
    raw = f"{draft.rule.value}:{draft.reason}:{draft.recipient.key}:{subject}:{draft.about}:{who}"
    return hashlib.sha256(raw.encode()).hexdigest()


def raise_alerts(
    *, session: Session, drafts: list[AlertDraft], occasion: Occasion, timing: AlertTiming
) -> list[Alert]:
    """Store each alert not already raised inside the repeat window, with an outbox row
    per channel. Concurrent requests for the same alert are serialised on its key."""
    raised = []
    for draft in drafts:
        key = dedupe_key(draft, occasion.actor)
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )
        since = occasion.occurred_at - timing.repeat_window
        repeat = session.exec(
            select(func.count())
            .select_from(Alert)
            .where(col(Alert.dedupe_key) == key, col(Alert.created_at) >= since)
        ).one()
        if repeat:
            continue
        alert = _alert(session, draft, occasion, timing, key)
        session.add(alert)
        session.flush()
        _queue_deliveries(session, alert)
        raised.append(alert)
    return raised


_WITHHOLD = "_withhold_purpose_text"  # not a column: the actor was not shown in full


def _actor_columns(session: Session, draft: AlertDraft, actor: Actor | None) -> dict[str, Any]:
    """What the alert keeps of who acted, as `access/sensitive.py` decides: in full; the
    person without their organisation (a sensitive service enquiring); or, about a
    sensitive involvement, nobody: the data managers' contact (the children's social care
    of the child's responsible authority) in their place. Unless in full, the purpose's
    own words are kept back too: a sensitive service's could name it."""
    if actor is None:
        return {}
    shown = actor_shown(
        about_sensitive_involvement=draft.about_sensitive,
        actor_organisation_type=actor.organisation_type,
        actor_sensitive_with_child=actor.sensitive_with_child,
        to_data_managers=draft.recipient.team == Team.DATA_MANAGERS,
    )
    if shown is ActorShown.DATA_MANAGER:
        child = session.get(Child, draft.child_id) if draft.child_id else None
        contact = (
            authority_contact(session=session, local_authority=child.responsible_authority)
            if child
            else None
        )
        return {
            "actor_sensitive": True,
            "actor_organisation_code": contact.code if contact else None,
            "actor_organisation_name": contact.name if contact else None,
            "actor_phone": contact.contact_phone if contact else None,
            "actor_email": contact.contact_email if contact else None,
        }
    columns: dict[str, Any] = {
        "actor_issuer": actor.issuer,
        "actor_subject": actor.subject,
        "actor_name": actor.name,
        "actor_email": actor.email,
    }
    if shown is ActorShown.PERSON_ONLY:
        return {**columns, "actor_organisation_name": WITHHELD_ORGANISATION, _WITHHOLD: True}
    office = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    return {
        **columns,
        "actor_organisation_code": actor.organisation_code,
        "actor_organisation_name": office.name if office else None,
        "actor_phone": office.contact_phone if office else None,
    }


def _alert(
    session: Session, draft: AlertDraft, occasion: Occasion, timing: AlertTiming, key: str
) -> Alert:
    recipient = _with_organisation(session, draft.recipient)
    due = None
    if draft.escalates:
        due = add_working_days(occasion.occurred_at, timing.acknowledge_working_days)
    actor = _actor_columns(session, draft, occasion.actor)
    withheld = actor.pop(_WITHHOLD, False) or actor.get("actor_sensitive", False)
    purpose_text = None if withheld else occasion.purpose_text
    return Alert(
        rule=draft.rule.value,
        reason=draft.reason,
        child_id=draft.child_id,
        enquiry_id=occasion.enquiry_id,
        enquiry_contact_id=draft.enquiry_contact_id,
        recipient_issuer=recipient.issuer,
        recipient_subject=recipient.subject,
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        recipient_team=recipient.team.value if recipient.team else None,
        recipient_authority=recipient.authority,
        recipient_organisation_id=recipient.organisation_id,
        **actor,
        purpose=occasion.purpose,
        purpose_text=purpose_text,
        occurred_at=occasion.occurred_at,
        due_at=due,
        dedupe_key=key,
    )


def _with_organisation(session: Session, recipient: Recipient) -> Recipient:
    """A team inbox is reached through its authority's children's social care: its
    contact email, and its webhook endpoints."""
    if recipient.team is None or recipient.authority is None:
        return recipient
    office = authority_contact(session=session, local_authority=recipient.authority)
    if office is None:
        return recipient
    return Recipient(
        team=recipient.team,
        authority=recipient.authority,
        organisation_id=office.id,
        email=office.contact_email,
    )


def takes_part(session: Session, organisation_id: uuid.UUID | None) -> bool:
    """Whether an alert's recipient organisation still takes part: one an administrator
    deactivated is sent nothing, by email or webhook (its alerts stay in the index, where
    an unacknowledged one escalates to the authority's team, R6). An alert with no
    organisation (a team with no children's social care on the list) is not held back."""
    if organisation_id is None:
        return True
    organisation = session.get(Organisation, organisation_id)
    return organisation is None or organisation.active


def _queue_deliveries(session: Session, alert: Alert) -> None:
    """An outbox row per channel: the recipient's email, and each active webhook endpoint
    of their organisation; none at all to an organisation that no longer takes part."""
    if not takes_part(session, alert.recipient_organisation_id):
        return
    if alert.recipient_email:
        session.add(
            AlertDelivery(
                alert_id=alert.id, channel=Channel.EMAIL.value, email_to=alert.recipient_email
            )
        )
    if alert.recipient_organisation_id is not None:
        endpoints = session.exec(
            select(WebhookEndpoint.id).where(
                col(WebhookEndpoint.organisation_id) == alert.recipient_organisation_id,
                col(WebhookEndpoint.active).is_(True),
            )
        ).all()
        for endpoint_id in endpoints:
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    channel=Channel.WEBHOOK.value,
                    webhook_endpoint_id=endpoint_id,
                )
            )
    session.flush()


class Inbox(StrEnum):
    """Which of the caller's alerts: all they read, those addressed to them by name, or
    their teams' inboxes (`access/inboxes.py`)."""

    ALL = "all"
    OWN = "own"
    TEAMS = "teams"


def list_alerts(
    *,
    session: Session,
    caller: Principal,
    unacknowledged_only: bool,
    limit: int,
    before: datetime | None = None,
    inbox: Inbox = Inbox.ALL,
    rule: str | None = None,
    acknowledged: bool | None = None,
) -> list[Alert]:
    """Newest first. `acknowledged` (True/False) keeps only those that are (or are not);
    `rule` only those a rule raised. The team inbox is refused to a caller in no team."""
    if inbox is Inbox.TEAMS and not has_team_inbox(caller):
        raise Forbidden(
            "the team inbox is for the designated and data managers of a local authority",
            code="permission_denied",
        )
    whose = {
        Inbox.ALL: alerts_for,
        Inbox.OWN: own_alerts_for,
        Inbox.TEAMS: team_alerts_for,
    }[inbox](caller)
    query = select(Alert).where(whose)
    if unacknowledged_only or acknowledged is False:
        query = query.where(col(Alert.acknowledged_at).is_(None))
    elif acknowledged:
        query = query.where(col(Alert.acknowledged_at).is_not(None))
    if rule is not None:
        query = query.where(col(Alert.rule) == rule)
    if before is not None:
        query = query.where(col(Alert.created_at) < before)
    query = query.order_by(col(Alert.created_at).desc(), col(Alert.id)).limit(limit)
    return list(session.exec(query).all())


def get_alert(
    *, session: Session, caller: Principal, alert_id: uuid.UUID, for_update: bool = False
) -> Alert:
    query = select(Alert).where(col(Alert.id) == alert_id, alerts_for(caller))
    if for_update:
        query = query.with_for_update()
    alert = session.exec(query).first()
    if alert is None:
        raise NotFound("no such alert among yours or your teams'")
    return alert


def child_names(
    *, session: Session, caller: Principal, alerts: list[Alert]
) -> dict[uuid.UUID, str]:
    """The legal names of the alerts' children that this caller may be told
    (`access/views.alert_names_child`), by child id."""
    ids = {a.child_id for a in alerts if a.child_id is not None}
    return legal_names(session=session, child_ids=ids, visible=alert_names_child(caller))


def legal_names(
    *, session: Session, child_ids: set[uuid.UUID], visible: ColumnElement[bool]
) -> dict[uuid.UUID, str]:
    """The first legal name of each child among `child_ids` that `visible` (a clause of
    `access/views.py` over `child`) lets the caller be told, by child id."""
    ids = child_ids
    if not ids:
        return {}
    rows = session.exec(
        select(col(ChildName.child_id), col(ChildName.given_names), col(ChildName.family_name))
        .join(Child, col(Child.id) == col(ChildName.child_id))
        .where(
            col(ChildName.child_id).in_(ids),
            col(ChildName.kind) == NameKind.LEGAL.value,
            visible,
        )
        .order_by(col(ChildName.position))
    ).all()
    names: dict[uuid.UUID, str] = {}
    for child_id, given, family in rows:
        names.setdefault(child_id, f"{given} {family}")
    return names


def acknowledge(
    *, session: Session, caller: Principal, alert_id: uuid.UUID, note: str | None = None
) -> tuple[Alert, bool]:
    """Acknowledging twice is harmless: the first acknowledgement (and its note) stands.
    The alert, and whether this call acknowledged it (and so kept `note`)."""
    alert = get_alert(session=session, caller=caller, alert_id=alert_id, for_update=True)
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by = caller.actor
    alert.acknowledged_note = note
    session.add(alert)
    session.flush()
    return alert, True
