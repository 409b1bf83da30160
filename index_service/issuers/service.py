"""Trusted issuer service functions: keyword-only, given the session and the caller."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.errors import Conflict, NotFound
from index_service.issuers.models import TrustedIssuerCreate, TrustedIssuerRecord


def _by(caller: Principal) -> str:
    return f"{caller.issuer} {caller.subject}"


def register(
    *,
    session: Session,
    caller: Principal,
    data: TrustedIssuerCreate,
    configured: frozenset[str],
) -> TrustedIssuerRecord:
    """`configured`: the issuers trusted by settings, which cannot be registered again."""
    existing = session.exec(
        select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer == data.issuer)
    ).first()
    if data.issuer in configured or existing is not None:
        raise Conflict("that issuer is already known", code="issuer_exists")
    record = TrustedIssuerRecord(
        issuer=data.issuer,
        jwks_url=data.jwks_url,
        organisations=[code.upper() for code in data.organisations]
        if data.organisations is not None
        else None,
        registered_by=_by(caller),
    )
    session.add(record)
    session.flush()
    return record


def list_issuers(*, session: Session, caller: Principal, limit: int) -> list[TrustedIssuerRecord]:
    query = select(TrustedIssuerRecord).order_by(col(TrustedIssuerRecord.issuer)).limit(limit)
    return list(session.exec(query))


def active_issuers(*, session: Session) -> list[TrustedIssuerRecord]:
    return list(
        session.exec(
            select(TrustedIssuerRecord).where(col(TrustedIssuerRecord.withdrawn_at).is_(None))
        )
    )


def withdraw(*, session: Session, caller: Principal, issuer_id: uuid.UUID) -> TrustedIssuerRecord:
    """Stop trusting an issuer: its tokens are refused from the next refresh on."""
    record = session.exec(
        select(TrustedIssuerRecord).where(TrustedIssuerRecord.id == issuer_id).with_for_update()
    ).first()
    if record is None:
        raise NotFound("no such issuer")
    if record.withdrawn_at is None:
        record.withdrawn_at = utcnow()
        record.withdrawn_by = _by(caller)
        session.add(record)
        session.flush()
    return record
