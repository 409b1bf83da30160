"""Signing in and out of the pages.

- Through an agency's identity provider (OpenID Connect, `web/oidc.py`): `/sign-in/oidc/
  {issuer}` sends the browser there with a state (also in a short-lived `__Host-` cookie,
  so only the browser that began it can finish it), a nonce and a PKCE challenge; the
  callback checks them, exchanges the code and maps the claims.
- In development only, as a demo persona (`demo/personas.py`), vouched for by the local
  development issuer. Production refuses to start with it on (settings).

Either way the identity becomes a `Principal` by the API's own code before any session is
made (so a user of an organisation that does not take part, or a suspended one, gets no
session), and each sign-in, refused or not, leaves an audit row."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from index_service.access.tokens import VerifiedClaims
from index_service.api.context import RequestContext
from index_service.api.security import principal_on_current_rows
from index_service.audit.service import AuditDraft, record_event
from index_service.demo.personas import PERSONAS, persona
from index_service.errors import DomainError
from index_service.settings import DEV_ISSUER
from index_service.web import oidc, sessions
from index_service.web.pages import PageDep
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATE_COOKIE = "__Host-oidc-state"
SIGN_IN_ACTION = "web:sign_in"
SIGN_OUT_ACTION = "web:sign_out"

SIGNED_OUT = {
    "user_suspended": "You have been signed out because your account is suspended from the "
    "index. Ask your organisation's information governance lead.",
    "organisation_suspended": "You have been signed out because your organisation is "
    "suspended from the index.",
    "organisation_not_participating": "You have been signed out because your organisation "
    "no longer takes part in the index.",
    "signed_out": "You have signed out.",
}

SIGN_IN_REFUSED = {
    "organisation_not_participating": "Your organisation does not take part in the index.",
    "user_suspended": "Your account is suspended from the index. Ask your organisation's "
    "information governance lead.",
    "organisation_suspended": "Your organisation is suspended from the index.",
    "conflicting_roles": "You hold both the administrator and the national auditor roles. "
    "One person may not hold both, so that nobody audits their own administration. Ask "
    "your organisation to remove one of them.",
}


def _cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


@router.get("/sign-in", **page(public=True))
def sign_in(page: PageDep, signed_out: str | None = None) -> Response:
    providers = oidc.issuers(page.settings, page.request.app.state.db)
    response = render(
        page.request,
        "sign_in.html",
        providers=providers,
        dev_sign_in=page.settings.dev_sign_in_enabled,
        message=SIGNED_OUT.get(signed_out or ""),
    )
    _cookie(response, sessions.SIGN_IN_COOKIE, page.csrf_token)
    return response


@router.get("/sign-in/as", **page(public=True))
def sign_in_as_form(page: PageDep) -> Response:
    if not page.settings.dev_sign_in_enabled:
        return render(page.request, "error.html", status_code=404, **_not_here())
    response = render(page.request, "sign_in_as.html", personas=PERSONAS)
    _cookie(response, sessions.SIGN_IN_COOKIE, page.csrf_token)
    return response


@router.post("/sign-in/as", **page(public=True))
def sign_in_as(page: PageDep) -> Response:
    if not page.settings.dev_sign_in_enabled:
        return render(page.request, "error.html", status_code=404, **_not_here())
    try:
        chosen = persona(page.field("persona"))
    except KeyError:
        return render(page.request, "sign_in_as.html", status_code=400, personas=PERSONAS)
    claims = VerifiedClaims(
        issuer=DEV_ISSUER,
        subject=chosen.subject,
        name=chosen.name,
        email=chosen.email,
        organisation_code=chosen.organisation_code,
        roles=[r.value for r in chosen.roles],
    )
    return _begin_session(page, claims, "development")


@router.get("/sign-in/oidc/{key}", **page(public=True))
def sign_in_with(key: str, page: PageDep) -> Response:
    issuer = _issuer(page, key)
    if issuer is None:
        return render(page.request, "error.html", status_code=404, **_not_here())
    try:
        with oidc.Provider(issuer, page.settings) as provider:
            started = provider.start()
    except oidc.SignInFailed as failed:
        _audit_sign_in(page, None, 502, failed.reason, issuer=issuer.issuer)
        return _cannot_sign_in(page, issuer.client.display_name)
    with page.request.app.state.db.transaction() as session:
        sessions.begin_sign_in(
            session=session,
            issuer=issuer.issuer,
            state=started.state,
            nonce=started.nonce,
            verifier=started.code_verifier,
        )
    response = RedirectResponse(started.url, status_code=303)
    _cookie(response, STATE_COOKIE, started.state, max_age=sessions.SIGN_IN_MINUTES * 60)
    return response


@router.get(oidc.CALLBACK_PATH, **page(public=True))
def sign_in_callback(
    page: PageDep, state: str = "", code: str = "", error: str | None = None
) -> Response:
    cookie = page.request.cookies.get(STATE_COOKIE, "")
    with page.request.app.state.db.transaction() as session:
        pending = sessions.take_sign_in(session=session, state=state) if state else None
    if pending is None or not cookie or cookie != state:
        _audit_sign_in(page, None, 400, "sign_in_state_unknown")
        return _start_again(page)
    issuer = next(
        (
            i
            for i in oidc.issuers(page.settings, page.request.app.state.db)
            if i.issuer == pending.issuer
        ),
        None,
    )
    if issuer is None or error or not code:
        _audit_sign_in(
            page, None, 401, f"provider_refused:{(error or 'no_code')[:40]}", issuer=pending.issuer
        )
        return _start_again(page)
    try:
        with oidc.Provider(issuer, page.settings) as provider:
            claims = provider.finish(
                code=code, nonce=pending.nonce, code_verifier=pending.code_verifier
            )
    except oidc.SignInFailed as failed:
        _audit_sign_in(page, None, 401, failed.reason, issuer=issuer.issuer)
        return _cannot_sign_in(page, issuer.client.display_name)
    response = _begin_session(page, claims, "oidc")
    response.delete_cookie(STATE_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.post("/sign-out", **page())
def sign_out(page: PageDep) -> Response:
    viewer = page.viewer
    assert viewer is not None
    with page.request.app.state.db.transaction() as session:
        row = session.merge(viewer.row)
        sessions.end(session=session, row=row)
        record_event(
            session=session, draft=_draft(page, SIGN_OUT_ACTION, viewer.principal), status_code=303
        )
    # A session from a provider is ended there too (RP-initiated logout), through a
    # page of ours: the pages' CSP lets a form lead to this service only.
    issuer = _oidc_issuer(page, viewer.row.issuer) if viewer.row.signed_in_with == "oidc" else None
    response = RedirectResponse(
        f"{oidc.SIGNED_OUT_PATH}?provider={issuer.key}" if issuer else SIGNED_OUT_PAGE,
        status_code=303,
    )
    response.delete_cookie(
        sessions.SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax"
    )
    return response


SIGNED_OUT_PAGE = "/sign-in?signed_out=signed_out"


def _oidc_issuer(page: PageContext, issuer_url: str) -> oidc.OidcIssuer | None:
    found = oidc.issuers(page.settings, page.request.app.state.db)
    return next((i for i in found if i.issuer == issuer_url), None)


@router.get(oidc.SIGNED_OUT_PATH, **page(public=True))
def signed_out(page: PageDep, provider: str | None = None) -> Response:
    """On the way to the provider's end-session endpoint (`provider`: the issuer's key),
    so that its session ends too; without it (or back from there), the signed-out page.
    A provider with no such endpoint, or out of reach, leaves only ours ended, and the
    sign-in page says the user has signed out of the index."""
    issuer = next(
        (i for i in oidc.issuers(page.settings, page.request.app.state.db) if i.key == provider),
        None,
    )
    end_session_url = None
    if issuer is not None:
        try:
            with oidc.Provider(issuer, page.settings) as reached:
                end_session_url = reached.end_session_url()
        except oidc.SignInFailed:
            end_session_url = None
    if issuer is None or end_session_url is None:
        return RedirectResponse(SIGNED_OUT_PAGE, status_code=303)
    return render(
        page.request,
        "signed_out_provider.html",
        title="You have signed out of the index",
        provider_name=issuer.client.display_name,
        end_session_url=end_session_url,
    )


def _begin_session(page: PageContext, claims: VerifiedClaims, signed_in_with: str) -> Response:
    """A session for an identity that may act here (the API's own check), or the reason
    it may not."""
    db = page.request.app.state.db
    draft = _draft(page, SIGN_IN_ACTION, None)
    ctx = RequestContext(db=db, draft=draft)
    draft.detail["signed_in_with"] = signed_in_with
    draft.detail["email"] = claims.email  # so auditors find a person by it (audit/queries.py)
    try:
        with db.transaction() as session:
            draft.principal = principal_on_current_rows(page.request, session, claims, ctx)
            token = sessions.start(session=session, claims=claims, signed_in_with=signed_in_with)
            record_event(session=session, draft=draft, status_code=303)
    except DomainError as refused:
        ctx.refuse(refused.status, refused.code)
        return render(
            page.request,
            "error.html",
            status_code=refused.status,
            title="You cannot sign in to this service",
            body=SIGN_IN_REFUSED.get(refused.code, "Your account cannot use the index."),
        )
    response = RedirectResponse("/purpose", status_code=303)
    _cookie(response, sessions.SESSION_COOKIE, token)
    return response


def _draft(page: PageContext, action: str, principal: object) -> AuditDraft:
    request = page.request
    return AuditDraft(
        action=action,
        method=request.method,
        route=request.url.path if action != SIGN_IN_ACTION else "/sign-in",
        request_id=request.state.request_id,
        instance=page.settings.instance_name,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        principal=principal,  # type: ignore[arg-type]
    )


def _audit_sign_in(
    page: PageContext, principal: object, status: int, reason: str, *, issuer: str | None = None
) -> None:
    draft = _draft(page, SIGN_IN_ACTION, principal)
    if issuer is not None:
        draft.detail["claimed"] = {"iss": issuer}
    with page.request.app.state.db.transaction() as session:
        _record(session, draft, status, reason)


def _record(session: Session, draft: AuditDraft, status: int, reason: str) -> None:
    record_event(session=session, draft=draft, status_code=status, reason=reason)


def _issuer(page: PageContext, key: str) -> oidc.OidcIssuer | None:
    found = oidc.issuers(page.settings, page.request.app.state.db)
    return next((i for i in found if i.key == key), None)


def _not_here() -> dict[str, str]:
    return {"title": "Page not found", "body": "There is nothing at this address."}


def _start_again(page: PageContext) -> Response:
    return render(
        page.request,
        "error.html",
        status_code=400,
        title="Sign in again",
        body="Signing in took too long or was interrupted. Go back to the sign-in page and "
        "try again.",
        link=("/sign-in", "Sign in"),
    )


def _cannot_sign_in(page: PageContext, provider: str) -> Response:
    return render(
        page.request,
        "error.html",
        status_code=502,
        title="Sorry, you cannot sign in just now",
        body=f"{provider} could not confirm who you are. Try again in a few minutes. If you "
        "need to act now, call the local authority's children's social care.",
        link=("/sign-in", "Sign in"),
    )
