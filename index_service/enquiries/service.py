"""Enquiry service functions: the search with a purpose, and opening one of its
candidates (the second, separately logged step)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from index_service.access.need_to_know import MAX_CANDIDATES, require_sufficient_criteria
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.children import service as children
from index_service.children.models import Child, ChildAddress, ChildName
from index_service.children.schemas import ChildPublic, ChildSummary
from index_service.common import utcnow
from index_service.enquiries.models import Enquiry, EnquiryCreate, EnquiryOutcome
from index_service.errors import NotFound
from index_service.matching.candidates import Criteria, find_candidates
from index_service.matching.postcodes import outward_code

NOT_FOUND_ADVICE = (
    "No record was found. This is not evidence that the child is safe. If you are worried "
    "about a child, refer to children's social care of the local authority where the child "
    "lives."
)
TOO_MANY_ADVICE = "More than five children fit: add what else you know (NHS number, postcode)."


def make_enquiry(
    *, session: Session, caller: Principal, purpose: Purpose, data: EnquiryCreate, request_id: str
) -> tuple[Enquiry, list[ChildSummary]]:
    require_sufficient_criteria(data.model_dump())
    found = find_candidates(
        session=session, criteria=Criteria(**data.model_dump()), limit=MAX_CANDIDATES + 1
    )
    if len(found) > MAX_CANDIDATES:
        outcome, found = EnquiryOutcome.TOO_MANY_MATCHES, []
    else:
        outcome = EnquiryOutcome.POSSIBLE_MATCHES if found else EnquiryOutcome.NOT_FOUND
    enquiry = Enquiry(
        issuer=caller.issuer,
        subject=caller.subject,
        organisation_id=caller.organisation_id,
        purpose=purpose.code.value,
        purpose_text=purpose.text,
        criteria=data.model_dump(mode="json", exclude_none=True),
        outcome=outcome.value,
        candidate_ids=found,
    )
    session.add(enquiry)
    session.flush()
    summaries = [_summary(session, caller, child_id, request_id=request_id) for child_id in found]
    return enquiry, summaries


def advice_for(outcome: EnquiryOutcome) -> str | None:
    return {
        EnquiryOutcome.NOT_FOUND: NOT_FOUND_ADVICE,
        EnquiryOutcome.TOO_MANY_MATCHES: TOO_MANY_ADVICE,
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


def _summary(
    session: Session, caller: Principal, child_id: uuid.UUID, *, request_id: str
) -> ChildSummary:
    child = session.get(Child, child_id)
    assert child is not None  # found a moment ago in this transaction
    children.note_shielded_access(
        session=session,
        caller=caller,
        child=child,
        action="child:enquiry:create",
        request_id=request_id,
    )
    legal = session.exec(
        select(ChildName)
        .where(ChildName.child_id == child_id)
        .order_by(col(ChildName.kind) != "legal", col(ChildName.position))
    ).first()
    current = session.exec(
        select(ChildAddress)
        .where(ChildAddress.child_id == child_id)
        .where(col(ChildAddress.to_date).is_(None))
    ).first()
    return ChildSummary(
        child_id=child.id,
        given_names=legal.given_names if legal else "",
        family_name=legal.family_name if legal else "",
        date_of_birth=child.date_of_birth,
        date_of_birth_precision=child.date_of_birth_precision,
        postcode_district=outward_code(current.postcode)
        if current is not None and not child.shielded
        else None,
        shielded=child.shielded,
    )
