"""Whose alerts a caller reads: their own (issuer + subject) and their teams' inboxes (the
designated managers' and the data managers' of their local authority). One clause, used
by the list query and by the single-alert load alike, so "not yours" is a 404."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from index_service.access.policy import DATA_MANAGER, DESIGNATED_MANAGER, Grant
from index_service.access.principal import Principal
from index_service.alerts.models import Alert, Team

TEAM_MEMBERS: dict[Team, Grant] = {
    Team.DESIGNATED_MANAGERS: DESIGNATED_MANAGER,
    Team.DATA_MANAGERS: DATA_MANAGER,
}


def teams_of(principal: Principal) -> list[Team]:
    return [team for team, grant in TEAM_MEMBERS.items() if grant.applies_to(principal)]


def alerts_for(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `alert`: the alerts this caller reads."""
    mine = and_(
        col(Alert.recipient_issuer) == principal.issuer,
        col(Alert.recipient_subject) == principal.subject,
    )
    teams = [
        and_(
            col(Alert.recipient_team) == team.value,
            col(Alert.recipient_authority) == principal.local_authority,
        )
        for team in teams_of(principal)
    ]
    return or_(mine, *teams)
