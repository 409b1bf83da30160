"""Enquiry service functions: the search with a purpose, and opening one of its
candidates (the second, separately logged step)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from index_service.access.need_to_know import require_sufficient_criteria
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.children import service as children
from index_service.children.schemas import ChildPublic, ChildSummary
from index_service.children.summaries import explanation_of, summary_of
from index_service.common import utcnow
from index_service.enquiries.models import Enquiry, EnquiryCreate, EnquiryOutcome
from index_service.errors import NotFound
from index_service.matching.normalise import approximate_date_of_birth
from index_service.matching.records import Person, PersonName
from index_service.matching.resolver import Outcome, resolve

NOT_FOUND_ADVICE = (
    "No record was found. This is not evidence that the child is safe. If you are worried "
    "about a child, refer to children's social care of the local authority where the child "
    "lives."
)
POSSIBLE_ADVICE = (
    "More than one child could be the one you mean, or none fits well enough: open the one "
    "you mean, or add what else you know (NHS number, postcode, other names)."
)


@dataclass(frozen=True)
class EnquiryResult:
    enquiry: Enquiry
    summaries: list[ChildSummary]
    child: ChildPublic | None  # the entry, on a match only


def person_of(data: EnquiryCreate, *, today: date) -> Person:
    names = []
    if data.family_name or data.given_names:
        names.append(PersonName(data.given_names or "", data.family_name or ""))
    names.extend(PersonName(n.given_names, n.family_name) for n in data.other_names)
    approximate = approximate_date_of_birth(
        year_of_birth=data.year_of_birth, age_years=data.age_years, today=today
    )
    born, precision = approximate or (data.date_of_birth, "exact")
    return Person(
        names=tuple(names),
        date_of_birth=born,
        date_of_birth_precision=precision,
        postcodes=(data.postcode,) if data.postcode else (),
        nhs_number=data.nhs_number,
        upn=data.upn,
    )


def make_enquiry(
    *, session: Session, caller: Principal, purpose: Purpose, data: EnquiryCreate, request_id: str
) -> EnquiryResult:
    require_sufficient_criteria(data.model_dump())
    resolution = resolve(session=session, person=person_of(data, today=utcnow().date()))
    explanations = [explanation_of(s) for s in resolution.candidates]
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
        explanations=explanations,
    )
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
    child = None
    if resolution.outcome == Outcome.MATCH:
        record = children.load_record(session=session, child_id=resolution.candidates[0].child_id)
        child = children.present(
            session=session,
            caller=caller,
            record=record,
            action="child:enquiry:create",
            request_id=request_id,
        )
    return EnquiryResult(enquiry=enquiry, summaries=summaries, child=child)


def advice_for(outcome: EnquiryOutcome) -> str | None:
    return {
        EnquiryOutcome.NOT_FOUND: NOT_FOUND_ADVICE,
        EnquiryOutcome.POSSIBLE_MATCHES: POSSIBLE_ADVICE,
    }.get(outcome)


def open_candidate(
    *,
    session: Session,
    caller: Principal,
    enquiry_id: uuid.UUID,
    child_id: uuid.UUID,
    open_minutes: int,
    request_id: str,
) -> ChildPublic:
    """A child the caller's own recent enquiry found, as the caller's role may see it.
    Someone else's enquiry, an old one, or a child it did not find: the same 404."""
    since = utcnow() - timedelta(minutes=open_minutes)
    enquiry = session.exec(
        select(Enquiry)
        .where(Enquiry.id == enquiry_id)
        .where(Enquiry.issuer == caller.issuer)
        .where(Enquiry.subject == caller.subject)
        .where(col(Enquiry.created_at) >= since)
    ).first()
    if enquiry is None or child_id not in enquiry.candidate_ids:
        raise NotFound("no such child in your enquiry (enquiries can be opened for a while only)")
    record = children.load_record(session=session, child_id=child_id)
    return children.present(
        session=session,
        caller=caller,
        record=record,
        action="child:enquiry:open",
        request_id=request_id,
    )
