"""Data-quality gaps of the children a data manager keeps: what the record does not know
(GP practice, school, carers "unknown") as distinct from what it knows to be absent ("not
registered", "not in education", "none"). The one home for that rule; who is listed is
`access/scope.py`'s clause (the caller's authority's children, a shielded one's only for
those who see it in full), as the overdue flags' list is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope, shielded_seen_in_full
from index_service.children.models import (
    CarersStatus,
    Child,
    ChildName,
    ChildStatus,
    EducationStatus,
    GpStatus,
    NameKind,
)

UNKNOWN = "unknown"  # the record does not know
NONE = "none"  # the record knows there is none
GAP_FIELDS = ("gp", "school", "carers")


@dataclass(frozen=True)
class Gaps:
    """One child's gaps: per field, "unknown" or "none" (absent when known and present)."""

    child_id: uuid.UUID
    given_names: str | None
    family_name: str | None
    gp: str | None
    school: str | None
    carers: str | None


def _gp(status: str, ods_code: str | None) -> str | None:
    if status == GpStatus.NOT_REGISTERED:
        return NONE
    if status == GpStatus.UNKNOWN or (status == GpStatus.REGISTERED and not ods_code):
        return UNKNOWN
    return None


def _school(status: str, urn: str | None) -> str | None:
    if status == EducationStatus.NOT_IN_EDUCATION:
        return NONE
    if status == EducationStatus.UNKNOWN or (status == EducationStatus.ATTENDING and not urn):
        return UNKNOWN
    return None


def _carers(status: str) -> str | None:
    return {CarersStatus.NONE: NONE, CarersStatus.UNKNOWN: UNKNOWN}.get(CarersStatus(status))


def gaps_of_my_children(*, session: Session, caller: Principal, limit: int) -> list[Gaps]:
    """The caller's authority's active children with at least one gap, oldest record
    first (the longest-standing gaps first)."""
    legal = and_(
        col(ChildName.child_id) == col(Child.id),
        col(ChildName.kind) == NameKind.LEGAL.value,
    )
    has_gap = or_(
        col(Child.gp_status) != GpStatus.REGISTERED.value,
        col(Child.gp_ods_code).is_(None),
        col(Child.education_status).in_(
            [EducationStatus.UNKNOWN.value, EducationStatus.NOT_IN_EDUCATION.value]
        ),
        and_(
            col(Child.education_status) == EducationStatus.ATTENDING.value,
            col(Child.school_urn).is_(None),
        ),
        col(Child.carers_status) != CarersStatus.KNOWN.value,
    )
    rows = session.execute(
        select(Child, col(ChildName.given_names), col(ChildName.family_name))
        .outerjoin(ChildName, legal)
        .where(children_in_scope(caller), shielded_seen_in_full(caller))
        .where(col(Child.status) == ChildStatus.ACTIVE.value, has_gap)
        .order_by(col(Child.created_at), col(Child.id))
        .limit(limit)
    ).all()
    return [
        Gaps(
            child_id=child.id,
            given_names=given,
            family_name=family,
            gp=_gp(child.gp_status, child.gp_ods_code),
            school=_school(child.education_status, child.school_urn),
            carers=_carers(child.carers_status),
        )
        for child, given, family in rows
    ]
