"""Whose alerts a caller reads: their own (issuer + subject) and their teams' inboxes (the
designated managers' and the data managers' of their local authority), and, for the
designated managers, the alerts of their authority's practitioners who have no login
(reached by email only: someone who can sign in must be able to acknowledge for them, or
R6 escalates to these same managers); and whose
enquiry-only contacts: their authority's, for its designated managers. One clause each,
used by the list query and by the single-item load alike, so "not yours" is a 404."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col

from index_service.access.policy import DATA_MANAGER, DESIGNATED_MANAGER, Grant
from index_service.access.principal import Principal
from index_service.alerts.models import Alert, Team
from index_service.enquiries.models import EnquiryContact

TEAM_MEMBERS: dict[Team, Grant] = {
    Team.DESIGNATED_MANAGERS: DESIGNATED_MANAGER,
    Team.DATA_MANAGERS: DATA_MANAGER,
}


def teams_of(principal: Principal) -> list[Team]:
    return [team for team, grant in TEAM_MEMBERS.items() if grant.applies_to(principal)]


def alerts_for(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `alert`: the alerts this caller reads."""
    return or_(own_alerts_for(principal), team_alerts_for(principal))


def own_alerts_for(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `alert`: those addressed to this caller by name ("my alerts")."""
    return and_(
        col(Alert.recipient_issuer) == principal.issuer,
        col(Alert.recipient_subject) == principal.subject,
    )


def team_alerts_for(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `alert`: those of the caller's teams' inboxes (none for a
    caller in no team: `has_team_inbox`)."""
    teams = [
        and_(
            col(Alert.recipient_team) == team.value,
            col(Alert.recipient_authority) == principal.local_authority,
        )
        for team in teams_of(principal)
    ]
    if Team.DESIGNATED_MANAGERS in teams_of(principal):
        teams.append(
            and_(
                col(Alert.recipient_issuer).is_(None),
                col(Alert.recipient_team).is_(None),
                col(Alert.recipient_authority) == principal.local_authority,
            )
        )
    return or_(false(), *teams)


def has_team_inbox(principal: Principal) -> bool:
    """Whether the caller reads a team inbox (designated and data managers)."""
    return bool(teams_of(principal))


def enquiry_contacts_for(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `enquiry_contact`: the contacts of the caller's authority, if
    they are one of its designated managers (DOMAIN.md R3)."""
    if Team.DESIGNATED_MANAGERS not in teams_of(principal):
        return false()
    return col(EnquiryContact.local_authority) == principal.local_authority
