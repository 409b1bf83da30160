"""Multi-step child flows: registering a new record behind the duplicate guard, and
changing a record with the alerts a move to another authority raises (R5)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from index_service.access.need_to_know import match_scope
from index_service.access.objects import judges_duplicates
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming
from index_service.children import service
from index_service.children.age import AgeLimit, require_within_age_limit
from index_service.children.duplicates import duplicate_reason, possible_duplicates
from index_service.children.schemas import ChildCreate, ChildSummary, ChildUpdate
from index_service.children.service import ChildRecord
from index_service.children.summaries import summary_of
from index_service.common import utcnow
from index_service.errors import Forbidden
from index_service.matching.model import load_model


@dataclass(frozen=True)
class PossibleDuplicates:
    """The record was not created: it may be one of these children. `candidates` is what
    the caller is shown (nothing, for an agency's feed); `child_ids` all of them, for the
    audit row."""

    child_ids: list[uuid.UUID]
    candidates: list[ChildSummary]


# Creations of children born the same day are serialised, so that two identical records
# sent at once (a feed's retry) cannot both pass the guard before either is committed.
_LOCK_NAMESPACE = 0x43484C44  # "CHLD"


def register_child(
    *,
    session: Session,
    caller: Principal,
    data: ChildCreate,
    request_id: str,
    age_limit: AgeLimit,
) -> service.ChildRecord | PossibleDuplicates:
    """Create the record, unless it may be a child the index already holds that the
    caller has not confirmed is a different child. The authority check comes first, so
    nobody outside it learns of any candidate; then whether the index may hold this
    child at all (the age limit)."""
    service.require_may_create(caller=caller, data=data)
    require_within_age_limit(
        data.date_of_birth,
        data.date_of_birth_precision.value,
        limit=age_limit,
        today=utcnow().date(),
    )
    if data.confirmed_distinct_from and not judges_duplicates(caller):
        raise Forbidden(
            "only a data manager or social worker may confirm that a record is a different child",
            code="confirmation_needs_a_person",
        )
    session.execute(
        select(func.pg_advisory_xact_lock(_LOCK_NAMESPACE, data.date_of_birth.toordinal()))
    )
    found = possible_duplicates(session=session, data=data, scope=match_scope(caller))
    if not found:
        return service.create_child(session=session, caller=caller, data=data)
    shown = found if judges_duplicates(caller) else []
    candidates = []
    for scored in shown:
        summary = summary_of(
            session=session,
            caller=caller,
            scored=scored,
            action="child:record:create",
            request_id=request_id,
        )
        if summary.explanation is not None:  # why this child is a possible duplicate
            summary.explanation["duplicate_reason"] = duplicate_reason(scored, load_model())
        candidates.append(summary)
    return PossibleDuplicates(
        child_ids=[scored.child_id for scored in found], candidates=candidates
    )


def change_child(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    child_id: uuid.UUID,
    data: ChildUpdate,
    expected_version: int,
    timing: AlertTiming,
    age_limit: AgeLimit,
) -> tuple[ChildRecord, dict[str, dict[str, Any]], list[Alert]]:
    """Apply a change (returning its field diff); if the child's current address is now
    in another authority, the designated managers of both and the key worker are alerted
    (R5)."""
    before = service.current_authority(session=session, child_id=child_id)
    record, changed = service.update_child(
        session=session,
        caller=caller,
        child_id=child_id,
        data=data,
        expected_version=expected_version,
    )
    if data.model_fields_set & {"date_of_birth", "date_of_birth_precision"}:
        # Checked on the record as changed (a new date with the stored precision, or the
        # reverse); refusing rolls the change back with the request.
        require_within_age_limit(
            record.child.date_of_birth,
            record.child.date_of_birth_precision,
            limit=age_limit,
            today=utcnow().date(),
        )
    after = next((a.local_authority for a in record.addresses if a.to_date is None), None)
    raised = alerts.after_move(
        session=session,
        occasion=alerts.occasion_of(caller=caller, purpose=purpose),
        child_id=child_id,
        from_authority=before,
        to_authority=after,
        timing=timing,
        shielded_for=record.child.responsible_authority if record.child.shielded else None,
    )
    return record, changed, raised
