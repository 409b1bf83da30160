"""Raising and ending a flag, with the alerts each raises (R4) in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.access.sensitive import is_sensitive_service
from index_service.alerts import flows as alerts
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming
from index_service.flags import service
from index_service.flags.models import Flag


def raise_flag(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    child_id: uuid.UUID,
    data: BaseModel,
    enquiry_since: datetime,
    timing: AlertTiming,
) -> tuple[Flag, list[Alert]]:
    flag = service.raise_flag(
        session=session, caller=caller, child_id=child_id, data=data, enquiry_since=enquiry_since
    )
    return flag, _tell(session, caller, purpose, flag, "flag_raised", timing)


def end_flag(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    flag_id: uuid.UUID,
    timing: AlertTiming,
) -> tuple[Flag, list[Alert]]:
    flag = service.end_flag(session=session, caller=caller, flag_id=flag_id)
    return flag, _tell(session, caller, purpose, flag, "flag_ended", timing)


def _tell(
    session: Session,
    caller: Principal,
    purpose: Purpose,
    flag: Flag,
    reason: str,
    timing: AlertTiming,
) -> list[Alert]:
    return alerts.after_change_to_child(
        session=session,
        occasion=alerts.occasion_of(caller=caller, purpose=purpose),
        child_id=flag.child_id,
        reason=reason,
        about=flag.id,
        timing=timing,
        # A sensitive service's flag names it to nobody else: nor does its alert.
        about_sensitive=is_sensitive_service(caller.organisation_type),
    )
