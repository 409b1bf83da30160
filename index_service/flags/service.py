"""Flag service functions: raise (who may raise which kind: `access/objects.py`), review
and end one's own organisation's flags, the active flags of a child, and the flags past
their review date for whoever raised them (and the data managers of the authority).
The alerts these cause (R4) are raised by `flags/flows.py`."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from index_service.access.objects import may_raise_flag, owns
from index_service.access.policy import DATA_MANAGER, holds
from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope, shielded_seen_in_full
from index_service.children import service as children
from index_service.children.models import Child
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound
from index_service.flags.models import Flag, FlagKind
from index_service.flags.queries import public_of
from index_service.flags.schemas import OverdueFlagPublic, details_of
from index_service.organisations.models import Organisation


def raise_flag(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    data: BaseModel,
    enquiry_since: datetime,
) -> Flag:
    kind = FlagKind(getattr(data, "kind"))  # noqa: B009 (every FlagCreate member has one)
    children.require_reached(
        session=session, caller=caller, child_id=child_id, enquiry_since=enquiry_since
    )
    if not (decision := may_raise_flag(caller, kind)):
        raise Forbidden(decision.reason, code="flag_not_yours_to_raise")
    review_date: date | None = getattr(data, "review_date", None)
    if review_date is not None and review_date <= utcnow().date():
        raise InvalidInput("the review date is after today", code="review_date_past")
    organisation = session.get(Organisation, caller.organisation_id)
    flag = Flag(
        child_id=child_id,
        kind=kind.value,
        organisation_id=caller.organisation_id,
        contact_name=getattr(data, "contact_name", None) or caller.name,
        contact_phone=getattr(data, "contact_phone", None)
        or (organisation.contact_phone if organisation else None),
        contact_email=getattr(data, "contact_email", None) or caller.email or None,
        raised_by_issuer=caller.issuer,
        raised_by_subject=caller.subject,
        attributes=details_of(data),
        review_date=review_date,
    )
    session.add(flag)
    session.flush()
    return flag


def _own_flag(session: Session, caller: Principal, flag_id: uuid.UUID) -> Flag:
    flag = session.exec(select(Flag).where(col(Flag.id) == flag_id).with_for_update()).first()
    if flag is None or not owns(caller, flag.organisation_id):
        raise NotFound("no such flag of your organisation")
    if flag.ended_at is not None:
        raise Conflict("this flag has already ended", code="already_ended")
    return flag


def review_flag(
    *, session: Session, caller: Principal, flag_id: uuid.UUID, review_date: date
) -> Flag:
    flag = _own_flag(session, caller, flag_id)
    if review_date <= utcnow().date():
        raise InvalidInput("the next review date is after today", code="review_date_past")
    flag.review_date = review_date
    flag.reviewed_at = utcnow()
    session.add(flag)
    session.flush()
    return flag


def end_flag(*, session: Session, caller: Principal, flag_id: uuid.UUID) -> Flag:
    flag = _own_flag(session, caller, flag_id)
    flag.ended_at = utcnow()
    flag.ended_by = caller.actor
    session.add(flag)
    session.flush()
    return flag


def overdue_flags(*, session: Session, caller: Principal, limit: int) -> list[OverdueFlagPublic]:
    """Active flags past their review date: those the caller raised, and for a data
    manager those on the children of their authority."""
    mine = (col(Flag.raised_by_issuer) == caller.issuer) & (
        col(Flag.raised_by_subject) == caller.subject
    )
    # A data manager's authority's children too, a shielded one's only if they see it.
    kept = and_(children_in_scope(caller), shielded_seen_in_full(caller))
    whose = or_(mine, kept) if holds(caller, DATA_MANAGER) else mine
    rows = session.exec(
        select(Flag, Organisation)
        .join(Organisation, col(Organisation.id) == col(Flag.organisation_id))
        .join(Child, col(Child.id) == col(Flag.child_id))
        .where(col(Flag.ended_at).is_(None), col(Flag.review_date) < utcnow().date())
        .where(whose)
        .order_by(col(Flag.review_date), col(Flag.id))
        .limit(limit)
    ).all()
    return [
        OverdueFlagPublic(**public_of(flag, org).model_dump(), child_id=flag.child_id)
        for flag, org in rows
    ]
