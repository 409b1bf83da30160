"""Reading involvements: a child's current ones, with their organisations. No
dependencies on the children package, which shows these in a child's entry."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session, col, or_, select

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


def held_by(
    *, session: Session, issuer: str, subject: str, today: date | None = None
) -> list[Involvement]:
    """The current involvements a practitioner holds themselves (recorded as theirs, so
    with their login), oldest first."""
    today = today or utcnow().date()
    rows = session.exec(
        select(Involvement)
        .where(
            col(Involvement.practitioner_issuer) == issuer,
            col(Involvement.practitioner_subject) == subject,
        )
        .where(or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) > today))
        .order_by(col(Involvement.start_date), col(Involvement.id))
    ).all()
    return list(rows)
