"""Alerts as side effects of the work: each function gathers the facts one rule needs
from the database, asks the rule (`alerts/rules.py`) whom to alert, and raises the
alerts in the caller's transaction (`alerts/service.py`), so an alert exists exactly
when the work that caused it is committed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.alerts import rules
from index_service.alerts.models import Alert
from index_service.alerts.rules import Actor, AlertDraft, Neighbour, Worker
from index_service.alerts.service import AlertTiming, Occasion, raise_alerts
from index_service.children.models import Child, ChildAddress, ShieldedAccess
from index_service.common import utcnow
from index_service.enquiries.models import EnquiryContact
from index_service.flags.models import Flag, FlagKind
from index_service.involvements.models import Involvement
from index_service.involvements.queries import current_involvements
from index_service.organisations.models import Organisation
from index_service.settings import Settings


def timing_of(settings: Settings) -> AlertTiming:
    return AlertTiming(
        repeat_window=timedelta(hours=settings.alert_repeat_window_hours),
        acknowledge_working_days=settings.alert_acknowledge_working_days,
    )


def actor_of(caller: Principal) -> Actor:
    return Actor(
        issuer=caller.issuer,
        subject=caller.subject,
        name=caller.name,
        email=caller.email or None,
        organisation_id=caller.organisation_id,
        organisation_code=caller.organisation_code,
    )


def worker_of(involvement: Involvement) -> Worker:
    return Worker(
        issuer=involvement.practitioner_issuer,
        subject=involvement.practitioner_subject,
        name=involvement.practitioner_name,
        email=involvement.practitioner_email,
        organisation_id=involvement.organisation_id,
        is_key_worker=involvement.is_key_worker,
        is_lead_professional=involvement.is_lead_professional,
    )


def workers_of(*, session: Session, child_id: uuid.UUID) -> list[Worker]:
    return [worker_of(i) for i, _ in current_involvements(session=session, child_id=child_id)]


def _normalised_line(column: object) -> object:
    return func.lower(func.regexp_replace(column, "[^A-Za-z0-9]", "", "g"))


def neighbours_on_plan(*, session: Session, child_id: uuid.UUID) -> list[Neighbour]:
    """Other children whose current address is this child's current address (same postcode
    and first line, ignoring case and punctuation) and who have an active child protection
    plan, with their key workers."""
    here = aliased(ChildAddress)
    there = aliased(ChildAddress)
    on_plan = exists().where(
        col(Flag.child_id) == col(there.child_id),
        col(Flag.kind) == FlagKind.CHILD_PROTECTION_PLAN.value,
        col(Flag.ended_at).is_(None),
    )
    rows = session.exec(
        select(col(there.child_id), col(Child.responsible_authority))
        .join(here, and_(col(here.postcode) == col(there.postcode)))
        .join(Child, col(Child.id) == col(there.child_id))
        .where(
            col(here.child_id) == child_id,
            col(here.to_date).is_(None),
            col(there.to_date).is_(None),
            col(there.child_id) != child_id,
            _normalised_line(col(here.line1)) == _normalised_line(col(there.line1)),
            on_plan,
        )
        .distinct()
    ).all()
    return [
        Neighbour(
            child_id=other_id,
            responsible_authority=authority,
            key_workers=tuple(
                w for w in workers_of(session=session, child_id=other_id) if w.is_key_worker
            ),
        )
        for other_id, authority in rows
    ]


def _raise(
    session: Session, drafts: list[AlertDraft], occasion: Occasion, timing: AlertTiming
) -> list[Alert]:
    return raise_alerts(session=session, drafts=drafts, occasion=occasion, timing=timing)


def after_child_enquired(
    *, session: Session, occasion: Occasion, child_id: uuid.UUID, timing: AlertTiming
) -> list[Alert]:
    """R1 and R2: an enquiry found (or opened) this child."""
    assert occasion.actor is not None
    drafts = rules.r1_enquiry_about_known_child(
        actor=occasion.actor,
        child_id=child_id,
        workers=workers_of(session=session, child_id=child_id),
    ) + rules.r2_enquiry_at_plan_address(
        actor=occasion.actor,
        child_id=child_id,
        neighbours=neighbours_on_plan(session=session, child_id=child_id),
    )
    return _raise(session, drafts, occasion, timing)


def after_unknown_child(
    *,
    session: Session,
    occasion: Occasion,
    contact_id: uuid.UUID,
    earlier: list[EnquiryContact],
    timing: AlertTiming,
) -> list[Alert]:
    """R3: an enquiry found no record but matched others' earlier enquiry-only contacts."""
    assert occasion.actor is not None
    drafts = rules.r3_second_enquiry(
        actor=occasion.actor,
        contact_id=contact_id,
        earlier=[
            rules.EarlierContact(
                contact_id=c.id,
                enquirer=Worker(
                    issuer=c.issuer,
                    subject=c.subject,
                    name=c.enquirer_name,
                    email=c.enquirer_email,
                    organisation_id=c.organisation_id,
                ),
                local_authority=c.local_authority,
            )
            for c in earlier
        ],
    )
    return _raise(session, drafts, occasion, timing)


def after_change_to_child(
    *,
    session: Session,
    occasion: Occasion,
    child_id: uuid.UUID,
    reason: str,
    about: uuid.UUID,
    timing: AlertTiming,
) -> list[Alert]:
    """R4: a flag raised or ended, an involvement started or ended."""
    assert occasion.actor is not None
    drafts = rules.r4_change_to_child(
        actor=occasion.actor,
        child_id=child_id,
        reason=reason,
        about=str(about),
        workers=workers_of(session=session, child_id=child_id),
    )
    return _raise(session, drafts, occasion, timing)


def after_move(
    *,
    session: Session,
    occasion: Occasion,
    child_id: uuid.UUID,
    from_authority: str | None,
    to_authority: str | None,
    timing: AlertTiming,
    shielded_for: str | None = None,
) -> list[Alert]:
    """R5: the child's current address is now in another authority."""
    assert occasion.actor is not None
    drafts = rules.r5_moved_authority(
        actor=occasion.actor,
        child_id=child_id,
        from_authority=from_authority,
        to_authority=to_authority,
        workers=workers_of(session=session, child_id=child_id),
        shielded_for=shielded_for,
    )
    return _raise(session, drafts, occasion, timing)


def after_shielded_access(
    *,
    session: Session,
    occasion: Occasion,
    child_id: uuid.UUID,
    responsible_authority: str,
    timing: AlertTiming,
) -> list[Alert]:
    """R7: someone other than its data managers reached a shielded record."""
    assert occasion.actor is not None
    drafts = rules.r7_shielded_record_reached(
        actor=occasion.actor, child_id=child_id, responsible_authority=responsible_authority
    )
    return _raise(session, drafts, occasion, timing)


def escalate_overdue(
    *, session: Session, now: datetime, timing: AlertTiming, limit: int = 100
) -> list[Alert]:
    """R6: every alert past its time and not acknowledged goes, once, to the designated
    managers of the responsible authority. Rows are claimed with SKIP LOCKED, so several
    schedulers never escalate one alert twice."""
    overdue = session.exec(
        select(Alert)
        .where(
            col(Alert.due_at) <= now,
            col(Alert.acknowledged_at).is_(None),
            col(Alert.escalated_at).is_(None),
        )
        .order_by(col(Alert.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    raised: list[Alert] = []
    for alert in overdue:
        authority = _responsible_authority(session, alert)
        alert.escalated_at = now
        session.add(alert)
        if authority is None:
            continue
        drafts = rules.r6_not_acknowledged(
            alert_id=alert.id, child_id=alert.child_id, responsible_authority=authority
        )
        occasion = Occasion(actor=None, occurred_at=now, enquiry_id=alert.enquiry_id)
        for escalation in _raise(session, drafts, occasion, timing):
            escalation.escalation_of = alert.id
            escalation.enquiry_contact_id = alert.enquiry_contact_id
            session.add(escalation)
            raised.append(escalation)
    session.flush()
    return raised


def _responsible_authority(session: Session, alert: Alert) -> str | None:
    if alert.child_id is not None:
        child = session.get(Child, alert.child_id)
        if child is not None:
            return child.responsible_authority
    if alert.enquiry_contact_id is not None:
        contact = session.get(EnquiryContact, alert.enquiry_contact_id)
        if contact is not None:
            return contact.local_authority
    return alert.recipient_authority


def occasion_of(
    *, caller: Principal, purpose: Purpose | None, enquiry_id: uuid.UUID | None = None
) -> Occasion:
    """The occasion of alerts raised by the caller's request, now."""
    return Occasion(
        actor=actor_of(caller),
        occurred_at=utcnow(),
        purpose=purpose.code.value if purpose else None,
        purpose_text=purpose.text if purpose else None,
        enquiry_id=enquiry_id,
    )


def alert_shielded_accesses(
    *, session: Session, now: datetime, timing: AlertTiming, limit: int = 100
) -> list[Alert]:
    """R7: each access to a shielded record, kept in the request that made it
    (`children/service.note_shielded_access`), becomes an alert to the data managers of
    the responsible authority. Claimed with SKIP LOCKED; marked once taken."""
    accesses = session.exec(
        select(ShieldedAccess)
        .where(col(ShieldedAccess.alerted_at).is_(None))
        .order_by(col(ShieldedAccess.accessed_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    raised: list[Alert] = []
    for access in accesses:
        organisation = session.exec(
            select(Organisation).where(col(Organisation.code) == access.organisation_code)
        ).first()
        actor = Actor(
            issuer=access.issuer,
            subject=access.subject,
            name=access.name or access.subject,
            email=access.email,
            organisation_id=organisation.id if organisation else None,
            organisation_code=access.organisation_code,
        )
        raised += _raise(
            session,
            rules.r7_shielded_record_reached(
                actor=actor,
                child_id=access.child_id,
                responsible_authority=access.responsible_authority,
            ),
            Occasion(actor=actor, occurred_at=access.accessed_at),
            timing,
        )
        access.alerted_at = now
        session.add(access)
    session.flush()
    return raised
