"""The one access policy: a permission vocabulary (`scope:resource:action`), who holds each
permission (role, and the types of organisation the role counts in), which permissions
touch child data (and so need a purpose of use) and which are rate limited. Deny by
default: a permission nobody is granted is refused to all, and a denial carries its reason.

Which *child* a permitted caller may reach is decided in `access/scope.py`, and which
*fields* they see in `access/views.py`: the same three modules answer for every route and
every list query.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.organisations.models import OrganisationType


class Permission(StrEnum):
    CHILD_CREATE = "child:record:create"
    CHILD_READ = "child:record:read"
    CHILD_UPDATE = "child:record:update"
    CHILD_SHIELD = "child:record:shield"
    CHILD_MERGE = "child:record:merge"
    CHILD_LEGAL_HOLD = "child:record:legal_hold"
    CHILD_SUBJECT_ACCESS = "child:record:subject_access"
    ENQUIRY_CREATE = "child:enquiry:create"
    ENQUIRY_OPEN = "child:enquiry:open"
    ENQUIRY_CONTACT_READ = "child:enquiry_contact:read"
    ENQUIRY_CONTACT_CLOSE = "child:enquiry_contact:close"
    INVOLVEMENT_RECORD = "child:involvement:record"
    INVOLVEMENT_END = "child:involvement:end"
    FLAG_RAISE = "child:flag:raise"
    FLAG_REVIEW = "child:flag:review"
    FLAG_END = "child:flag:end"
    FLAG_OVERDUE_READ = "child:flag:read_overdue"
    FEED_SUBMIT = "child:feed:submit"
    FEED_REVIEW = "child:feed:review"
    DATA_QUALITY_READ = "child:data_quality:read"
    ALERT_READ = "alert:inbox:read"
    ALERT_ACKNOWLEDGE = "alert:inbox:acknowledge"
    WEBHOOK_REGISTER = "admin:webhook:register"
    WEBHOOK_READ = "admin:webhook:read"
    WEBHOOK_WITHDRAW = "admin:webhook:withdraw"
    ORGANISATION_CREATE = "admin:organisation:create"
    ORGANISATION_READ = "admin:organisation:read"
    ORGANISATION_UPDATE = "admin:organisation:update"
    ORGANISATION_DEACTIVATE = "admin:organisation:deactivate"
    SUSPENSION_CREATE = "admin:suspension:create"
    SUSPENSION_READ = "admin:suspension:read"
    SUSPENSION_LIFT = "admin:suspension:lift"
    ISSUER_REGISTER = "admin:issuer:register"
    ISSUER_READ = "admin:issuer:read"
    ISSUER_WITHDRAW = "admin:issuer:withdraw"
    AUDIT_EVENT_SEARCH = "audit:event:search"
    AUDIT_EVENT_EXPORT = "audit:event:export"
    AUDIT_REPORT_READ = "audit:report:read"
    AUDIT_CHAIN_VERIFY = "audit:chain:verify"

    @property
    def touches_child_data(self) -> bool:
        """Every request under the `child` scope states a purpose of use."""
        return self.value.startswith("child:")


class RateBucket(StrEnum):
    SEARCH = "search"
    READ = "read"


# Counted when the request is authenticated. Besides, a request that opens a child by a
# route not counted as a read here (an enquiry whose answer is a `match`) spends a read
# when it opens it (access/opening.py, api/opening.py).
RATE_LIMITED: dict[Permission, RateBucket] = {
    Permission.ENQUIRY_CREATE: RateBucket.SEARCH,
    # Creating runs the matcher first (the duplicate guard): a search by another door.
    Permission.CHILD_CREATE: RateBucket.SEARCH,
    Permission.ENQUIRY_OPEN: RateBucket.READ,
    Permission.CHILD_READ: RateBucket.READ,
    # Changing a record answers with it, so it counts as a read too.
    Permission.CHILD_UPDATE: RateBucket.READ,
    Permission.CHILD_SHIELD: RateBucket.READ,
    Permission.CHILD_MERGE: RateBucket.READ,
    Permission.CHILD_SUBJECT_ACCESS: RateBucket.READ,
    # Recording work on a child reaches the child: it counts as a read.
    Permission.INVOLVEMENT_RECORD: RateBucket.READ,
    Permission.FLAG_RAISE: RateBucket.READ,
    # A page of the gaps report names up to 200 children, and a feed row under review
    # shows its candidates: reads of child data, counted as such.
    Permission.DATA_QUALITY_READ: RateBucket.READ,
    Permission.FEED_REVIEW: RateBucket.READ,
}


@dataclass(frozen=True)
class Grant:
    """A role holds the permission, optionally only in organisations of given types."""

    role: Role
    organisation_types: frozenset[OrganisationType] | None = None

    def applies_to(self, principal: Principal) -> bool:
        if self.role not in principal.roles:
            return False
        return self.organisation_types is None or (
            principal.organisation_type in self.organisation_types
        )


_CSC = frozenset({OrganisationType.CHILDRENS_SOCIAL_CARE})
_OPERATOR = frozenset({OrganisationType.INDEX_OPERATOR})
_AGENCIES = frozenset(set(OrganisationType) - {OrganisationType.INDEX_OPERATOR})

# Roles and where they count: a data manager, social worker or designated manager works
# for a local authority's children's social care; an administrator for the index's
# operator; practitioners and agency systems for any participating agency.
DATA_MANAGER = Grant(Role.DATA_MANAGER, _CSC)
SOCIAL_WORKER = Grant(Role.SOCIAL_WORKER, _CSC)
DESIGNATED_MANAGER = Grant(Role.DESIGNATED_MANAGER, _CSC)
PRACTITIONER = Grant(Role.PRACTITIONER, _AGENCIES)
SERVICE_ACCOUNT = Grant(Role.SERVICE_ACCOUNT, _AGENCIES)
ADMINISTRATOR = Grant(Role.ADMINISTRATOR, _OPERATOR)
# An auditor audits their own local authority, from the authority itself (so that an
# identity provider registered at run time for an agency cannot mint one); a national
# auditor audits everything, from the index's operator.
AUDITOR = Grant(Role.AUDITOR, _CSC)
NATIONAL_AUDITOR = Grant(Role.NATIONAL_AUDITOR, _OPERATOR)
_AUDITORS = (AUDITOR, NATIONAL_AUDITOR)

_ENQUIRERS = (PRACTITIONER, SOCIAL_WORKER, DESIGNATED_MANAGER, DATA_MANAGER)
# Who works with children: records their own involvement, raises and ends flags.
_WORKERS = (PRACTITIONER, SOCIAL_WORKER)
# Who receives alerts: practitioners and social workers for themselves, designated and
# data managers for their teams too.
_ALERTED = (PRACTITIONER, SOCIAL_WORKER, DESIGNATED_MANAGER, DATA_MANAGER)

GRANTS: dict[Permission, tuple[Grant, ...]] = {
    Permission.CHILD_CREATE: (DATA_MANAGER, SOCIAL_WORKER, SERVICE_ACCOUNT),
    Permission.CHILD_READ: (DATA_MANAGER, SOCIAL_WORKER, DESIGNATED_MANAGER),
    Permission.CHILD_UPDATE: (DATA_MANAGER, SOCIAL_WORKER),
    Permission.CHILD_SHIELD: (DATA_MANAGER,),
    # Merging, unmerging and subject access: the responsible authority's data managers
    # (`access/objects.py`). A legal hold (an inquiry's moratorium): they or an auditor.
    Permission.CHILD_MERGE: (DATA_MANAGER,),
    Permission.CHILD_LEGAL_HOLD: (DATA_MANAGER, *_AUDITORS),
    Permission.CHILD_SUBJECT_ACCESS: (DATA_MANAGER,),
    Permission.ENQUIRY_CREATE: _ENQUIRERS,
    Permission.ENQUIRY_OPEN: _ENQUIRERS,
    Permission.ENQUIRY_CONTACT_READ: (DESIGNATED_MANAGER,),
    Permission.ENQUIRY_CONTACT_CLOSE: (DESIGNATED_MANAGER,),
    Permission.INVOLVEMENT_RECORD: _WORKERS,
    Permission.INVOLVEMENT_END: _WORKERS,
    Permission.FLAG_RAISE: _WORKERS,
    Permission.FLAG_REVIEW: _WORKERS,
    Permission.FLAG_END: _WORKERS,
    Permission.FLAG_OVERDUE_READ: (*_WORKERS, DATA_MANAGER),
    # Agency systems send feeds; a data manager may load their own authority's records.
    Permission.FEED_SUBMIT: (DATA_MANAGER, SERVICE_ACCOUNT),
    Permission.FEED_REVIEW: (DATA_MANAGER,),
    Permission.DATA_QUALITY_READ: (DATA_MANAGER,),
    Permission.ALERT_READ: _ALERTED,
    Permission.ALERT_ACKNOWLEDGE: _ALERTED,
    Permission.WEBHOOK_REGISTER: (ADMINISTRATOR,),
    Permission.WEBHOOK_READ: (ADMINISTRATOR,),
    Permission.WEBHOOK_WITHDRAW: (ADMINISTRATOR,),
    Permission.ORGANISATION_CREATE: (ADMINISTRATOR,),
    Permission.ORGANISATION_READ: (ADMINISTRATOR,),
    Permission.ORGANISATION_UPDATE: (ADMINISTRATOR,),
    Permission.ORGANISATION_DEACTIVATE: (ADMINISTRATOR,),
    Permission.SUSPENSION_CREATE: (ADMINISTRATOR,),
    Permission.SUSPENSION_READ: (ADMINISTRATOR,),
    Permission.SUSPENSION_LIFT: (ADMINISTRATOR,),
    Permission.ISSUER_REGISTER: (ADMINISTRATOR,),
    Permission.ISSUER_READ: (ADMINISTRATOR,),
    Permission.ISSUER_WITHDRAW: (ADMINISTRATOR,),
    Permission.AUDIT_EVENT_SEARCH: _AUDITORS,
    Permission.AUDIT_EVENT_EXPORT: _AUDITORS,
    Permission.AUDIT_REPORT_READ: _AUDITORS,
    Permission.AUDIT_CHAIN_VERIFY: _AUDITORS,
}


# The route a refused caller should use instead, when they hold its permission: a
# practitioner reaches a child through an enquiry, never by its id.
INSTEAD: dict[Permission, tuple[Permission, str]] = {
    Permission.CHILD_READ: (
        Permission.ENQUIRY_CREATE,
        "look children up with an enquiry: POST /v1/enquiries, then open a child it found "
        "with GET /v1/enquiries/{enquiry_id}/children/{child_id}",
    ),
    Permission.CHILD_UPDATE: (
        Permission.INVOLVEMENT_RECORD,
        "the child's local authority keeps the record; to say you work with the child, "
        "POST /v1/children/{child_id}/involvements",
    ),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def authorise(principal: Principal, permission: Permission) -> Decision:
    grants = GRANTS.get(permission, ())
    for grant in grants:
        if grant.applies_to(principal):
            return Decision(True, f"granted to role {grant.role.value}")
    if not grants:
        return Decision(False, f"{permission.value} is granted to nobody")
    roles = sorted({g.role.value for g in grants})
    reason = f"{permission.value} needs one of the roles {', '.join(roles)}" + (
        " in an organisation of the right type" if any(g.organisation_types for g in grants) else ""
    )
    instead = INSTEAD.get(permission)
    if instead is not None and authorise(principal, instead[0]):
        reason = f"{instead[1]} ({reason})"
    return Decision(False, reason)


def holds(principal: Principal, *grants: Grant) -> bool:
    return any(grant.applies_to(principal) for grant in grants)


# Roles that reach children directly, run the index, or read the audit trail (which
# holds search criteria).
_POWERFUL = (
    DATA_MANAGER,
    SOCIAL_WORKER,
    DESIGNATED_MANAGER,
    ADMINISTRATOR,
    AUDITOR,
    NATIONAL_AUDITOR,
)


def issuer_may_be_registered_for(organisation_type: str) -> bool:
    """An identity provider registered at run time by an administrator may vouch only for
    organisations where no powerful role counts; otherwise an administrator could mint a
    data manager (or another administrator) for themselves. Those organisations' issuers
    are configured in settings, under change control."""
    return not any(
        grant.organisation_types is None or organisation_type in grant.organisation_types
        for grant in _POWERFUL
    )
