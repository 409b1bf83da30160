"""/v1/enquiry-contacts: the designated managers of an authority list its open
enquiry-only contacts (enquiries that found no record) and close them. Nobody else
lists or searches them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from index_service.access.policy import Permission
from index_service.api.contract import ProblemCase
from index_service.api.deps import (
    ContextDep,
    PrincipalDep,
    SessionDep,
    permission,
    purpose_headers,
)
from index_service.api.routing import AuditedRoute
from index_service.enquiries import contacts
from index_service.enquiries.models import (
    EnquiryContactClose,
    EnquiryContactList,
    EnquiryContactPublic,
)
from index_service.errors import Conflict

router = APIRouter(
    prefix="/v1/enquiry-contacts",
    tags=["enquiry-only contacts"],
    route_class=AuditedRoute,
    dependencies=[Depends(purpose_headers)],
)


@router.get("", response_model=EnquiryContactList, **permission(Permission.ENQUIRY_CONTACT_READ))
def list_contacts(
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: datetime | None = None,
) -> EnquiryContactList:
    """List enquiry contacts

    The enquiries about children your team works with that the rules flagged for contact
    (a designated manager's list): the open ones, newest first."""
    found = contacts.list_contacts(session=session, caller=caller, limit=limit, before=before)
    ctx.audit.detail["enquiry_contact_ids"] = [str(c.id) for c in found]
    return EnquiryContactList(items=[contacts.public_of(session=session, contact=c) for c in found])


@router.post(
    "/{contact_id}/close",
    response_model=EnquiryContactPublic,
    **permission(
        Permission.ENQUIRY_CONTACT_CLOSE,
        raises=(ProblemCase.of(Conflict, "the contact is already closed", "already_closed"),),
    ),
)
def close_contact(
    contact_id: uuid.UUID,
    body: EnquiryContactClose,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
) -> EnquiryContactPublic:
    """Close an enquiry contact

    Close an open contact, with the reason (e.g. 'referred; record created')."""
    ctx.audit.detail["enquiry_contact_id"] = str(contact_id)
    contact = contacts.close_contact(
        session=session, caller=caller, contact_id=contact_id, reason=body.reason
    )
    return contacts.public_of(session=session, contact=contact)
