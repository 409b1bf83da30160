"""An enquiry about an expectant mother: is her unborn child on a pre-birth plan, and
whom to contact? The plan is held against the unborn child, but the woman is who arrives
at maternity or an emergency department (DOMAIN.md, as CP-IS). Only the health
organisations that see pregnant women may ask (`access/pre_birth.py`); she is compared
with the mothers the index holds by the match model (`matching/mothers.py`), and only a
confident match is answered, and only about an unborn child on an active plan. The answer
names the plan's key worker, allocated worker and lead professional as the child's entry
would show them to the enquirer (a sensitive service masked, a shielded record naming
none: `access/pre_birth.py`), and the responsible authority's contact, nothing of the
child's record; the key worker is alerted (R1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlmodel import Session

from index_service.access.need_to_know import match_scope
from index_service.access.pre_birth import (
    PLAN_CONTACT_FIELDS,
    names_plan_workers,
    require_may_enquire_about_expectant_mother,
)
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming
from index_service.children import service as children
from index_service.children.models import Child
from index_service.children.public import contact_of, involvement_public, key_people_first
from index_service.children.schemas import ContactPublic, InvolvementPublic
from index_service.children.summaries import explanation_of
from index_service.enquiries.models import (
    Enquiry,
    EnquiryCreate,
    EnquiryOutcome,
    ExpectantMotherIn,
    PreBirthPlanPublic,
)
from index_service.involvements.queries import current_involvements
from index_service.matching.mothers import enquired_places, mother_person, resolve_mother
from index_service.matching.resolver import Outcome
from index_service.organisations import service as organisations
from index_service.organisations.front_door import (
    FrontDoorPublic,
    authority_of_enquiry,
    front_door,
)

PLAN_NOTICE = (
    "This woman's unborn child is on a pre-birth plan. Contact the key worker below, or "
    "the responsible authority's children's social care, before she leaves."
)
NO_PLAN_ADVICE = (
    "No pre-birth plan was found for this woman. This is not evidence that her unborn "
    "child is safe. If you are worried, refer to children's social care of the local "
    "authority where she lives (front_door)."
)


@dataclass
class MotherEnquiryResult:
    enquiry: Enquiry
    child_id: uuid.UUID | None = None  # the unborn child found: for the audit row only
    plan: PreBirthPlanPublic | None = None
    front_door: FrontDoorPublic | None = None
    alerts: list[Alert] = field(default_factory=list)


def enquire_about_mother(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    data: EnquiryCreate,
    request_id: str,
    timing: AlertTiming,
) -> MotherEnquiryResult:
    require_may_enquire_about_expectant_mother(caller)
    mother: ExpectantMotherIn | None = data.expectant_mother
    assert mother is not None
    person = mother_person(
        given_names=mother.given_names,
        family_name=mother.family_name,
        date_of_birth=mother.date_of_birth,
        nhs_number=mother.nhs_number,
        places=enquired_places(
            line1=mother.address_line1, town=mother.town, postcode=mother.postcode
        ),
    )
    resolution = resolve_mother(session=session, person=person, scope=match_scope(caller))
    found = resolution.candidates[0] if resolution.outcome == Outcome.MATCH else None
    enquiry = Enquiry(
        issuer=caller.issuer,
        subject=caller.subject,
        organisation_id=caller.organisation_id,
        purpose=purpose.code.value,
        purpose_text=purpose.text,
        criteria=data.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        outcome=(EnquiryOutcome.MATCH if found else EnquiryOutcome.NOT_FOUND).value,
        # Never a candidate to open: the enquirer is told of the plan, not shown the child.
        candidate_ids=[],
        model_version=resolution.model_version,
        explanations=[explanation_of(found)] if found else [],
    )
    session.add(enquiry)
    session.flush()
    result = MotherEnquiryResult(enquiry=enquiry)
    if found is None:
        where = authority_of_enquiry(
            session=session,
            lives_in=None,
            postcode=mother.postcode,
            enquirer_authority=caller.local_authority,
        )
        result.front_door = front_door(session=session, authority_code=where)
        return result
    child = found.stored.child
    result.child_id = child.id
    authority, _ = organisations.named_organisations(
        session=session, local_authority=child.responsible_authority, codes=set()
    )
    contact = contact_of(authority)
    result.plan = PreBirthPlanPublic(
        notice=PLAN_NOTICE,
        contacts=_plan_contacts(session=session, caller=caller, child=child, contact=contact),
        contact=contact,
    )
    children.note_shielded_access(
        session=session,
        caller=caller,
        child=child,
        action="child:enquiry:create",
        request_id=request_id,
    )
    occasion = alerts.occasion_of(caller=caller, purpose=purpose, enquiry_id=enquiry.id)
    result.alerts = alerts.after_expectant_mother_enquired(
        session=session, occasion=occasion, child_id=child.id, timing=timing
    )
    return result


def _plan_contacts(
    *, session: Session, caller: Principal, child: Child, contact: ContactPublic | None
) -> list[InvolvementPublic]:
    """The plan's key worker, allocated worker and lead professional, as the child's
    entry shows each to the caller, reduced to whom to call."""
    if not names_plan_workers(
        caller, shielded=child.shielded, responsible_authority=child.responsible_authority
    ):
        return []
    shown = [
        involvement_public(
            involvement,
            organisation,
            viewer_organisation_id=caller.organisation_id,
            authority_contact=contact,
        )
        for involvement, organisation in current_involvements(session=session, child_id=child.id)
        if involvement.is_key_worker
        or involvement.is_allocated_worker
        or involvement.is_lead_professional
    ]
    return key_people_first(
        [
            InvolvementPublic.model_validate(
                c.model_dump(include=set(PLAN_CONTACT_FIELDS), exclude_unset=True)
            )
            for c in shown
        ]
    )
