"""Enquiry-only contacts (DOMAIN.md R3): kept when an enquiry finds no record, one per
enquirer and child (the same enquirer's repeats update it); compared with later
enquiries inside the window by the contact match model (`matching/contact_model.py`);
listed and closed by the designated managers of the authority concerned; destroyed when
they expire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, delete, func, literal, or_
from sqlmodel import Session, col, select

from index_service.access.inboxes import enquiry_contacts_for
from index_service.access.principal import Principal
from index_service.access.sensitive import WITHHELD_ORGANISATION, names_enquirers_organisation
from index_service.common import utcnow
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import (
    MAX_OTHER_NAMES,
    Enquiry,
    EnquiryContact,
    EnquiryContactPublic,
    EnquiryCreate,
)
from index_service.errors import Conflict, NotFound
from index_service.matching.contact_model import may_link
from index_service.matching.keys import name_keys
from index_service.matching.model import Explanation, MatchModel, score
from index_service.matching.records import Person, PersonName
from index_service.organisations.models import Organisation


@dataclass(frozen=True)
class EarlierMatch:
    contact: EnquiryContact
    explanation: Explanation

    @property
    def total(self) -> float:
        return self.explanation.total


def enquirers_turn(caller: Principal) -> ColumnElement[Any]:
    """One enquirer's not-found enquiries take their turn (a transaction-level advisory
    lock, to the end of the transaction), so two at once about one child make one
    contact, not two. An expression, to be evaluated in a statement of its own or with
    the front door's lookup (`front_door.authority_of_enquiry`), always *before*
    `earlier_contacts` reads: a statement sees what was committed when it began, so a
    read in the same statement as the wait could miss the contact that the enquiry it
    waited for committed meanwhile."""
    key = f"enquiry_contact:{caller.issuer}|{caller.subject}"
    return func.pg_advisory_xact_lock(func.hashtextextended(literal(key, String), 0))


def keep_contact(
    *,
    session: Session,
    enquiry: Enquiry,
    caller: Principal,
    data: EnquiryCreate,
    person: Person,
    advice: str,
    local_authority: str,
    retention_days: int,
    model_version: str,
) -> EnquiryContact:
    """`local_authority`: where the enquiry says the child lives
    (`organisations/front_door.authority_of_enquiry`), whose designated managers keep it."""
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
        local_authority=local_authority,
        date_of_birth=born if person.date_of_birth_precision == "exact" else None,
        birth_year=born.year if born else None,
        name_keys=_name_keys(person),
        nhs_number=person.nhs_number,
        model_version=model_version,
        created_at=enquiry.created_at,
        last_seen_at=enquiry.created_at,
        expires_at=enquiry.created_at + timedelta(days=retention_days),
    )
    session.add(contact)
    session.flush()
    return contact


def seen_again(
    *,
    session: Session,
    contact: EnquiryContact,
    enquiry: Enquiry,
    data: EnquiryCreate,
    retention_days: int,
    model_version: str,
) -> EnquiryContact:
    """The same enquirer asked again about the child of their own open contact: one
    contact, seen once more (R3), rather than one per repeat. Names it did not have are
    added to it; it is kept as long as this enquiry would have been."""
    names = _names_of(EnquiryCreate.model_validate(contact.criteria))
    had = {_folded(m) for m in names}
    added = [n for n in _names_of(data) if n.given and n.family and _folded(n) not in had]
    if added:
        criteria = dict(contact.criteria)
        other = list(criteria.get("other_names", []))
        room = MAX_OTHER_NAMES - len(other)
        other += [{"given_names": n.given, "family_name": n.family} for n in added[:room]]
        criteria["other_names"] = other
        contact.criteria = criteria
        keys = _name_keys(Person(names=tuple(names) + tuple(added[:room])))
        contact.name_keys = keys
    contact.last_seen_at = enquiry.created_at
    contact.enquiry_count += 1
    contact.expires_at = max(
        contact.expires_at, enquiry.created_at + timedelta(days=retention_days)
    )
    contact.model_version = model_version
    session.add(contact)
    session.flush()
    return contact


def earlier_contacts(
    *, session: Session, person: Person, since: datetime, model: MatchModel
) -> list[EarlierMatch]:
    """Open, unexpired contacts seen since `since` that the model scores at or above its
    lower threshold against this enquiry, best first. Blocked on the exact date of birth,
    the NHS number, or a birth year within one with any name key in common (an age read as
    a date is within a year of the true one, either side)."""
    blocks = []
    keys = _name_keys(person)
    if person.date_of_birth is not None:
        year = person.date_of_birth.year
        if person.date_of_birth_precision == "exact":
            blocks.append(col(EnquiryContact.date_of_birth) == person.date_of_birth)
        if keys:
            blocks.append(
                col(EnquiryContact.birth_year).in_((year - 1, year, year + 1))
                & col(EnquiryContact.name_keys).op("&&")(keys)  # overlaps
            )
    if person.nhs_number:
        blocks.append(col(EnquiryContact.nhs_number) == person.nhs_number)
    if not blocks:
        return []
    now = utcnow()
    found = session.exec(
        select(EnquiryContact)
        .where(or_(*blocks))
        .where(col(EnquiryContact.last_seen_at) >= since)
        .where(col(EnquiryContact.expires_at) > now)
        .where(col(EnquiryContact.closed_at).is_(None))
        .order_by(col(EnquiryContact.last_seen_at).desc())
        .limit(200)
    ).all()
    matches = []
    for contact in found:
        explanation = score(model, person, person_of_contact(contact))
        if explanation.total >= model.thresholds.possible and may_link(explanation):
            matches.append(EarlierMatch(contact, explanation))
    return sorted(matches, key=lambda m: (-m.total, m.contact.created_at))


def person_of_contact(contact: EnquiryContact) -> Person:
    """What the contact's enquirer gave, as the matcher compares it; an age is read on the
    day it was given."""
    criteria = EnquiryCreate.model_validate(contact.criteria)
    return person_of(criteria, today=contact.created_at.date())


def seem_same_child(model: MatchModel, a: Person, b: Person) -> bool:
    """Whether two enquirers seem to have meant the same child: as a later enquiry is
    linked to an earlier contact (`earlier_contacts`), at the model's lower threshold."""
    explanation = score(model, a, b)
    return explanation.total >= model.thresholds.possible and may_link(explanation)


def grouped(
    contacts: list[EnquiryContactPublic], model: MatchModel
) -> list[list[EnquiryContactPublic]]:
    """The contacts in groups, one per child they seem to be (linked through any pair
    that `seem_same_child`), each group newest first, groups by their newest contact."""
    people = [
        person_of(EnquiryCreate.model_validate(c.criteria), today=c.created_at.date())
        for c in contacts
    ]
    parent = list(range(len(contacts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(contacts)):
        for j in range(i + 1, len(contacts)):
            if root(i) != root(j) and seem_same_child(model, people[i], people[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[EnquiryContactPublic]] = {}
    for i, contact in enumerate(contacts):
        groups.setdefault(root(i), []).append(contact)
    ordered = [sorted(g, key=lambda c: c.last_seen_at, reverse=True) for g in groups.values()]
    return sorted(ordered, key=lambda g: g[0].last_seen_at, reverse=True)


def _names_of(data: EnquiryCreate) -> list[PersonName]:
    return list(person_of(data, today=utcnow().date()).names)


def _folded(name: PersonName) -> tuple[str, str]:
    keys = name_keys(name.given, name.family)
    return keys.given_key, keys.family_key


def _name_keys(person: Person) -> list[str]:
    """The folded first given name and family name of every name, once each."""
    keys: list[str] = []
    for name in person.names:
        for key in _folded(name):
            if key and key not in keys:
                keys.append(key)
    return keys


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


def public_of(*, session: Session, contact: EnquiryContact) -> EnquiryContactPublic:
    """A contact as its authority's designated managers see it; an enquirer from a
    sensitive service without their organisation, its phone or their words of purpose
    (`access/sensitive.py`)."""
    organisation = session.get(Organisation, contact.organisation_id)
    assert organisation is not None  # a contact's organisation is never removed
    named = names_enquirers_organisation(organisation.type)
    return EnquiryContactPublic(
        **contact.model_dump(exclude={"organisation_id", "purpose_text"}),
        organisation_code=organisation.code if named else None,
        organisation_name=organisation.name if named else WITHHELD_ORGANISATION,
        phone=organisation.contact_phone if named else None,
        email=contact.enquirer_email,
        purpose_text=contact.purpose_text if named else None,
    )
