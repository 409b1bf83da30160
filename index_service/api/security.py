"""Authentication and authorisation of a `/v1` request, run by `AuditedRoute` before the
body is read and before the endpoint: deny by default, whatever the endpoint declares.

In order: the bearer token (401); the organisation takes part and neither it nor the
user is suspended (403); the access policy grants the route's permission (403); a
request touching child data states its purpose (400); the user is within their rate
limit (429). Each refusal is audited by `AuditedRoute`.
"""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from index_service.access.policy import RATE_LIMITED, Permission, RateBucket, authorise
from index_service.access.principal import Principal
from index_service.access.purpose import PURPOSE_HEADER, PURPOSE_TEXT_HEADER, purpose_from_headers
from index_service.access.ratelimit import consume
from index_service.access.roles import parse_roles
from index_service.access.tokens import TokenVerifier, VerifiedClaims, claimed_identity
from index_service.api.context import RequestContext
from index_service.common import utcnow
from index_service.errors import DomainError, Forbidden, Unauthenticated
from index_service.organisations import service as organisations
from index_service.settings import Settings
from index_service.suspensions.service import active_suspension


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send a bearer token in the Authorization header", code="missing_token"
        )
    return token.strip()


def authenticate_and_authorise(request: Request, ctx: RequestContext) -> Principal:
    """Verify the token, check the caller may act, and ask the access policy about the
    route's declared permission. Records the principal and purpose on the audit draft."""
    token = bearer_token(request)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        claims = verifier.verify(token)
    except DomainError:  # 401, 403 (issuer not trusted for the organisation) or 503
        ctx.audit.detail["claimed"] = claimed_identity(token)
        raise
    # A short session of its own: the request's unit of work (and its pooled connection)
    # is opened only after the body has been read.
    with ctx.db.transaction() as session:
        principal = _principal(session, claims, ctx)
        ctx.audit.principal = principal
        required = _declared_permission(ctx)
        decision = authorise(principal, required)
        if not decision:
            raise Forbidden(decision.reason, code="permission_denied")
        if required.touches_child_data:
            purpose = purpose_from_headers(
                request.headers.get(PURPOSE_HEADER), request.headers.get(PURPOSE_TEXT_HEADER)
            )
            ctx.purpose = purpose
            ctx.audit.purpose, ctx.audit.purpose_text = purpose.code.value, purpose.text
        if required in RATE_LIMITED:
            within_rate_limit(
                session, request.app.state.settings, principal, RATE_LIMITED[required]
            )
    return principal


def _principal(session: Session, claims: VerifiedClaims, ctx: RequestContext) -> Principal:
    organisation = organisations.find_by_code(session=session, code=claims.organisation_code)
    if organisation is None:
        ctx.audit.detail["claimed"] = {"iss": claims.issuer, "sub": claims.subject}
        raise Forbidden(
            "your organisation is not a participating organisation",
            code="organisation_not_participating",
        )
    principal = Principal(
        issuer=claims.issuer,
        subject=claims.subject,
        name=claims.name,
        email=claims.email,
        roles=parse_roles(claims.roles),
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_type=organisation.type,
        local_authority=organisation.local_authority,
    )
    suspension = active_suspension(
        session=session,
        issuer=claims.issuer,
        subject=claims.subject,
        organisation_code=organisation.code,
    )
    if suspension is not None:
        ctx.audit.principal = principal
        raise Forbidden(
            f"this {suspension.kind} is suspended from the index; "
            "ask your organisation's information governance lead",
            code=f"{suspension.kind}_suspended",
        )
    return principal


def _declared_permission(ctx: RequestContext) -> Permission:
    try:
        return Permission(ctx.audit.action)
    except ValueError:
        raise Forbidden("this route declares no permission", code="permission_undeclared") from None


def within_rate_limit(
    session: Session, settings: Settings, principal: Principal, bucket: RateBucket
) -> None:
    """Count one request in the caller's `bucket`; 429 if it is over the limit."""
    consume(
        session=session,
        principal=f"{principal.issuer} {principal.subject}",
        bucket=bucket,
        limit=settings.rate_limit_searches
        if bucket.value == "search"
        else settings.rate_limit_reads,
        window_seconds=settings.rate_limit_window_seconds,
        now=utcnow(),
    )
