"""The one access policy: a permission vocabulary (`scope:resource:action`) and who holds
each permission. Deny by default: a permission nobody is granted is refused to all, and a
denial carries its reason."""

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
    ORGANISATION_CREATE = "admin:organisation:create"
    ORGANISATION_READ = "admin:organisation:read"


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
_CHILD_RECORD_KEEPERS = (Grant(Role.DATA_MANAGER), Grant(Role.SOCIAL_WORKER, _CSC))

GRANTS: dict[Permission, tuple[Grant, ...]] = {
    Permission.CHILD_CREATE: _CHILD_RECORD_KEEPERS,
    Permission.CHILD_READ: _CHILD_RECORD_KEEPERS,
    Permission.CHILD_UPDATE: _CHILD_RECORD_KEEPERS,
    Permission.ORGANISATION_CREATE: (Grant(Role.ADMINISTRATOR),),
    Permission.ORGANISATION_READ: (Grant(Role.ADMINISTRATOR),),
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
    return Decision(
        False,
        f"{permission.value} needs one of the roles {', '.join(roles)}"
        + (
            " in an organisation of the right type"
            if any(g.organisation_types for g in grants)
            else ""
        ),
    )
