"""Candidate search in PostgreSQL: the children an enquiry's criteria point at.

This first finder is exact after normalisation (case, accents, spacing): identifiers
agree, or family name and date of birth agree with the given names or the postcode,
over every name a child is known by and every address they have had. The
identity-matching work replaces it with the scored, fuzzy matcher; the enquiry and
access rules around it stay as they are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from index_service.children.models import Child, ChildAddress, ChildName


@dataclass(frozen=True)
class Criteria:
    family_name: str | None = None
    given_names: str | None = None
    date_of_birth: date | None = None
    postcode: str | None = None
    nhs_number: str | None = None
    upn: str | None = None


def _folded(column: Any) -> ColumnElement[str]:
    return func.lower(func.unaccent(func.btrim(column)))


def _first_given(column: Any) -> ColumnElement[str]:
    return func.split_part(_folded(column), " ", 1)


def find_candidates(*, session: Session, criteria: Criteria, limit: int) -> list[uuid.UUID]:
    """Ids of up to `limit` children the criteria point at, oldest record first."""
    ways: list[ColumnElement[bool]] = []
    if criteria.nhs_number:
        ways.append(col(Child.nhs_number) == criteria.nhs_number)
    if criteria.upn:
        ways.append(col(Child.upn) == criteria.upn)
    if criteria.family_name and criteria.date_of_birth:
        family = func.lower(func.unaccent(criteria.family_name.strip()))
        named = and_(
            col(ChildName.child_id) == col(Child.id),
            _folded(col(ChildName.family_name)) == family,
        )
        born = col(Child.date_of_birth) == criteria.date_of_birth
        if criteria.given_names:
            given = func.split_part(func.lower(func.unaccent(criteria.given_names.strip())), " ", 1)
            ways.append(
                and_(born, exists().where(named, _first_given(col(ChildName.given_names)) == given))
            )
        if criteria.postcode:
            lived = exists().where(
                col(ChildAddress.child_id) == col(Child.id),
                col(ChildAddress.postcode) == criteria.postcode,
            )
            ways.append(and_(born, exists().where(named), lived))
    if not ways:
        return []
    query = (
        select(Child.id)
        .where(or_(*ways))
        .where(col(Child.status) == "active")
        .order_by(col(Child.created_at), col(Child.id))
        .limit(limit)
    )
    return list(session.exec(query))
