"""The roles a token may carry (DOMAIN.md "Who uses it")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    SOCIAL_WORKER = "social_worker"
    DESIGNATED_MANAGER = "designated_manager"
    DATA_MANAGER = "data_manager"
    AUDITOR = "auditor"
    NATIONAL_AUDITOR = "national_auditor"
    ADMINISTRATOR = "administrator"
    SERVICE_ACCOUNT = "service_account"


def parse_roles(values: list[str]) -> frozenset[Role]:
    """Known roles only: a role this service does not know grants nothing (deny by default)."""
    known = {r.value for r in Role}
    return frozenset(Role(v) for v in values if v in known)
