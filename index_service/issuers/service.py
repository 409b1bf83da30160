"""Trusted issuer service functions: keyword-only, given the session and the caller."""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from index_service.access.policy import issuer_may_be_registered_for
from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound
from index_service.issuers.models import TrustedIssuerCreate, TrustedIssuerRecord
from index_service.organisations.models import Organisation


def _by(caller: Principal) -> str:
    return f"{caller.issuer} {caller.subject}"


def register(
    *,
    session: Session,
    caller: Principal,
    data: TrustedIssuerCreate,
    configured: frozenset[str],
    production: bool = True,
) -> TrustedIssuerRecord:
    """`configured`: the issuers trusted by settings, which cannot be registered again.
    In production the keys must be fetched over https from a host that is not this
    machine or a private network (the service would fetch whatever URL it is given)."""
    if production and not is_public_https(data.jwks_url):
        raise InvalidInput(
            "in production, jwks_url must be https on a public host",
            code="jwks_url_notis_public_https",
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


def is_public_https(url: str) -> bool:
    parsed = urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" or not host or host == "localhost" or host.endswith(".local"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name; it is resolved when the keys are fetched
    return address.is_global
