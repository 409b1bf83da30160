"""Authentication and authorisation of a `/v1` request, run by `AuditedRoute` before the
body is read and before the endpoint: deny by default, whatever the endpoint declares."""

from __future__ import annotations

from fastapi import Request

from index_service.access.policy import Permission, authorise
from index_service.access.principal import Principal
from index_service.access.roles import parse_roles
from index_service.access.tokens import TokenVerifier, claimed_identity
from index_service.api.context import RequestContext
from index_service.errors import Forbidden, Unauthenticated
from index_service.organisations import service as organisations


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send a bearer token in the Authorization header", code="missing_token"
        )
    return token.strip()


def authenticate_and_authorise(request: Request, ctx: RequestContext) -> Principal:
    """Verify the token, check the organisation participates, and ask the access policy
    about the route's declared permission. Records the principal on the audit draft."""
    token = bearer_token(request)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        claims = verifier.verify(token)
    except Unauthenticated:
        ctx.audit.detail["claimed"] = claimed_identity(token)
        raise
    # A short session of its own: the request's unit of work (and its pooled connection)
    # is opened only after the body has been read.
    with ctx.db.transaction() as session:
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
    ctx.audit.principal = principal
    try:
        required = Permission(ctx.audit.action)
    except ValueError:
        raise Forbidden("this route declares no permission", code="permission_undeclared") from None
    decision = authorise(principal, required)
    if not decision:
        raise Forbidden(decision.reason, code="permission_denied")
    return principal
