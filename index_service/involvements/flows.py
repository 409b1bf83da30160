"""Recording and ending an involvement, with the alerts each raises (R4) in the same
transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.access.sensitive import involvement_is_sensitive
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming
from index_service.involvements import service
from index_service.involvements.models import Involvement
from index_service.involvements.schemas import InvolvementCreate, InvolvementEnd


def start(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    child_id: uuid.UUID,
    data: InvolvementCreate,
    enquiry_since: datetime,
    timing: AlertTiming,
) -> tuple[Involvement, list[Alert]]:
    involvement = service.start_own_involvement(
        session=session, caller=caller, child_id=child_id, data=data, enquiry_since=enquiry_since
    )
    raised = alerts.after_change_to_child(
        session=session,
        occasion=alerts.occasion_of(caller=caller, purpose=purpose),
        child_id=child_id,
        reason="involvement_started",
        about=involvement.id,
        timing=timing,
        about_sensitive=involvement_is_sensitive(
            marked=involvement.sensitive, organisation_type=caller.organisation_type
        ),
    )
    return involvement, raised


def end(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    involvement_id: uuid.UUID,
    data: InvolvementEnd,
    timing: AlertTiming,
) -> tuple[Involvement, list[Alert]]:
    involvement = service.end_involvement(
        session=session, caller=caller, involvement_id=involvement_id, data=data
    )
    raised = alerts.after_change_to_child(
        session=session,
        occasion=alerts.occasion_of(caller=caller, purpose=purpose),
        child_id=involvement.child_id,
        reason="involvement_ended",
        about=involvement.id,
        timing=timing,
        about_sensitive=involvement_is_sensitive(
            marked=involvement.sensitive, organisation_type=caller.organisation_type
        ),
    )
    return involvement, raised
