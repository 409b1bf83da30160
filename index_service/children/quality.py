"""Data-quality gaps of the children a data manager keeps: what the record does not know
(GP practice, school, carers "unknown") as distinct from what it knows to be absent ("not
registered", "not in education", "none"). The one home for that rule; who is listed is
`access/scope.py`'s clause (the caller's authority's children, a shielded one's only for
those who see it in full), as the overdue flags' list is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, DateTime, and_, cast, func, literal, or_, select
from sqlmodel import Session, col

from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope, shielded_seen_in_full
from index_service.children.models import (
    CarersStatus,
    Child,
    ChildAddress,
    ChildName,
    ChildStatus,
    EducationStatus,
    GpStatus,
    NameKind,
    NhsNumberStatus,
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


# ---------------------------------------------------------------------------------------
# The data manager's report (`GET /v1/data-quality/gaps`, Laming R12)
# ---------------------------------------------------------------------------------------


class GapKind(StrEnum):
    GP_UNKNOWN = "gp_unknown"
    SCHOOL_UNKNOWN = "school_unknown"
    CARERS_UNKNOWN = "carers_unknown"
    NO_ADDRESS_FOR_A_YEAR = "no_address_for_a_year"
    UNCONFIRMED_FIELDS = "unconfirmed_fields"
    NHS_NUMBER_UNVERIFIED = "nhs_number_unverified"


def gap_clauses(*, now: datetime, unconfirmed_days: int) -> dict[GapKind, ColumnElement[bool]]:
    """Each gap as a WHERE clause over `child`."""
    year_ago = now - timedelta(days=365)
    cutoff = now - timedelta(days=unconfirmed_days)
    recent_address = (
        select(literal(1))
        .where(col(ChildAddress.child_id) == col(Child.id))
        .where(
            or_(
                col(ChildAddress.to_date).is_(None),
                col(ChildAddress.to_date) >= year_ago.date(),
            )
        )
    )
    confirmed = func.jsonb_each(col(Child.provenance)).table_valued("key", "value")
    stale = (
        select(literal(1))
        .select_from(confirmed)
        .where(cast(confirmed.c.value.op("->>")("confirmed_at"), DateTime(timezone=True)) < cutoff)
    )
    clauses: dict[GapKind, ColumnElement[bool]] = {
        GapKind.GP_UNKNOWN: or_(
            col(Child.gp_status) == GpStatus.UNKNOWN.value,
            and_(
                col(Child.gp_status) == GpStatus.REGISTERED.value,
                col(Child.gp_ods_code).is_(None),
            ),
        ),
        GapKind.SCHOOL_UNKNOWN: or_(
            col(Child.education_status) == EducationStatus.UNKNOWN.value,
            and_(
                col(Child.education_status) == EducationStatus.ATTENDING.value,
                col(Child.school_urn).is_(None),
            ),
        ),
        GapKind.CARERS_UNKNOWN: col(Child.carers_status) == CarersStatus.UNKNOWN.value,
        GapKind.NO_ADDRESS_FOR_A_YEAR: and_(
            ~recent_address.exists(), col(Child.created_at) < year_ago
        ),
        GapKind.UNCONFIRMED_FIELDS: stale.exists(),
        GapKind.NHS_NUMBER_UNVERIFIED: and_(
            col(Child.nhs_number).is_not(None),
            col(Child.nhs_number_status) == NhsNumberStatus.UNVERIFIED.value,
        ),
    }
    return clauses


@dataclass(frozen=True)
class ChildGaps:
    child_id: uuid.UUID
    given_names: str | None
    family_name: str | None
    gaps: list[GapKind]


@dataclass(frozen=True)
class GapReport:
    counts: dict[str, int]  # per kind, and "children": those with any gap
    total: int  # children listed under the filter
    children: list[ChildGaps]


def gap_report(
    *,
    session: Session,
    caller: Principal,
    now: datetime,
    unconfirmed_days: int,
    kind: GapKind | None,
    limit: int,
    offset: int,
) -> GapReport:
    """The caller's authority's active children with gaps (whom: `access/scope.py`, as
    `gaps_of_my_children`): counts per kind, and a page of the children, each with its
    gaps, oldest record first. `kind`: only children with that gap listed."""
    clauses = gap_clauses(now=now, unconfirmed_days=unconfirmed_days)
    mine = and_(
        children_in_scope(caller),
        shielded_seen_in_full(caller),
        col(Child.status) == ChildStatus.ACTIVE.value,
    )
    any_gap = or_(*clauses.values())
    counted = session.execute(
        select(
            func.count().filter(any_gap),
            *(func.count().filter(clause) for clause in clauses.values()),
        )
        .select_from(Child)
        .where(mine)
    ).one()
    counts = {"children": counted[0]}
    counts.update({k.value: n for k, n in zip(clauses, counted[1:], strict=True)})
    listed = clauses[kind] if kind is not None and kind in clauses else any_gap
    if kind is not None and kind not in clauses:
        return GapReport(counts, 0, [])
    legal = and_(
        col(ChildName.child_id) == col(Child.id),
        col(ChildName.kind) == NameKind.LEGAL.value,
    )
    flags = [clause.label(k.value) for k, clause in clauses.items()]
    rows = session.execute(
        select(col(Child.id), col(ChildName.given_names), col(ChildName.family_name), *flags)
        .outerjoin(ChildName, legal)
        .where(mine, listed)
        .order_by(col(Child.created_at), col(Child.id))
        .limit(limit)
        .offset(offset)
    ).all()
    total = counts["children"] if kind is None else counts[kind.value]
    return GapReport(
        counts,
        total,
        [
            ChildGaps(
                child_id=row[0],
                given_names=row[1],
                family_name=row[2],
                gaps=[k for k, present in zip(clauses, row[3:], strict=True) if present],
            )
            for row in rows
        ],
    )
