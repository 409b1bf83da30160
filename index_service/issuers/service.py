"""Trusted issuer service functions: keyword-only, given the session and the caller."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from index_service.access.policy import issuer_may_be_registered_for
from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound
from index_service.issuers.models import TrustedIssuerCreate, TrustedIssuerRecord
from index_service.organisations.models import Organisation
from index_service.outbound import require_public_url


def register(
    *,
    session: Session,
    caller: Principal,
    data: TrustedIssuerCreate,
    configured: frozenset[str],
    allow_private: bool = False,
) -> TrustedIssuerRecord:
    """`configured`: the issuers trusted by settings, which cannot be registered again.
    The keys must be fetched over https from a host that is not this machine or a
    private network (the service would fetch whatever URL it is given): checked here and
    again at every fetch (`index_service/outbound.py`)."""
    require_public_url(data.jwks_url, allow_private=allow_private, field="jwks_url")
    if data.oidc is not None:
        require_public_url(
            data.oidc.discovery_url, allow_private=allow_private, field="oidc.discovery_url"
        )
    existing = session.exec(
        select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer == data.issuer)
    ).first()
    if data.issuer in configured or existing is not None:
        raise Conflict("that issuer is already known", code="issuer_exists")
    _may_vouch_for(session, [code.upper() for code in data.organisations])
    record = TrustedIssuerRecord(
        issuer=data.issuer,
        jwks_url=data.jwks_url,
        organisations=sorted({code.upper() for code in data.organisations}),
        oidc=data.oidc.model_dump(mode="json") if data.oidc is not None else None,
        registered_by=caller.actor,
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
        record.withdrawn_by = caller.actor
        session.add(record)
        session.flush()
    return record


def _may_vouch_for(session: Session, codes: list[str]) -> None:
    found = {
        o.code: o.type
        for o in session.exec(select(Organisation).where(col(Organisation.code).in_(codes)))
    }
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise InvalidInput(
            "every organisation must be a participating organisation",
            code="organisation_unknown",
            organisations=unknown,
        )
    reserved = sorted(
        code for code, kind in found.items() if not issuer_may_be_registered_for(kind)
    )
    if reserved:
        raise Forbidden(
            "identity providers of children's social care and of the index operator are "
            "configured in settings, not registered at run time",
            code="organisation_needs_configured_issuer",
            organisations=reserved,
        )
