"""What "opening a child" is: being shown a child's record (the entry, or a shielded
record's notice), by any route: reading or changing it, opening an enquiry's candidate,
or an enquiry whose outcome is `match` (its answer carries the entry). A summary among
`possible_matches` is not an opening: it is why a second, logged request exists.

One definition, used by all three that count openings: the rate limit (an opening is a
read, whatever route it came by), the many-children anomaly event and the auditors'
reports (many-children, out-of-area). A request that opens children lists them in its
audit event's `detail.opened`; the counts read that list, so nothing has to guess from
the action which of the children an event names were shown (an enquiry names every
candidate it showed a summary of).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, func, literal, or_
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col

from index_service.access.policy import Permission
from index_service.audit.models import AuditEvent, Outcome

OPENED = "opened"  # the audit detail key: ids of the children the request opened

# Events written before `detail.opened` existed: these actions opened every child they
# named, and an enquiry the child it matched.
_OPENED_BY_ACTION = (
    Permission.CHILD_READ.value,
    Permission.CHILD_UPDATE.value,
    Permission.CHILD_SHIELD.value,
    Permission.ENQUIRY_OPEN.value,
)


def mark_opened(detail: dict[str, Any], child_ids: Iterable[uuid.UUID]) -> None:
    """Record in an audit draft's detail that the request opened these children."""
    opened = detail.setdefault(OPENED, [])
    for child_id in child_ids:
        if str(child_id) not in opened:
            opened.append(str(child_id))


def _legacy_opening(event_action: Any, detail: Any) -> ColumnElement[bool]:
    return or_(
        event_action.in_(_OPENED_BY_ACTION),
        and_(
            event_action == Permission.ENQUIRY_CREATE.value,
            detail["outcome"].astext == "match",
        ),
    )


def opened_json() -> ColumnElement[Any]:
    """Over `audit_event`: the JSON array of the ids of the children the event opened
    (empty unless it succeeded)."""
    detail = col(AuditEvent.detail)
    return case(
        (col(AuditEvent.outcome) != Outcome.SUCCESS.value, cast(literal("[]"), JSONB)),
        (detail[OPENED].is_not(None), detail[OPENED]),
        (
            _legacy_opening(col(AuditEvent.action), detail),
            func.to_jsonb(col(AuditEvent.child_ids)),
        ),
        else_=cast(literal("[]"), JSONB),
    )


def opened_children_table() -> Any:
    """A table-valued expression, one row (`child_id`, text) per child an event opened;
    join it to `audit_event` laterally (`.join(table, true())`)."""
    return func.jsonb_array_elements_text(opened_json()).table_valued("child_id").render_derived()


def opened_anything() -> ColumnElement[bool]:
    """Over `audit_event`: the event opened at least one child."""
    return func.jsonb_array_length(opened_json()) > 0


def opened_in(event: AuditEvent) -> list[uuid.UUID]:
    """The same definition for an event in hand."""
    if event.outcome != Outcome.SUCCESS.value:
        return []
    if OPENED in event.detail:
        return [uuid.UUID(c) for c in event.detail[OPENED]]
    legacy = event.action in _OPENED_BY_ACTION or (
        event.action == Permission.ENQUIRY_CREATE.value and event.detail.get("outcome") == "match"
    )
    return list(event.child_ids) if legacy else []
