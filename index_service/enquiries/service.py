"""Enquiry service functions: the search with a purpose, what the rules say the enquirer
is told, the alerts it raises (R1 to R3), and opening one of its candidates (the second,
separately logged step, itself an enquiry about that child)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from index_service.access.need_to_know import match_scope, require_sufficient_criteria
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.access.scope import found_by_own_enquiry
from index_service.access.sensitive import WITHHELD_ORGANISATION, names_enquirers_organisation
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming, Occasion
from index_service.children import service as children
from index_service.children.entry import Entry, load_entry
from index_service.children.public import contact_of
from index_service.children.schemas import ChildPublic, ChildSummary
from index_service.children.summaries import explanation_of, summary_of
from index_service.common import utcnow
from index_service.enquiries import contacts
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import (
    EarlierEnquiryPublic,
    Enquiry,
    EnquiryContact,
    EnquiryCreate,
    EnquiryOutcome,
)
from index_service.errors import NotFound
from index_service.matching.contact_model import is_repeat, load_contact_model
from index_service.matching.records import Person
from index_service.matching.resolver import Outcome, resolve
from index_service.organisations.front_door import (
    FrontDoorPublic,
    authority_of_enquiry,
    front_door,
)
from index_service.organisations.models import Organisation
from index_service.reference.local_authorities import authority_name

NOT_EVIDENCE_OF_SAFETY = (
    "This is not evidence that the child is safe. If you are worried about a child, refer "
    "to children's social care of the local authority where the child lives (front_door)."
)
NOT_FOUND_ADVICE = f"No record was found. {NOT_EVIDENCE_OF_SAFETY}"
# A record with nothing on it is read as "no concern" as easily as no record (DOMAIN.md:
# "no entry means no concern"): the same warning.
NOTHING_RECORDED_ADVICE = (
    "A record was found, but no agency records a current involvement and no flag is "
    f"active. {NOT_EVIDENCE_OF_SAFETY}"
)
POSSIBLE_ADVICE = (
    "More than one child could be the one you mean, or none fits well enough: open the one "
    "you mean, or add what else you know (NHS number, postcode, other names)."
)


@dataclass(frozen=True)
class EnquiryPolicy:
    """The settings an enquiry runs under."""

    timing: AlertTiming
    contact_window: timedelta
    contact_retention_days: int


@dataclass
class EnquiryResult:
    enquiry: Enquiry
    summaries: list[ChildSummary]
    child: ChildPublic | None  # the entry, on a match only
    earlier: list[EarlierEnquiryPublic] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    # On `not_found`: the contact comparison, for the audit row (ids and scores only).
    contact_comparison: dict[str, Any] = field(default_factory=dict)
    front_door: FrontDoorPublic | None = None  # with the warning: whom to refer to


def make_enquiry(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    data: EnquiryCreate,
    request_id: str,
    policy: EnquiryPolicy,
) -> EnquiryResult:
    require_sufficient_criteria(data.model_dump())
    person = person_of(data, today=utcnow().date())
    resolution = resolve(session=session, person=person, scope=match_scope(caller))
    enquiry = Enquiry(
        issuer=caller.issuer,
        subject=caller.subject,
        organisation_id=caller.organisation_id,
        purpose=purpose.code.value,
        purpose_text=purpose.text,
        criteria=data.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        outcome=resolution.outcome.value,
        candidate_ids=[s.child_id for s in resolution.candidates],
        model_version=resolution.model_version,
        explanations=[explanation_of(s) for s in resolution.candidates],
    )
    matched = resolution.outcome == Outcome.MATCH
    entry = None
    if matched:  # the enquiry row is written by the statement that reads the entry
        entry = load_entry(
            session=session,
            child_id=resolution.candidates[0].child_id,
            child=resolution.candidates[0].stored.child,  # as the resolver read it
            write=(Enquiry.__table__, enquiry.model_dump()),  # type: ignore[attr-defined]
        )
    else:
        session.add(enquiry)
        session.flush()
    summaries = [
        summary_of(
            session=session,
            caller=caller,
            scored=s,
            action="child:enquiry:create",
            request_id=request_id,
        )
        for s in resolution.candidates
    ]
    result = EnquiryResult(enquiry=enquiry, summaries=summaries, child=None)
    occasion = alerts.occasion_of(caller=caller, purpose=purpose, enquiry_id=enquiry.id)
    if entry is not None:
        record = children.record_of(entry)
        result.child, result.alerts = _found(
            session, caller, entry, occasion, policy.timing, "child:enquiry:create", request_id
        )
        if nothing_recorded(result.child):
            where = _where_child_lives(record)
            result.front_door = FrontDoorPublic(
                authority_code=where,
                authority_name=authority_name(where),
                contact=contact_of(entry.authority_office(where)),
            )
    elif resolution.outcome == Outcome.NOT_FOUND:
        _unknown_child(session, caller, data, person, result, occasion, policy)
    return result


def _unknown_child(
    session: Session,
    caller: Principal,
    data: EnquiryCreate,
    person: Person,
    result: EnquiryResult,
    occasion: Occasion,
    policy: EnquiryPolicy,
) -> None:
    """The front door of where this enquiry says the child lives (`where`), and R3: keep
    an enquiry-only contact, or, when the enquirer already has one that matches, update
    it; tell the enquirer of earlier enquiries by others that match, and alert the
    designated managers (of the earlier contacts' authorities and of `where`) and the
    earlier enquirers. The enquirer's turn is taken in the round trip that looks `where`
    up, before the earlier contacts are read (`contacts.enquirers_turn`)."""
    where = authority_of_enquiry(
        session=session,
        lives_in=data.lives_in_local_authority,
        postcode=data.postcode,
        enquirer_authority=caller.local_authority,
        alongside=(contacts.enquirers_turn(caller),),
    )
    result.front_door = front_door(session=session, authority_code=where)
    model = load_contact_model()
    since = utcnow() - policy.contact_window
    mine: list[EnquiryContact] = []
    earlier: list[EnquiryContact] = []
    found = contacts.earlier_contacts(session=session, person=person, since=since, model=model)
    for m in found:
        if (m.contact.issuer, m.contact.subject) != (caller.issuer, caller.subject):
            earlier.append(m.contact)
        elif is_repeat(m.explanation):
            mine.append(m.contact)
    if mine:
        contact = contacts.seen_again(
            session=session,
            contact=mine[0],
            enquiry=result.enquiry,
            data=data,
            retention_days=policy.contact_retention_days,
            model_version=model.version,
        )
    else:
        contact = contacts.keep_contact(
            session=session,
            enquiry=result.enquiry,
            caller=caller,
            data=data,
            person=person,
            advice=NOT_FOUND_ADVICE,
            local_authority=where,
            retention_days=policy.contact_retention_days,
            model_version=model.version,
        )
    result.contact_comparison = {
        "enquiry_contact_id": str(contact.id),
        "repeat": bool(mine),
        "model_version": model.version,
        "matched": [
            {"enquiry_contact_id": str(m.contact.id), "total": round(m.total, 3)} for m in found
        ],
    }
    if not earlier:
        return  # a first enquiry (or its repeat): the contact is kept, nobody is alerted
    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(
                col(Organisation.id).in_({c.organisation_id for c in earlier})
            )
        ).all()
    }
    result.earlier = [_told(c, organisations[c.organisation_id]) for c in earlier]
    result.alerts = alerts.after_unknown_child(
        session=session,
        occasion=occasion,
        contact_id=contact.id,
        lives_in=where,
        earlier=earlier,
        timing=policy.timing,
    )


def _told(contact: EnquiryContact, organisation: Organisation) -> EarlierEnquiryPublic:
    withheld = not names_enquirers_organisation(organisation.type)
    return EarlierEnquiryPublic(
        enquired_at=contact.created_at,
        organisation_code=None if withheld else organisation.code,
        organisation_name=WITHHELD_ORGANISATION if withheld else organisation.name,
        enquirer_name=contact.enquirer_name,
        phone=None if withheld else organisation.contact_phone,
        email=contact.enquirer_email,
        purpose=contact.purpose,
    )


def nothing_recorded(child: ChildPublic | None) -> bool:
    """The caller sees the child's involvements and flags, and there are none. A view
    without them (a shielded record) names its contact instead and gets no warning, so
    the warning never tells what the view withholds."""
    return child is not None and child.involvements == [] and child.flags == []


def _where_child_lives(record: children.ChildRecord) -> str:
    current = [a.local_authority for a in record.addresses if a.to_date is None]
    return current[0] if current else record.child.responsible_authority


def advice_for(outcome: EnquiryOutcome, child: ChildPublic | None = None) -> str | None:
    if outcome == EnquiryOutcome.MATCH:
        return NOTHING_RECORDED_ADVICE if nothing_recorded(child) else None
    return {
        EnquiryOutcome.NOT_FOUND: NOT_FOUND_ADVICE,
        EnquiryOutcome.POSSIBLE_MATCHES: POSSIBLE_ADVICE,
    }.get(outcome)


def open_candidate(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    enquiry_id: uuid.UUID,
    child_id: uuid.UUID,
    open_minutes: int,
    request_id: str,
    timing: AlertTiming,
) -> tuple[ChildPublic, list[Alert]]:
    """A child the caller's own recent enquiry found, as the caller's role may see it, and
    the alerts that enquiry about this child raises (R1, R2). Someone else's enquiry, an
    old one, or a child it did not find: the same 404."""
    since = utcnow() - timedelta(minutes=open_minutes)
    enquiry = session.exec(
        select(Enquiry).where(
            col(Enquiry.id) == enquiry_id,
            found_by_own_enquiry(caller, child_id, since=since),
        )
    ).first()
    if enquiry is None:
        raise NotFound("no such child in your enquiry (enquiries can be opened for a while only)")
    entry = load_entry(session=session, child_id=child_id)
    occasion = alerts.occasion_of(caller=caller, purpose=purpose, enquiry_id=enquiry.id)
    return _found(session, caller, entry, occasion, timing, "child:enquiry:open", request_id)


def _found(
    session: Session,
    caller: Principal,
    entry: Entry,
    occasion: Occasion,
    timing: AlertTiming,
    action: str,
    request_id: str,
) -> tuple[ChildPublic, list[Alert]]:
    """An enquiry found this child: its entry as the caller may see it, and the alerts
    (R1, R2) the finding raises. The entry was read in one statement, for both."""
    child_id = entry.child.id
    known = alerts.KnownChild(
        involvements=entry.involvements,
        current_addresses=[a for a in entry.addresses if a.to_date is None],
        nearby=entry.nearby,
    )
    child = children.present(
        session=session,
        caller=caller,
        record=children.record_of(entry),
        action=action,
        request_id=request_id,
        entry=entry,
    )
    raised = alerts.after_child_enquired(
        session=session, occasion=occasion, child_id=child_id, timing=timing, known=known
    )
    return child, raised


def my_recent_enquiries(
    *, session: Session, caller: Principal, since: datetime, limit: int
) -> list[Enquiry]:
    """The caller's own enquiries since `since`, newest first: a practitioner follows up
    what they looked up. Scoped to the person (issuer and subject), never the team: a
    colleague's look-ups are theirs to account for."""
    return list(
        session.exec(
            select(Enquiry)
            .where(
                col(Enquiry.issuer) == caller.issuer,
                col(Enquiry.subject) == caller.subject,
                col(Enquiry.created_at) >= since,
            )
            .order_by(col(Enquiry.created_at).desc())
            .limit(limit)
        )
    )
