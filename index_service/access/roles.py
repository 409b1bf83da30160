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


# Separation of duties: no one holds both roles of a pair at once, so that nobody audits
# their own administration. One definition, asked by the API (`api/security.py`, for a
# token) and by the pages (a session is made the same way, so sign-in refuses it too).
SEPARATED: tuple[tuple[Role, Role], ...] = ((Role.ADMINISTRATOR, Role.NATIONAL_AUDITOR),)


def conflicting_duties(roles: frozenset[Role]) -> str | None:
    """Why these roles may not be held together, in plain words; None if they may."""
    for one, other in SEPARATED:
        if one in roles and other in roles:
            return (
                f"one person may not be both {one.value.replace('_', ' ')} and "
                f"{other.value.replace('_', ' ')}: nobody audits their own administration. "
                "Ask for one of the two roles to be removed"
            )
    return None
