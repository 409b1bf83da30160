"""Authentication and authorisation of a `/v1` request, run by `AuditedRoute`: deny by
default, whatever the endpoint declares.

Before the body is read, with no database round trip when the directory cache is warm
(`access/directory.py`): the bearer token (401); the organisation takes part and neither
it nor the user is suspended (403); the access policy grants the route's permission
(403); a request touching child data states its purpose (400). Then, as the first
statement of the request's own unit of work (`open_work`): the user's rate count (429)
and the directory's number; if the directory changed since it was cached, the caller is
checked again, in that same transaction, before anything is done. Each refusal is
audited by `AuditedRoute`.
"""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from index_service.access.directory import Directory, attach, current_version
from index_service.access.policy import RATE_LIMITED, Permission, RateBucket, authorise
from index_service.access.principal import Principal
from index_service.access.purpose import PURPOSE_HEADER, PURPOSE_TEXT_HEADER, purpose_from_headers
from index_service.access.ratelimit import Window, consume, look
from index_service.access.roles import conflicting_duties, parse_roles
from index_service.access.tokens import TokenVerifier, VerifiedClaims, claimed_identity
from index_service.api.context import RequestContext
from index_service.common import utcnow
from index_service.errors import DomainError, Forbidden, Unauthenticated
from index_service.settings import Settings


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send a bearer token in the Authorization header", code="missing_token"
        )
    return token.strip()


# Refusals that rest on the directory: made on cached rows, they are confirmed on current
# ones first, so that a lifted suspension, a newly added organisation or a newly
# registered issuer takes effect at once too.
_CONFIRMED = frozenset(
    {
        "issuer_not_trusted",
        "issuer_not_trusted_for_organisation",
        "organisation_not_participating",
        "user_suspended",
        "organisation_suspended",
    }
)


def authenticate_and_authorise(request: Request, ctx: RequestContext) -> Principal:
    """Verify the token, check the caller may act, and ask the access policy about the
    route's declared permission. Records the principal and purpose on the audit draft.
    Reads the database only to fill the directory cache or to confirm a refusal (the
    request's unit of work, and its pooled connection, is opened only after the body
    has been read)."""
    directory: Directory = request.app.state.directory
    # The directory the caller is checked on: `open_work` checks again if the work reads
    # another number (taken before the check, so a cache emptied meanwhile counts too).
    ctx.directory_version = directory.version
    with ctx.db.session() as session:
        try:
            principal = _caller(request, ctx, session, directory)
        except DomainError as refusal:
            if refusal.code not in _CONFIRMED or not _directory_moved(request, session):
                raise
            ctx.audit.detail.pop("claimed", None)
            principal = _caller(request, ctx, session, directory)
        finally:
            session.rollback()
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
    bucket = ctx.rate_bucket = RATE_LIMITED.get(required)
    if bucket is not None:
        settings: Settings = request.app.state.settings
        # Refused from here on (a body too large, a full window, an error), the request
        # is counted beside its refusal's audit row: refused guesses spend the allowance.
        ctx.on_refusal(
            lambda refusal: within_rate_limit(refusal, settings, principal, bucket, enforce=False)
        )
    return principal


def open_work(request: Request, ctx: RequestContext) -> None:
    """The first statement of the request's unit of work: a look, without a lock, at the
    caller's rate count (429 if the window is full already) and the directory's number,
    in one round trip; the count itself is made at the end of the work, beside the audit
    row. If the directory moved since the caller was checked (a suspension, an
    organisation changed, an issuer withdrawn), the caller is checked again on fresh
    rows, in this transaction, before the endpoint does anything."""
    checked = ctx.audit.principal
    assert checked is not None  # authenticate_and_authorise ran first
    principal: Principal = checked
    session = ctx.session
    settings: Settings = request.app.state.settings
    bucket = ctx.rate_bucket
    if bucket is not None:
        window = rate_window(settings, principal, bucket)
        version = look(session=session, window=window)
        ctx.before_audit(
            f"rate:{bucket.value}", window.tally, lambda _work, hits: window.refuse_over(hits)
        )
    else:
        version = current_version(session)
    _directory_moved(request, session, version)
    if version != ctx.directory_version:
        # The caller again, on this transaction's rows: the issuer (the registered ones
        # read on this session, not on a second connection while this one is held), the
        # organisation, the suspensions, and what the policy grants.
        ctx.directory_version = version
        principal = _caller(request, ctx, session, request.app.state.directory)
        decision = authorise(principal, _declared_permission(ctx))
        if not decision:
            raise Forbidden(decision.reason, code="permission_denied")


def principal_on_current_rows(
    request: Request, session: Session, claims: VerifiedClaims, ctx: RequestContext
) -> Principal:
    """The caller of already verified `claims` (a web sign-in, a page's session), checked
    against the directory as it is now (its number is read on `session` first): the
    issuer still vouches for the organisation, which takes part, and neither it nor
    the user is suspended."""
    _directory_moved(request, session)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        verifier.vouches(claims.issuer, claims.organisation_code)
    except DomainError:
        ctx.audit.detail["claimed"] = {"iss": claims.issuer, "sub": claims.subject}
        raise
    return _principal(session, request.app.state.directory, claims, ctx)


def _directory_moved(request: Request, session: Session, version: int | None = None) -> bool:
    """Whether the directory changed since this process cached it (`version` as a
    statement of the work read it, else read now on `session`); if so the cache is
    emptied and the registered issuers are read again, on `session`. Either way the
    cache is current for `session`'s work from now on (`directory.attach`)."""
    directory: Directory = request.app.state.directory
    moved = directory.observe(current_version(session) if version is None else version)
    attach(session, directory)  # the work reads the directory's rows from the cache now
    if moved:
        request.app.state.token_verifier.reload_registered(session)
    return moved


def _caller(
    request: Request, ctx: RequestContext, session: Session, directory: Directory
) -> Principal:
    """The verified caller, checked against the directory; on the audit draft."""
    principal = _principal(session, directory, _verified(request, ctx), ctx)
    ctx.audit.principal = principal
    return principal


def _verified(request: Request, ctx: RequestContext) -> VerifiedClaims:
    token = bearer_token(request)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(token)
    except DomainError:  # 401, 403 (issuer not trusted for the organisation) or 503
        ctx.audit.detail["claimed"] = claimed_identity(token)
        raise


def _principal(
    session: Session, directory: Directory, claims: VerifiedClaims, ctx: RequestContext
) -> Principal:
    organisation = directory.organisation(session, claims.organisation_code)
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
    if (conflict := conflicting_duties(principal.roles)) is not None:
        ctx.audit.principal = principal
        raise Forbidden(conflict, code="conflicting_roles")
    suspension = directory.suspension(
        session, issuer=claims.issuer, subject=claims.subject, organisation_code=organisation.code
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


def rate_window(settings: Settings, principal: Principal, bucket: RateBucket) -> Window:
    """The caller's current window in `bucket`, with its limit."""
    return Window(
        principal=f"{principal.issuer} {principal.subject}",
        bucket=bucket,
        limit=settings.rate_limit_searches
        if bucket.value == "search"
        else settings.rate_limit_reads,
        seconds=settings.rate_limit_window_seconds,
        now=utcnow(),
    )


def within_rate_limit(
    session: Session,
    settings: Settings,
    principal: Principal,
    bucket: RateBucket,
    *,
    enforce: bool = True,
) -> int:
    """Count one request in the caller's `bucket`; 429 if it is over the limit. Returns
    the count."""
    return consume(
        session=session, window=rate_window(settings, principal, bucket), enforce=enforce
    )
