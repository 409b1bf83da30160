"""Archive and destroy (DOMAIN.md "Lifecycle"), run by the scheduler with its clock.

At `ARCHIVE_AGE_YEARS` (18) an entry is archived: the matcher finds active entries only,
so it no longer appears in enquiries; its data managers still read it. A date of birth
known only to its year or month counts from its latest possible day, so no child is
archived before they can be of age. `DESTROY_AFTER_ARCHIVE_YEARS` (6) after archiving,
an entry with no legal hold is destroyed: its row and everything about the child go
(names, addresses, carers, involvements, flags, the entries merged into it and their
merge records), alerts keep their case-free rows without the link, and a
`child_tombstone` row keeps the id, the responsible authority and the dates, with no
personal data."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Integer, case, cast, extract, func, literal_column
from sqlmodel import Session, col, delete, select

from index_service.children.models import Child, ChildStatus, ChildTombstone, DatePrecision
from index_service.feeds.reviews import forget_children


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_before_time(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _latest_birthday() -> object:
    """The latest day the recorded date of birth may be, as SQL (`age.latest_possible`)."""
    born = col(Child.date_of_birth)
    return case(
        (
            col(Child.date_of_birth_precision) == DatePrecision.YEAR.value,
            func.make_date(cast(extract("year", born), Integer), 12, 31),
        ),
        (
            col(Child.date_of_birth_precision) == DatePrecision.MONTH.value,
            cast(
                func.date_trunc("month", born) + literal_column("interval '1 month - 1 day'"), Date
            ),
        ),
        else_=born,
    )


def archive_due(
    *, session: Session, now: datetime, age_years: int, limit: int = 500
) -> list[uuid.UUID]:
    """Archive up to `limit` active entries whose child has reached `age_years`; their
    ids. Claimed with SKIP LOCKED, so two schedulers never archive one twice."""
    cutoff = years_before(now.date(), age_years)
    due = session.exec(
        select(Child)
        .where(
            col(Child.status) == ChildStatus.ACTIVE.value,
            col(Child.date_of_birth) <= cutoff,  # the index's lookup; the next line decides
            _latest_birthday() <= cutoff,  # type: ignore[operator]
        )
        .order_by(col(Child.date_of_birth), col(Child.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for child in due:
        child.status = ChildStatus.ARCHIVED.value
        child.archived_at = now
        child.version += 1
        child.updated_at = now
        session.add(child)
    session.flush()
    return [child.id for child in due]


def destroy_due(*, session: Session, now: datetime, after_years: int, limit: int = 500) -> int:
    """Destroy up to `limit` entries archived `after_years` ago or more and not under a
    legal hold, with the entries merged into them; how many entries went. Nothing is
    returned or logged about them but the count."""
    cutoff = years_before_time(now, after_years)
    due = session.exec(
        select(Child)
        .where(
            col(Child.status) == ChildStatus.ARCHIVED.value,
            col(Child.archived_at) <= cutoff,
            col(Child.legal_hold_reason).is_(None),
        )
        .order_by(col(Child.archived_at), col(Child.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    going: dict[uuid.UUID, Child] = {child.id: child for child in due}
    frontier = list(going)
    while frontier:  # the entries merged into them, however deep
        merged = session.exec(
            select(Child).where(col(Child.merged_into).in_(frontier)).with_for_update()
        ).all()
        frontier = [child.id for child in merged if child.id not in going]
        going.update({child.id: child for child in merged})
    for child in going.values():
        session.add(
            ChildTombstone(
                id=child.id,
                responsible_authority=child.responsible_authority,
                created_at=child.created_at,
                archived_at=child.archived_at,
                destroyed_at=now,
            )
        )
    ids = list(going)
    forget_children(session, ids)  # the feed reviews and row keys naming them
    # One statement: the merged entries' references to their survivor go with it.
    session.exec(delete(Child).where(col(Child.id).in_(ids)))
    session.flush()
    for child in going.values():
        session.expunge(child)
    return len(ids)
