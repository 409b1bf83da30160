"""Archive and destroy (DOMAIN.md "Lifecycle"), run by the scheduler with its clock.

At `ARCHIVE_AGE_YEARS` (18) an entry is archived: the matcher finds active entries only,
so it no longer appears in enquiries; its data managers still read it. A date of birth
known only to its year or month counts from its latest possible day, so no child is
archived before they can be of age. `DESTROY_AFTER_ARCHIVE_YEARS` (6) after archiving,
an entry with no legal hold is destroyed: its row and everything about the child go
(names, addresses, carers, involvements, flags, the entries merged into it and their
merge records, and their names' and postcodes' share of the term frequencies), alerts
keep their case-free rows without the link, and a `child_tombstone` row keeps the id,
the responsible authority and the dates, with no personal data. A hold on any entry
merged into it stops it too (`children/holds.py`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Date, Integer, case, cast, extract, func, literal_column
from sqlmodel import Session, col, delete, select

from index_service.children.holds import carry_hold, hold_changed
from index_service.children.models import Child, ChildStatus, ChildTombstone, DatePrecision
from index_service.matching.frequencies import forget_children

_Day = TypeVar("_Day", date, datetime)


def years_before(day: _Day, years: int) -> _Day:
    """The same day (and time, for a moment) `years` earlier; 29 February falls back to
    the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


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


@dataclass
class Destruction:
    """What one batch did: how many entries went, and the due entries kept because an
    entry merged into them was held (its hold now on them: `children/holds.py`)."""

    destroyed: int = 0
    held: list[uuid.UUID] = field(default_factory=list)
    # The destroyed ids, for what the caller must forget of them in the same transaction
    # (the feeds' reviews and row keys: `alerts/scheduler.lifecycle`); never logged.
    ids: list[uuid.UUID] = field(default_factory=list)


def destroy_due(
    *, session: Session, now: datetime, after_years: int, limit: int = 500
) -> Destruction:
    """Destroy up to `limit` entries archived `after_years` ago or more and not under a
    legal hold, with the entries merged into them. Nothing is logged about them but the
    count.

    An entry merged into a due one before merges carried holds may hold one still: it
    stops the destruction of all of them (a hold must), and moves to the due entry, where
    its data managers see it and can lift it, so that it is not found due again."""
    cutoff = years_before(now, after_years)
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
        return Destruction()
    going: dict[uuid.UUID, Child] = {child.id: child for child in due}
    root_of = {child.id: child.id for child in due}  # the due entry each one goes with
    frontier = list(going)
    while frontier:  # the entries merged into them, however deep
        merged = session.exec(
            select(Child).where(col(Child.merged_into).in_(frontier)).with_for_update()
        ).all()
        frontier = [child.id for child in merged if child.id not in going]
        for child in merged:
            if child.merged_into is not None:
                root_of.setdefault(child.id, root_of[child.merged_into])
        going.update({child.id: child for child in merged})
    held: list[uuid.UUID] = []
    for child in list(going.values()):
        root = going[root_of[child.id]]
        if child is not root and carry_hold(to=root, source=child):
            hold_changed(session, child, now)
            if root.id not in held:
                hold_changed(session, root, now)
                held.append(root.id)
    going = {i: child for i, child in going.items() if root_of[i] not in held}
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
    forget_children(session, ids)  # their names and postcodes leave the term frequencies
    # One statement: the merged entries' references to their survivor go with it.
    session.exec(delete(Child).where(col(Child.id).in_(ids)))
    session.flush()
    for child in going.values():
        session.expunge(child)
    return Destruction(destroyed=len(ids), held=held, ids=ids)
