"""A candidate's summary: what a search (an enquiry, or the duplicate guard on a new
record) shows of a child it found, built from what the resolver already loaded, with only
the fields the access policy allows (a shielded child's: that it exists)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.access.views import summary_fields
from index_service.children.models import DatePrecision
from index_service.children.schemas import ChildSummary
from index_service.children.service import note_shielded_access
from index_service.matching.postcodes import outward_code
from index_service.matching.resolver import Scored


def explanation_of(scored: Scored) -> dict[str, Any]:
    """The candidate's explanation as stored on the enquiry and shown in its summary."""
    return {"child_id": str(scored.child_id), **scored.explanation.as_dict()}


def summary_of(
    *, session: Session, caller: Principal, scored: Scored, action: str, request_id: str
) -> ChildSummary:
    child = scored.stored.child
    note_shielded_access(
        session=session, caller=caller, child=child, action=action, request_id=request_id
    )
    legal = scored.stored.person.names[0] if scored.stored.person.names else None
    current = scored.stored.current_postcode
    values: dict[str, Any] = {
        "child_id": child.id,
        "shielded": child.shielded,
        "given_names": legal.given if legal else None,
        "family_name": legal.family if legal else None,
        "date_of_birth": child.date_of_birth,
        "date_of_birth_precision": DatePrecision(child.date_of_birth_precision),
        "postcode_district": outward_code(current) if current else None,
        "explanation": explanation_of(scored),
    }
    fields = summary_fields(
        caller, shielded=child.shielded, responsible_authority=child.responsible_authority
    )
    return ChildSummary(**{name: values[name] for name in fields})
