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

    @property
    def actor(self) -> str:
        """Who did something, as the index writes it on a row (`ended_by`, `registered_by`,
        a rate-limit tally): the identity provider and the person's subject there, since
        a subject is unique only within its issuer."""
        return f"{self.issuer} {self.subject}"
