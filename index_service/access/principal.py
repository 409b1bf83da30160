"""The authenticated caller, as every service function receives it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from index_service.access.roles import Role


@dataclass(frozen=True)
class Principal:
    issuer: str
    subject: str
    name: str
    email: str
    roles: frozenset[Role]
    organisation_id: uuid.UUID
    organisation_code: str
    organisation_type: str
    local_authority: str

    def has_role(self, role: Role) -> bool:
        return role in self.roles
