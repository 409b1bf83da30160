""" "My children": the current involvements a practitioner holds, each with the child's
name where they may be told it (`access/views.holder_names_child`) and the child's flags
due for review (`flags/queries.due_for_review`), a sensitive service's shown as its
notice only (`access/sensitive.py`, as in a child's entry)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.access.sensitive import SENSITIVE_NOTICE, sees_flag_raiser_in_full
from index_service.access.views import holder_names_child
from index_service.alerts.service import legal_names
from index_service.flags.queries import due_for_review
from index_service.involvements.queries import held_by


@dataclass(frozen=True)
class DueFlag:
    kind: str
    review_date: date | None
    overdue: bool
    raised_by: str  # the raising organisation, or the sensitive-service notice


@dataclass
class HeldChild:
    involvement_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str | None
    service: str
    is_key_worker: bool
    is_lead_professional: bool
    is_allocated_worker: bool
    start_date: date
    flags_due: list[DueFlag] = field(default_factory=list)


def my_children(*, session: Session, caller: Principal, today: date) -> list[HeldChild]:
    held = held_by(session=session, issuer=caller.issuer, subject=caller.subject, today=today)
    ids = {i.child_id for i in held}
    names = legal_names(session=session, child_ids=ids, visible=holder_names_child(caller))
    due: dict[uuid.UUID, list[DueFlag]] = {}
    for flag, organisation in due_for_review(session=session, child_ids=ids, today=today):
        in_full = sees_flag_raiser_in_full(
            organisation_type=organisation.type,
            owner_is_viewer=organisation.id == caller.organisation_id,
        )
        due.setdefault(flag.child_id, []).append(
            DueFlag(
                kind=flag.kind,
                review_date=flag.review_date,
                overdue=flag.review_date is not None and flag.review_date < today,
                raised_by=organisation.name if in_full else SENSITIVE_NOTICE,
            )
        )
    return [
        HeldChild(
            involvement_id=i.id,
            child_id=i.child_id,
            child_name=names.get(i.child_id),
            service=i.service,
            is_key_worker=i.is_key_worker,
            is_lead_professional=i.is_lead_professional,
            is_allocated_worker=i.is_allocated_worker,
            start_date=i.start_date,
            flags_due=due.get(i.child_id, []),
        )
        for i in held
    ]
