"""Enquiry-only contacts (DOMAIN.md R3): kept when an enquiry finds no record; compared
with later enquiries inside the window by the match model; listed and closed by the
designated managers of the authority concerned; destroyed when they expire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from index_service.access.inboxes import enquiry_contacts_for
from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import Enquiry, EnquiryContact, EnquiryCreate
from index_service.errors import Conflict, NotFound
from index_service.matching.keys import name_keys
from index_service.matching.model import MatchModel, score
from index_service.matching.records import Person


@dataclass(frozen=True)
class EarlierMatch:
    contact: EnquiryContact
    total: float


def keep_contact(
    *,
    session: Session,
    enquiry: Enquiry,
    caller: Principal,
    data: EnquiryCreate,
    person: Person,
    advice: str,
    retention_days: int,
) -> EnquiryContact:
    first = person.names[0] if person.names else None
    keys = name_keys(first.given, first.family) if first else None
    born = person.date_of_birth
    contact = EnquiryContact(
        enquiry_id=enquiry.id,
        issuer=caller.issuer,
        subject=caller.subject,
        enquirer_name=caller.name,
        enquirer_email=caller.email or None,
        organisation_id=caller.organisation_id,
        purpose=enquiry.purpose,
        purpose_text=enquiry.purpose_text,
        criteria=enquiry.criteria,
        advice=advice,
        local_authority=data.lives_in_local_authority or caller.local_authority,
        date_of_birth=born if person.date_of_birth_precision == "exact" else None,
        birth_year=born.year if born else None,
        family_key=(keys.family_key or None) if keys else None,
        given_key=(keys.given_key or None) if keys else None,
        nhs_number=person.nhs_number,
        created_at=enquiry.created_at,
        expires_at=enquiry.created_at + timedelta(days=retention_days),
    )
    session.add(contact)
    session.flush()
    return contact


def earlier_contacts(
    *, session: Session, person: Person, since: datetime, model: MatchModel
) -> list[EarlierMatch]:
    """Open, unexpired contacts since `since` that the model scores at or above its
    lower threshold against this enquiry, best first."""
    blocks = []
    if person.date_of_birth is not None:
        year = person.date_of_birth.year
        years = (year - 1, year, year + 1)
        if person.date_of_birth_precision == "exact":
            blocks.append(col(EnquiryContact.date_of_birth) == person.date_of_birth)
        for name in person.names:
            keys = name_keys(name.given, name.family)
            if keys.family_key:
                blocks.append(
                    (col(EnquiryContact.birth_year).in_(years))
                    & (col(EnquiryContact.family_key) == keys.family_key)
                )
            if keys.given_key:
                blocks.append(
                    (col(EnquiryContact.birth_year).in_(years))
                    & (col(EnquiryContact.given_key) == keys.given_key)
                )
    if person.nhs_number:
        blocks.append(col(EnquiryContact.nhs_number) == person.nhs_number)
    if not blocks:
        return []
    now = utcnow()
    found = session.exec(
        select(EnquiryContact)
        .where(or_(*blocks))
        .where(col(EnquiryContact.created_at) >= since)
        .where(col(EnquiryContact.expires_at) > now)
        .where(col(EnquiryContact.closed_at).is_(None))
        .limit(200)
    ).all()
    today = now.date()
    matches = []
    for contact in found:
        theirs = person_of(EnquiryCreate.model_validate(contact.criteria), today=today)
        total = score(model, person, theirs).total
        if total >= model.thresholds.possible:
            matches.append(EarlierMatch(contact, total))
    return sorted(matches, key=lambda m: (-m.total, m.contact.created_at))


def list_contacts(
    *, session: Session, caller: Principal, limit: int, before: datetime | None = None
) -> list[EnquiryContact]:
    """The open contacts the caller manages (`access/inboxes.enquiry_contacts_for`),
    newest first."""
    query = (
        select(EnquiryContact)
        .where(enquiry_contacts_for(caller))
        .where(col(EnquiryContact.closed_at).is_(None))
        .where(col(EnquiryContact.expires_at) > utcnow())
    )
    if before is not None:
        query = query.where(col(EnquiryContact.created_at) < before)
    query = query.order_by(col(EnquiryContact.created_at).desc()).limit(limit)
    return list(session.exec(query).all())


def close_contact(
    *, session: Session, caller: Principal, contact_id: uuid.UUID, reason: str
) -> EnquiryContact:
    contact = session.exec(
        select(EnquiryContact)
        .where(col(EnquiryContact.id) == contact_id)
        .where(enquiry_contacts_for(caller))
        .with_for_update()
    ).first()
    if contact is None:
        raise NotFound("no such enquiry-only contact in your authority")
    if contact.closed_at is not None:
        raise Conflict("this enquiry-only contact is already closed", code="already_closed")
    contact.closed_at = utcnow()
    contact.closed_by = f"{caller.issuer} {caller.subject}"
    contact.closed_reason = reason
    session.add(contact)
    session.flush()
    return contact


def destroy_expired(*, session: Session, now: datetime) -> int:
    """Delete every contact past its expiry; returns how many (logged without details)."""
    result = session.execute(delete(EnquiryContact).where(col(EnquiryContact.expires_at) <= now))
    return int(getattr(result, "rowcount", 0) or 0)
