"""Involvement service functions: the current involvements of a child, recording one's
own involvement, and ending it (only one's own organisation's: `access/objects.py`).
The alerts these cause (R4) are raised by `involvements/flows.py`."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session, col, select

from index_service.access.objects import may_be_key_worker, may_name_practitioner, owns
from index_service.access.principal import Principal
from index_service.children import service as children
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound
from index_service.involvements.models import Involvement
from index_service.involvements.schemas import (
    InvolvementCreate,
    InvolvementEnd,
    InvolvementRecordPublic,
)


def record_involvement(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    service: str,
    practitioner_name: str,
    start_date: date,
    sensitive: bool = False,
    is_key_worker: bool = False,
    is_lead_professional: bool = False,
    is_allocated_worker: bool = False,
    practitioner_phone: str | None = None,
    practitioner_email: str | None = None,
    own: bool = True,
) -> Involvement:
    """`own`: the practitioner is the caller; otherwise someone named, with no login."""
    involvement = Involvement(
        child_id=child_id,
        organisation_id=caller.organisation_id,
        service=service,
        practitioner_name=practitioner_name,
        practitioner_phone=practitioner_phone,
        practitioner_email=practitioner_email,
        practitioner_issuer=caller.issuer if own else None,
        practitioner_subject=caller.subject if own else None,
        is_key_worker=is_key_worker,
        is_lead_professional=is_lead_professional,
        is_allocated_worker=is_allocated_worker,
        sensitive=sensitive,
        start_date=start_date,
    )
    session.add(involvement)
    session.flush()
    return involvement


def start_own_involvement(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    data: InvolvementCreate,
    enquiry_since: datetime,
) -> Involvement:
    """The caller records their own involvement with a child they can reach, or (a social
    worker) names another practitioner of their organisation who has no login."""
    children.require_reached(
        session=session, caller=caller, child_id=child_id, enquiry_since=enquiry_since
    )
    named = data.practitioner_name is not None
    if named and not (decision := may_name_practitioner(caller)):
        raise Forbidden(decision.reason, code="may_not_name_practitioner")
    if (data.is_key_worker or data.is_allocated_worker) and not (
        decision := may_be_key_worker(caller)
    ):
        raise Forbidden(decision.reason, code="not_a_key_worker")
    if named and data.practitioner_email is None:
        raise InvalidInput(
            "a named practitioner is reached by email: give their secure email",
            code="practitioner_email_required",
        )
    today = utcnow().date()
    start = data.start_date or today
    if start > today:
        raise InvalidInput("an involvement starts today or earlier", code="start_in_future")
    return record_involvement(
        session=session,
        caller=caller,
        child_id=child_id,
        service=data.service,
        practitioner_name=data.practitioner_name or caller.name,
        practitioner_phone=data.practitioner_phone,
        practitioner_email=data.practitioner_email or (None if named else caller.email or None),
        start_date=start,
        sensitive=data.sensitive,
        is_key_worker=data.is_key_worker,
        is_lead_professional=data.is_lead_professional,
        is_allocated_worker=data.is_allocated_worker,
        own=not named,
    )


def end_involvement(
    *, session: Session, caller: Principal, involvement_id: uuid.UUID, data: InvolvementEnd
) -> Involvement:
    """Only the caller's own organisation ends its involvement; another's is a 404."""
    involvement = session.exec(
        select(Involvement).where(col(Involvement.id) == involvement_id).with_for_update()
    ).first()
    if involvement is None or not owns(caller, involvement.organisation_id):
        raise NotFound("no such involvement of your organisation")
    if involvement.end_date is not None:
        raise Conflict("this involvement has already ended", code="already_ended")
    today = utcnow().date()
    end = data.end_date or today
    if end > today or end < involvement.start_date:
        raise InvalidInput(
            "an involvement ends today or earlier, and not before it started",
            code="invalid_end_date",
        )
    involvement.end_date = end
    involvement.ended_by = f"{caller.issuer} {caller.subject}"
    session.add(involvement)
    session.flush()
    return involvement


def public_of(involvement: Involvement, organisation_code: str) -> InvolvementRecordPublic:
    return InvolvementRecordPublic.model_validate(
        {**involvement.model_dump(), "organisation_code": organisation_code}
    )
