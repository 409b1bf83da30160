"""Involvement service functions. Recording and ending through the API come with the
enquiries work (who may end one: `access/objects.py`); the child view already shows
current involvements."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session, col, or_, select

from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation


def current_involvements(
    *, session: Session, child_id: uuid.UUID, today: date | None = None
) -> list[tuple[Involvement, Organisation]]:
    today = today or utcnow().date()
    rows = session.exec(
        select(Involvement, Organisation)
        .join(Organisation, col(Organisation.id) == col(Involvement.organisation_id))
        .where(col(Involvement.child_id) == child_id)
        .where(or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) > today))
        .order_by(col(Involvement.start_date), col(Involvement.id))
    ).all()
    return [(involvement, organisation) for involvement, organisation in rows]


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
    practitioner_phone: str | None = None,
    practitioner_email: str | None = None,
) -> Involvement:
    involvement = Involvement(
        child_id=child_id,
        organisation_id=caller.organisation_id,
        service=service,
        practitioner_name=practitioner_name,
        practitioner_phone=practitioner_phone,
        practitioner_email=practitioner_email,
        practitioner_issuer=caller.issuer,
        practitioner_subject=caller.subject,
        is_key_worker=is_key_worker,
        is_lead_professional=is_lead_professional,
        sensitive=sensitive,
        start_date=start_date,
    )
    session.add(involvement)
    session.flush()
    return involvement
