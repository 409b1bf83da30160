"""Reading flags: the active flags of a child with their organisations, and the public
view of one. No dependencies on the children package, which shows these in a child's entry."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlmodel import Session, col, select

from index_service.flags.models import Flag
from index_service.flags.schemas import FlagPublic
from index_service.organisations.models import Organisation


def active_flags(*, session: Session, child_id: uuid.UUID) -> list[tuple[Flag, Organisation]]:
    rows = session.exec(
        select(Flag, Organisation)
        .join(Organisation, col(Organisation.id) == col(Flag.organisation_id))
        .where(col(Flag.child_id) == child_id, col(Flag.ended_at).is_(None))
        .order_by(col(Flag.raised_at), col(Flag.id))
    ).all()
    return [(flag, organisation) for flag, organisation in rows]


def public_of(flag: Flag, organisation: Organisation) -> FlagPublic:
    return FlagPublic(
        id=flag.id,
        kind=flag.kind,
        sensitive=False,  # as its raiser and whoever sees it in full see it
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        contact_name=flag.contact_name,
        contact_phone=flag.contact_phone,
        contact_email=flag.contact_email,
        details=flag.attributes,
        raised_at=flag.raised_at,
        review_date=flag.review_date,
        reviewed_at=flag.reviewed_at,
        ended_at=flag.ended_at,
    )


# A flag is "due for review" from this long before its review date (and after it).
REVIEW_NOTICE = timedelta(days=28)


def due_for_review(
    *, session: Session, child_ids: set[uuid.UUID], today: date
) -> list[tuple[Flag, Organisation]]:
    """The active flags of these children whose review date has passed or falls within
    `REVIEW_NOTICE`, soonest first."""
    if not child_ids:
        return []
    rows = session.exec(
        select(Flag, Organisation)
        .join(Organisation, col(Organisation.id) == col(Flag.organisation_id))
        .where(col(Flag.child_id).in_(child_ids), col(Flag.ended_at).is_(None))
        .where(col(Flag.review_date) <= today + REVIEW_NOTICE)
        .order_by(col(Flag.review_date), col(Flag.id))
    ).all()
    return [(flag, organisation) for flag, organisation in rows]
