"""Which children a caller may reach: one answer for single-item checks and list queries.

A data manager, social worker or designated manager acts for their own local authority's
children: those the authority is responsible for, or who live there now (the current
address), unless the child is shielded: where a shielded child lives is known only to
the responsible authority, so for everyone else its address gives no reach, and an
authority where it lives answers exactly as any other authority does (404).
Practitioners reach a child only through their own enquiry that found it
(`found_by_own_enquiry`, the one definition of "may open from an enquiry"). Everyone else reaches
no child. "Not yours" and "does not exist" are the same 404, because the single-item
load applies this same clause in its WHERE.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Uuid,
    and_,
    any_,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped
from sqlmodel import col

from index_service.access.policy import (
    AUDITOR,
    DATA_MANAGER,
    DESIGNATED_MANAGER,
    NATIONAL_AUDITOR,
    PRACTITIONER,
    SOCIAL_WORKER,
    holds,
)
from index_service.access.principal import Principal
from index_service.alerts.models import Alert
from index_service.audit.models import AuditEvent
from index_service.children.models import Child, ChildAddress
from index_service.enquiries.models import Enquiry
from index_service.feeds.models import FeedReview
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation, OrganisationType

AUTHORITY_ROLES = (DATA_MANAGER, SOCIAL_WORKER, DESIGNATED_MANAGER)
# Who works with children and so records involvements and raises flags.
REACHING_ROLES = (*AUTHORITY_ROLES, PRACTITIONER)


def acts_for_authority(principal: Principal) -> bool:
    return holds(principal, *AUTHORITY_ROLES)


def children_in_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children this caller reaches directly."""
    if not acts_for_authority(principal):
        return false()
    return children_of_authority(principal.local_authority)


# An authority's code, or the column of an enclosing query that holds one.
AuthorityCode = str | ColumnElement[str] | Mapped[str]


def lives_in(authority: AuthorityCode) -> ColumnElement[bool]:
    """A WHERE clause over `child`: its current address is in `authority` (a code, or a
    column of an enclosing query, however deep the nesting)."""
    return (
        exists()
        .where(
            col(ChildAddress.child_id) == col(Child.id),
            col(ChildAddress.to_date).is_(None),
            col(ChildAddress.local_authority) == authority,
        )
        .correlate_except(ChildAddress)
    )


def children_of_authority(authority: AuthorityCode) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the authority is responsible for it, or it lives there
    and is not shielded (a shielded child's address must not decide any answer given to
    another authority: not a 200 rather than a 404, not a report's listing)."""
    return or_(
        col(Child.responsible_authority) == authority,
        and_(col(Child.shielded).is_(False), lives_in(authority)),
    )


def children_audited(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children whose access an auditor may report on.
    A national auditor: every child. An auditor: their authority's children."""
    if holds(principal, NATIONAL_AUDITOR):
        return true()
    if not holds(principal, AUDITOR):
        return false()
    return children_of_authority(principal.local_authority)


def children_held(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children whose legal hold a caller may look at
    (then `access/objects.may_hold` decides): a data manager's authority's children, an
    auditor's audited children. Anything else is the same 404 as no child."""
    return or_(children_in_scope(principal), children_audited(principal))


def reviews_in_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `feed_review`: the queued feed rows a data manager decides,
    their own authority's (`FeedReview.responsible_authority`: the matched child's
    responsible authority, or the one the row names). Another authority's review is the
    same 404 as none: its candidates may include a shielded record."""
    if not holds(principal, DATA_MANAGER):
        return false()
    return col(FeedReview.responsible_authority) == principal.local_authority


def local_organisations(authority: str) -> ColumnElement[bool]:
    """A WHERE clause over `organisation`: the organisations of an authority whose people
    its auditors audit. Never the index operator's, whatever authority code it carries:
    its staff's acts (administrators, national auditors) are the national auditors' only."""
    return and_(
        col(Organisation.local_authority) == authority,
        col(Organisation.type) != OrganisationType.INDEX_OPERATOR.value,
    )


def alerts_audited(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `alert`: the alerts an auditor may report on. A national
    auditor: all. An auditor: those to their authority's teams or to people in its
    organisations."""
    if holds(principal, NATIONAL_AUDITOR):
        return true()
    if not holds(principal, AUDITOR):
        return false()
    ours = select(col(Organisation.id)).where(local_organisations(principal.local_authority))
    return or_(
        col(Alert.recipient_authority) == principal.local_authority,
        col(Alert.recipient_organisation_id).in_(ours),
    )


def audit_events_in_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `audit_event`: the events an auditor may read. A national
    auditor: all. An auditor: those by anyone in an organisation of their authority, and
    those about any of their authority's children, but never an event by the index
    operator's staff (`local_organisations`), even one naming their child."""
    if holds(principal, NATIONAL_AUDITOR):
        return true()
    if not holds(principal, AUDITOR):
        return false()
    authority = principal.local_authority
    by_our_people = col(AuditEvent.organisation).in_(
        select(col(Organisation.code)).where(local_organisations(authority))
    )
    operators = select(col(Organisation.code)).where(
        col(Organisation.type) == OrganisationType.INDEX_OPERATOR.value
    )
    about_our_children = and_(
        exists().where(
            col(Child.id) == any_(col(AuditEvent.child_ids)), children_of_authority(authority)
        ),
        # A national auditor's look at our child is still the operator's staff's event.
        or_(col(AuditEvent.organisation).is_(None), col(AuditEvent.organisation).not_in(operators)),
    )
    return or_(by_our_people, about_our_children)


def in_authority(
    principal: Principal,
    *,
    responsible_authority: str,
    current_authority: str | None,
    shielded: bool = False,
) -> bool:
    """The same rule for a record in hand (before it is stored, or after a change)."""
    if not acts_for_authority(principal):
        return False
    if principal.local_authority == responsible_authority:
        return True
    return not shielded and principal.local_authority == current_authority


def sees_shielded_record(principal: Principal, *, responsible_authority: str) -> bool:
    """Only the responsible authority's data managers see a shielded child in full."""
    return holds(principal, DATA_MANAGER) and principal.local_authority == responsible_authority


def shielded_seen_in_full(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`, the list form of `sees_shielded_record`: the record is
    not shielded, or the caller is one of its responsible authority's data managers."""
    if not holds(principal, DATA_MANAGER):
        return col(Child.shielded).is_(False)
    return or_(
        col(Child.shielded).is_(False),
        col(Child.responsible_authority) == principal.local_authority,
    )


def found_by_own_enquiry(
    principal: Principal,
    child: uuid.UUID | ColumnElement[uuid.UUID] | Mapped[uuid.UUID],
    *,
    since: datetime,
) -> ColumnElement[bool]:
    """A WHERE clause over `enquiry`: the caller's own enquiries (the same issuer and
    subject, not merely their organisation's) made since `since` that showed `child` (an
    id, or an enclosing query's `child.id`) among their candidates. The one definition
    of "may open from an enquiry": opening a candidate (within ENQUIRY_OPEN_MINUTES) and
    reaching a child to record work on it (within REACH_AFTER_ENQUIRY_DAYS) both ask it,
    and anything else is the same 404 as a child that does not exist."""
    shown = literal(child, Uuid) if isinstance(child, uuid.UUID) else child
    return and_(
        col(Enquiry.issuer) == principal.issuer,
        col(Enquiry.subject) == principal.subject,
        col(Enquiry.created_at) >= since,
        shown == any_(col(Enquiry.candidate_ids)),
    )


def children_reached(principal: Principal, *, enquiry_since: datetime) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children a caller may record an involvement or
    raise a flag on. Their authority's children (as above); a child their own enquiry
    found since `enquiry_since`; a child their organisation is working with now."""
    if not holds(principal, *REACHING_ROLES):
        return false()
    found_by_me = exists().where(
        found_by_own_enquiry(principal, col(Child.id), since=enquiry_since)
    )
    working_with = exists().where(
        col(Involvement.child_id) == col(Child.id),
        col(Involvement.organisation_id) == principal.organisation_id,
        col(Involvement.end_date).is_(None),
    )
    return or_(children_in_scope(principal), found_by_me, working_with)
