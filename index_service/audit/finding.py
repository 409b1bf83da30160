"""Finding a child to audit as an enquiry finds one: by what the auditor knows of the child
(names, date of birth or age, postcode, NHS number, UPN), not by the index's id. The same
need-to-know rule as an enquiry (`access/need_to_know.py`: enough to name one child, so the
index cannot be browsed from here either), the same matcher and resolver with the same
match scope, and then only the children the auditor may report on (`access/scope.py`'s
`children_audited`). The auditor picks one; who looked at it is the report by child id.

No enquiry is recorded, no alert raised and no child's record opened: the auditor is
shown who the candidates are (name, date of birth, district), which the review report
would show them anyway. The search itself is audited by the page that calls this, with
the criteria as the matcher read them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from index_service.access.need_to_know import match_scope, require_sufficient_criteria
from index_service.access.principal import Principal
from index_service.access.scope import children_audited
from index_service.children.models import Child, ChildAddress, ChildName, NameKind
from index_service.common import utcnow
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.postcodes import outward_code
from index_service.matching.resolver import resolve


@dataclass(frozen=True)
class ChildFound:
    child_id: uuid.UUID
    name: str
    date_of_birth: date
    postcode_district: str | None
    responsible_authority: str


@dataclass(frozen=True)
class Finding:
    outcome: str  # the resolver's: match, possible_matches, not_found
    criteria: dict[str, Any]  # as searched on, for the audit row
    candidates: list[ChildFound]
    model_version: str


def find_children(*, session: Session, principal: Principal, data: EnquiryCreate) -> Finding:
    """The children the matcher finds for these criteria that the auditor may report on,
    best first (at most the enquiry's five). 400 if the criteria are not enough."""
    require_sufficient_criteria(data.model_dump())
    person = person_of(data, today=utcnow().date())
    resolution = resolve(session=session, person=person, scope=match_scope(principal))
    ranked = [s.child_id for s in resolution.candidates]
    criteria = data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    if not ranked:
        return Finding(resolution.outcome.value, criteria, [], resolution.model_version)
    children = {
        c.id: c
        for c in session.exec(
            select(Child).where(col(Child.id).in_(ranked), children_audited(principal))
        )
    }
    names = {
        n.child_id: f"{n.given_names} {n.family_name}"
        for n in session.exec(
            select(ChildName).where(
                col(ChildName.child_id).in_(list(children)),
                col(ChildName.kind) == NameKind.LEGAL.value,
            )
        )
    }
    postcodes = {
        a.child_id: a.postcode
        for a in session.exec(
            select(ChildAddress).where(
                col(ChildAddress.child_id).in_(list(children)), col(ChildAddress.to_date).is_(None)
            )
        )
    }
    found = [
        ChildFound(
            child_id=child_id,
            name=names.get(child_id, ""),
            date_of_birth=children[child_id].date_of_birth,
            postcode_district=outward_code(postcodes[child_id]) if child_id in postcodes else None,
            responsible_authority=children[child_id].responsible_authority,
        )
        for child_id in ranked
        if child_id in children
    ]
    return Finding(resolution.outcome.value, criteria, found, resolution.model_version)
