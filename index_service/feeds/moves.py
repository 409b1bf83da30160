"""A feed row that moves a child's current address to another local authority raises R5
as an address change through the API does (`children/flows.change_child`): the same rule
(`alerts/rules.r5_moved_authority`) through the same flow (`alerts/flows.after_move`),
so the designated managers of both authorities and the key worker hear of it, and a
shielded child's move is told to its responsible authority's designated managers (and
key worker) alone. A move is found as the row is written (`feeds/writes.update_children`),
so a re-sent row (unchanged, nothing written) raises nothing more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming


@dataclass(frozen=True)
class Move:
    """A child's current address replaced by one in another authority. `shielded_for`:
    the child is shielded, and this is its responsible authority."""

    child_id: uuid.UUID
    from_authority: str
    to_authority: str
    shielded_for: str | None = None


def alert_moves(
    *, session: Session, caller: Principal, moves: list[Move], timing: AlertTiming
) -> list[Alert]:
    """R5 for each move, in the caller's transaction (an alert exists exactly when the
    write that moved the child is committed)."""
    if not moves:
        return []
    occasion = alerts.occasion_of(caller=caller, purpose=None)
    raised: list[Alert] = []
    for move in moves:
        raised += alerts.after_move(
            session=session,
            occasion=occasion,
            child_id=move.child_id,
            from_authority=move.from_authority,
            to_authority=move.to_authority,
            timing=timing,
            shielded_for=move.shielded_for,
        )
    return raised
