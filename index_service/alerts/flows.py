"""Alerts as side effects of the work: each function gathers the facts one rule needs
from the database, asks the rule (`alerts/rules.py`) whom to alert, and raises the
alerts in the caller's transaction (`alerts/service.py`), so an alert exists exactly
when the work that caused it is committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.access.sensitive import involvement_is_sensitive
from index_service.alerts import rules
from index_service.alerts.models import Alert
from index_service.alerts.rules import Actor, AlertDraft, Neighbour, Recipient, Worker
from index_service.alerts.service import AlertTiming, Occasion, raise_alerts
from index_service.children.entry import Nearby
from index_service.children.models import Child, ChildAddress, ShieldedAccess
from index_service.common import utcnow
from index_service.enquiries.models import EnquiryContact
from index_service.flags.models import Flag, FlagKind
from index_service.involvements.models import Involvement
from index_service.involvements.queries import current_involvements
from index_service.matching.addresses import AddressText, postcode_key, same_address
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
        organisation_type=caller.organisation_type,
    )


def worker_of(involvement: Involvement, organisation: Organisation) -> Worker:
    return Worker(
        issuer=involvement.practitioner_issuer,
        subject=involvement.practitioner_subject,
        name=involvement.practitioner_name,
        email=involvement.practitioner_email,
        organisation_id=involvement.organisation_id,
        is_key_worker=involvement.is_key_worker,
        is_lead_professional=involvement.is_lead_professional,
        is_allocated_worker=involvement.is_allocated_worker,
        sensitive=involvement_is_sensitive(
            marked=involvement.sensitive, organisation_type=organisation.type
        ),
        authority=organisation.local_authority,
        involvement_id=involvement.id,
    )


@dataclass(frozen=True)
class KnownChild:
    """What an enquiry's unit of work has already read of the child it found."""

    involvements: list[tuple[Involvement, Organisation]]
    current_addresses: list[ChildAddress]
    # The children on a plan at its current postcodes, if read with the entry (R2).
    nearby: list[Nearby] | None = None


def workers_of(
    *,
    session: Session,
    child_id: uuid.UUID,
    involvements: list[tuple[Involvement, Organisation]] | None = None,
) -> list[Worker]:
    """The child's current workers (`involvements`: as this unit of work read them)."""
    if involvements is None:
        involvements = current_involvements(session=session, child_id=child_id)
    return [worker_of(i, o) for i, o in involvements]


def _address_of(row: ChildAddress) -> AddressText:
    return AddressText(line1=row.line1, line2=row.line2, postcode=row.postcode, uprn=row.uprn)


def neighbours_on_plan(
    *,
    session: Session,
    child_id: uuid.UUID,
    current: list[ChildAddress] | None = None,
    nearby: list[Nearby] | None = None,
) -> list[Neighbour]:
    """Other children whose current address is this child's current address and who have
    an active child protection plan, with their key workers. "The same address" is
    `matching.addresses.same_address` (the UPRN where both have one, else the lines
    however written): the current addresses at the same postcode are loaded (indexed)
    and compared here. `nearby`: those addresses with their key workers, as the entry's
    statement read them (`children/entry.py`), so that nothing is read here."""
    if current is None:  # else: the child's current addresses, as this unit of work read them
        current = list(
            session.exec(
                select(ChildAddress).where(
                    col(ChildAddress.child_id) == child_id, col(ChildAddress.to_date).is_(None)
                )
            ).all()
        )
    here = [_address_of(row) for row in current]
    if not here:
        return []
    if nearby is None:
        on_plan = exists().where(
            col(Flag.child_id) == col(ChildAddress.child_id),
            col(Flag.kind) == FlagKind.CHILD_PROTECTION_PLAN.value,
            col(Flag.ended_at).is_(None),
        )
        rows = session.exec(
            select(ChildAddress, col(Child.responsible_authority))
            .join(Child, col(Child.id) == col(ChildAddress.child_id))
            .where(
                col(ChildAddress.postcode).in_({postcode_key(a.postcode) for a in here}),
                col(ChildAddress.to_date).is_(None),
                col(ChildAddress.child_id) != child_id,
                on_plan,
            )
        ).all()
        candidates = [(row, authority) for row, authority in rows]
    else:
        candidates = [(n.address, n.responsible_authority) for n in nearby]
    found = {
        row.child_id: authority
        for row, authority in candidates
        if any(same_address(_address_of(row), address) for address in here)
    }
    return [
        Neighbour(
            child_id=other_id,
            responsible_authority=authority,
            key_workers=tuple(
                w
                for w in (
                    workers_of(session=session, child_id=other_id)
                    if nearby is None
                    else _key_workers_read(nearby, other_id)
                )
                if w.is_key_worker
            ),
        )
        for other_id, authority in sorted(found.items(), key=lambda item: str(item[0]))
    ]


def _key_workers_read(nearby: list[Nearby], child_id: uuid.UUID) -> list[Worker]:
    """A neighbour's key workers as the entry's statement read them (once per child,
    whichever of its addresses is at the postcode)."""
    first = next(n for n in nearby if n.address.child_id == child_id)
    return [worker_of(i, o) for i, o in first.key_workers]


def _as_seen_beside(occasion: Occasion, workers: list[Worker]) -> Occasion:
    """An actor whose organisation holds a sensitive involvement with the child is shown
    as a sensitive service's (`access/sensitive.py`), in every rule they appear in."""
    actor = occasion.actor
    if actor is None or not any(
        w.sensitive and w.organisation_id == actor.organisation_id for w in workers
    ):
        return occasion
    return replace(occasion, actor=replace(actor, sensitive_with_child=True))


def _raise(
    session: Session, drafts: list[AlertDraft], occasion: Occasion, timing: AlertTiming
) -> list[Alert]:
    return raise_alerts(session=session, drafts=drafts, occasion=occasion, timing=timing)


def after_child_enquired(
    *,
    session: Session,
    occasion: Occasion,
    child_id: uuid.UUID,
    timing: AlertTiming,
    known: KnownChild | None = None,
) -> list[Alert]:
    """R1 and R2: an enquiry found (or opened) this child. An enquirer whose organisation
    holds a sensitive involvement with the child is shown as a sensitive service's.
    `known`: what the enquiry already read of the child, so it is not read again."""
    workers = workers_of(
        session=session, child_id=child_id, involvements=known.involvements if known else None
    )
    occasion = _as_seen_beside(occasion, workers)
    assert occasion.actor is not None
    drafts = rules.r1_enquiry_about_known_child(
        actor=occasion.actor, child_id=child_id, workers=workers
    ) + rules.r2_enquiry_at_plan_address(
        actor=occasion.actor,
        child_id=child_id,
        neighbours=neighbours_on_plan(
            session=session,
            child_id=child_id,
            current=known.current_addresses if known else None,
            nearby=known.nearby if known else None,
        ),
    )
    return _raise(session, drafts, occasion, timing)


def after_unknown_child(
    *,
    session: Session,
    occasion: Occasion,
    contact_id: uuid.UUID,
    lives_in: str,
    earlier: list[EnquiryContact],
    timing: AlertTiming,
) -> list[Alert]:
    """R3: an enquiry found no record but matched others' earlier enquiry-only contacts.
    `contact_id`: the enquirer's own contact (new, or the one their repeats update);
    `lives_in`: where this enquiry says the child lives, else the enquirer's authority."""
    assert occasion.actor is not None
    drafts = rules.r3_second_enquiry(
        actor=occasion.actor,
        contact_id=contact_id,
        lives_in=lives_in,
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
    about_sensitive: bool = False,
) -> list[Alert]:
    """R4: a flag raised or ended, an involvement started or ended."""
    workers = workers_of(session=session, child_id=child_id)
    occasion = _as_seen_beside(occasion, workers)
    assert occasion.actor is not None
    drafts = rules.r4_change_to_child(
        actor=occasion.actor,
        child_id=child_id,
        reason=reason,
        about=str(about),
        workers=workers,
        about_sensitive=about_sensitive,
    )
    return _raise(session, drafts, occasion, timing)


def after_lifecycle(
    *,
    session: Session,
    occasion: Occasion,
    child_id: uuid.UUID,
    reason: str,
    about: uuid.UUID,
    timing: AlertTiming,
) -> list[Alert]:
    """R4 for the entry itself: merged, unmerged or archived (`rules.r4_record_lifecycle`).
    The workers are the child's current involvements as the change left them."""
    workers = workers_of(session=session, child_id=child_id)
    drafts = rules.r4_record_lifecycle(
        actor=occasion.actor, child_id=child_id, reason=reason, about=str(about), workers=workers
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
            organisation_type=organisation.type if organisation else "",
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


def alert_flags_past_review(
    *, session: Session, now: datetime, timing: AlertTiming, limit: int = 100
) -> list[Alert]:
    """R8: each active flag past its review date, not yet alerted for that date, alerts
    its raiser and the data managers of the child's responsible authority. Claimed with
    SKIP LOCKED and marked with the review date, so a flag reviewed to a new date that
    then passes too is alerted again, and never twice for one date."""
    today = now.date()
    rows = session.exec(
        select(Flag, Child)
        .join(Child, col(Child.id) == col(Flag.child_id))
        .where(
            col(Flag.ended_at).is_(None),
            col(Flag.review_date) < today,
            or_(
                col(Flag.overdue_alerted_for).is_(None),
                col(Flag.overdue_alerted_for) != col(Flag.review_date),
            ),
        )
        .order_by(col(Flag.review_date), col(Flag.id))
        .limit(limit)
        .with_for_update(of=Flag, skip_locked=True)
    ).all()
    raised: list[Alert] = []
    for flag, child in rows:
        assert flag.review_date is not None
        drafts = rules.r8_flag_past_review(
            flag_id=flag.id,
            child_id=flag.child_id,
            review_date=flag.review_date,
            raiser=Recipient(
                issuer=flag.raised_by_issuer,
                subject=flag.raised_by_subject,
                organisation_id=flag.organisation_id,
            ),
            responsible_authority=child.responsible_authority,
        )
        raised += _raise(session, drafts, Occasion(actor=None, occurred_at=now), timing)
        flag.overdue_alerted_for = flag.review_date
        session.add(flag)
    session.flush()
    return raised


def after_expectant_mother_enquired(
    *, session: Session, occasion: Occasion, child_id: uuid.UUID, timing: AlertTiming
) -> list[Alert]:
    """R1 for an unborn child found through an enquiry about its expectant mother: the
    key worker (and any allocated worker or lead professional) hears of it, as for an
    enquiry about a known child. R2 does not apply: the enquiry is about the woman, not a
    child at an address."""
    workers = workers_of(session=session, child_id=child_id)
    occasion = _as_seen_beside(occasion, workers)
    assert occasion.actor is not None
    drafts = rules.r1_enquiry_about_known_child(
        actor=occasion.actor, child_id=child_id, workers=workers
    )
    return _raise(session, drafts, occasion, timing)
