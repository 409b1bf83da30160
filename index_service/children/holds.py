"""A legal hold follows the child's data through merges. A hold stops destruction
(DOMAIN.md "Lifecycle"), and destruction takes an entry with everything merged into it:
so a merge carries the merged entry's hold to the survivor (where it is seen, and can be
lifted), and an undo gives each entry back the hold it had (`children/lifecycle.py`).
An entry merged before merges carried holds may still hold one; the scheduler carries it
to the entry about to be destroyed instead of destroying it (`children/retention.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from index_service.children.models import Child, ChildMerge

HOLD_FIELDS = frozenset({"legal_hold_reason", "legal_hold_by", "legal_hold_at"})
_REASON_WIDTH = 200  # the width of child.legal_hold_reason


def hold_of(child: Child) -> dict[str, Any]:
    """The entry's hold as JSON values (all None when it has none)."""
    return child.model_dump(mode="json", include=set(HOLD_FIELDS))


def carry_hold(*, to: Child, source: Child) -> bool:
    """`to` takes `source`'s hold, and `source` keeps none; whether there was one. When
    both are held, `to` keeps its own hold with both reasons (cut to the column's width),
    so whoever lifts it reads both."""
    if source.legal_hold_reason is None:
        return False
    if to.legal_hold_reason is None:
        to.legal_hold_reason = source.legal_hold_reason
        to.legal_hold_by, to.legal_hold_at = source.legal_hold_by, source.legal_hold_at
    elif source.legal_hold_reason != to.legal_hold_reason:
        joined = f"{to.legal_hold_reason}; {source.legal_hold_reason}"
        to.legal_hold_reason = joined[:_REASON_WIDTH]
    source.legal_hold_reason = source.legal_hold_by = source.legal_hold_at = None
    return True


def hold_changed(session: Session, child: Child, now: datetime) -> None:
    """A change of the entry's hold is a change of the entry (a new version, so every
    earlier ETag is stale), but no change an undo of a merge into it would lose: an undo
    keeps the hold as it is now, so the merge's recorded version moves on with it."""
    child.version += 1
    child.updated_at = now
    session.add(child)
    session.execute(
        update(ChildMerge)
        .where(col(ChildMerge.survivor_id) == child.id, col(ChildMerge.unmerged_at).is_(None))
        .values(survivor_version=child.version)
    )
