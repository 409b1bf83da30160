"""Finding a child to audit as an enquiry finds one: by what the auditor knows of the child
(names, date of birth or age, postcode, NHS number, UPN), not by the index's id. The same
need-to-know rule as an enquiry (`access/need_to_know.py`: enough to name one child, so the
index cannot be browsed from here either), the same matcher and resolver with the same
match scope, and then only the children the auditor may report on (`access/scope.py`'s
`children_audited`). The auditor picks one; who looked at it is the report by child id.

No enquiry is recorded and no child's record opened: the auditor is shown each
candidate's search summary, built where an enquiry's is (`children/summaries.py`, whose
fields `access/views.summary_fields` decides): name, date of birth, district; of a
shielded child only that a record exists (and its authority, whom to ask), and the
access is kept for the data manager's alert (R7) as any other path's. The search itself is
audited by the page that calls this, with the criteria as the matcher read them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from index_service.access.need_to_know import match_scope, require_sufficient_criteria
from index_service.access.principal import Principal
from index_service.access.scope import children_audited
from index_service.children.models import Child
from index_service.children.schemas import ChildSummary
from index_service.children.summaries import summary_of
from index_service.common import utcnow
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.resolver import resolve


@dataclass(frozen=True)
class ChildFound:
    summary: ChildSummary  # as `access/views.summary_fields` allows this auditor
    responsible_authority: str  # whom to ask, shielded or not

    @property
    def child_id(self) -> uuid.UUID:
        return self.summary.child_id


@dataclass(frozen=True)
class Finding:
    outcome: str  # the resolver's: match, possible_matches, not_found
    criteria: dict[str, Any]  # as searched on, for the audit row
    candidates: list[ChildFound]
    model_version: str


def find_children(
    *, session: Session, principal: Principal, data: EnquiryCreate, action: str, request_id: str
) -> Finding:
    """The children the matcher finds for these criteria that the auditor may report on,
    best first (at most the enquiry's five). 400 if the criteria are not enough.
    `action` and `request_id`: the page's, kept with a shielded child's access (R7)."""
    require_sufficient_criteria(data.model_dump())
    person = person_of(data, today=utcnow().date())
    resolution = resolve(session=session, person=person, scope=match_scope(principal))
    criteria = data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    ranked = [s.child_id for s in resolution.candidates]
    audited = (
        set(
            session.exec(
                select(Child.id).where(col(Child.id).in_(ranked), children_audited(principal))
            )
        )
        if ranked
        else set()
    )
    found = [
        ChildFound(
            summary=summary_of(
                session=session,
                caller=principal,
                scored=scored,
                action=action,
                request_id=request_id,
            ),
            responsible_authority=scored.stored.child.responsible_authority,
        )
        for scored in resolution.candidates
        if scored.child_id in audited
    ]
    return Finding(resolution.outcome.value, criteria, found, resolution.model_version)
