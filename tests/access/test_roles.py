"""The roles that may not be held together (`access/roles.conflicting_duties`)."""

from __future__ import annotations

from index_service.access.roles import Role, conflicting_duties


def test_administrator_with_national_auditor_conflicts_and_nothing_else_does() -> None:
    reason = conflicting_duties(frozenset({Role.ADMINISTRATOR, Role.NATIONAL_AUDITOR}))
    assert reason is not None
    assert "administrator and national auditor" in reason
    for roles in (
        {Role.ADMINISTRATOR},
        {Role.NATIONAL_AUDITOR},
        {Role.ADMINISTRATOR, Role.AUDITOR},
        {Role.DATA_MANAGER, Role.AUDITOR},
        set(),
    ):
        assert conflicting_duties(frozenset(roles)) is None, roles
