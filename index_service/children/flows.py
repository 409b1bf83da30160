"""Multi-step child flows: registering a new record behind the duplicate guard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.children import service
from index_service.children.duplicates import possible_duplicates
from index_service.children.schemas import ChildCreate, ChildSummary
from index_service.children.summaries import summary_of


@dataclass(frozen=True)
class PossibleDuplicates:
    """The record was not created: it may be one of these children."""

    candidates: list[ChildSummary]


def register_child(
    *, session: Session, caller: Principal, data: ChildCreate, request_id: str
) -> service.ChildRecord | PossibleDuplicates:
    """Create the record, unless it may be a child the index already holds that the
    caller has not confirmed is a different child. The authority check comes first, so
    nobody outside it learns of any candidate."""
    service.require_may_create(caller=caller, data=data)
    found = possible_duplicates(session=session, data=data)
    if found:
        return PossibleDuplicates(
            [
                summary_of(
                    session=session,
                    caller=caller,
                    scored=scored,
                    action="child:record:create",
                    request_id=request_id,
                )
                for scored in found
            ]
        )
    return service.create_child(session=session, caller=caller, data=data)
