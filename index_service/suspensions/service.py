"""Suspension service functions: keyword-only, given the session and the caller."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.issuers.models import TrustedIssuerRecord
from index_service.suspensions.models import Suspension, SuspensionCreate, SuspensionKind


def _by(caller: Principal) -> str:
    return f"{caller.issuer} {caller.subject}"


def suspend(
    *,
    session: Session,
    caller: Principal,
    data: SuspensionCreate,
    configured_issuers: frozenset[str],
) -> Suspension:
    """`configured_issuers`: those trusted by settings; registered ones are looked up. A
    user suspension must name an issuer the service trusts, spelt exactly as its tokens
    spell it, or it would match nobody while looking as if it worked."""
    organisation_code = data.organisation_code.upper() if data.organisation_code else None
    if data.issuer is not None and data.issuer not in configured_issuers:
        registered = session.exec(
            select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer == data.issuer)
        ).first()
        if registered is None:
            raise InvalidInput(
                "no trusted issuer is spelt exactly like that; copy `iss` from the user's token",
                code="issuer_unknown",
            )
    if data.kind == SuspensionKind.USER and (data.issuer, data.subject) == (
        caller.issuer,
        caller.subject,
    ):
        raise Conflict("you cannot suspend yourself", code="cannot_suspend_yourself")
    if organisation_code == caller.organisation_code:
        raise Conflict(
            "you cannot suspend your own organisation: no one would be left to lift it",
            code="cannot_suspend_your_own_organisation",
        )
    if active_suspension(
        session=session,
        issuer=data.issuer if data.kind == SuspensionKind.USER else None,
        subject=data.subject if data.kind == SuspensionKind.USER else None,
        organisation_code=organisation_code,
    ):
        raise Conflict("already suspended", code="already_suspended")
    suspension = Suspension(
        kind=data.kind.value,
        issuer=data.issuer,
        subject=data.subject,
        organisation_code=organisation_code,
        reason=data.reason,
        suspended_by=_by(caller),
    )
    session.add(suspension)
    session.flush()
    return suspension


def active_suspension(
    *, session: Session, issuer: str | None, subject: str | None, organisation_code: str | None
) -> Suspension | None:
    """The suspension that stops this user or their organisation now, if any."""
    targets: list[ColumnElement[bool]] = []
    if issuer is not None and subject is not None:
        targets.append((col(Suspension.issuer) == issuer) & (col(Suspension.subject) == subject))
    if organisation_code is not None:
        targets.append(col(Suspension.organisation_code) == organisation_code)
    if not targets:
        return None
    return session.exec(
        select(Suspension).where(col(Suspension.lifted_at).is_(None)).where(or_(*targets))
    ).first()


def list_suspensions(
    *, session: Session, caller: Principal, limit: int, include_lifted: bool
) -> list[Suspension]:
    query = select(Suspension).order_by(col(Suspension.suspended_at).desc()).limit(limit)
    if not include_lifted:
        query = query.where(col(Suspension.lifted_at).is_(None))
    return list(session.exec(query))


def lift(*, session: Session, caller: Principal, suspension_id: uuid.UUID) -> Suspension:
    suspension = session.exec(
        select(Suspension).where(Suspension.id == suspension_id).with_for_update()
    ).first()
    if suspension is None:
        raise NotFound("no such suspension")
    if suspension.lifted_at is None:
        suspension.lifted_at = utcnow()
        suspension.lifted_by = _by(caller)
        session.add(suspension)
        session.flush()
    return suspension
