"""`PageRoute`: the route class of every page, as `AuditedRoute` is of every `/v1` route.

Around each page it (1) finds the browser's session (idle and absolute timeouts) and turns
the identity it holds into a `Principal` by the API's own code (the organisation takes
part, neither it nor the user is suspended: a suspended user's session ends here, at the
next request); (2) sends a visitor who is not signed in to sign in; (3) refuses a form
posted without the session's CSRF token (403); and, for a page that declares a
permission, (4) asks the access policy, takes the purpose stated for the current piece of
work (or sends the user to state one: never a default), counts the rate limit, and (5)
writes the page's one audit row: with the work on success, on its own after a rollback on
refusal, before the page is sent. Every answer carries the security headers
(`web/headers.py`) with a fresh CSP nonce.

Nothing here decides who may see what: that is `access/`, reached through the same
functions the API's route class calls.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from index_service.access.inboxes import has_team_inbox
from index_service.access.policy import RATE_LIMITED, Permission, authorise
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.api.context import RequestContext
from index_service.api.security import principal_on_current_rows, within_rate_limit
from index_service.audit.service import AuditDraft
from index_service.database import database_unavailable
from index_service.errors import DomainError
from index_service.organisations import service as organisations
from index_service.settings import Settings
from index_service.web import sessions
from index_service.web.admin_menu import admin_menu
from index_service.web.headers import secured
from index_service.web.models import WebSession

PAGE_KEY = "x-page"
log = structlog.get_logger("index_service.web")


@dataclass(frozen=True)
class PageSpec:
    """What a page needs: a signed-in user (unless `public`), and for a page that shows
    or changes child data, the `permission` it is audited under."""

    permission: Permission | None = None
    public: bool = False
    purpose: bool = False
    needs: Permission | None = None


def page(
    permission: Permission | None = None,
    *,
    public: bool = False,
    purpose: bool = False,
    needs: Permission | None = None,
) -> dict[str, Any]:
    """Route keyword arguments that declare what a page needs. `purpose`: the page shows
    child data (a child's name on an alert) under a permission that does not itself ask
    the API for a purpose; the page asks for the session's and records it, as every page
    showing child data does. `needs`: a form, or what an audited request kept, of that
    permission's work: refused (403, the refusal audited) to anyone the access policy
    does not grant it, so that an administrator, say, is refused on every child page."""
    spec = PageSpec(permission=permission, public=public, purpose=purpose, needs=needs)
    return {"openapi_extra": {PAGE_KEY: spec}}


@dataclass
class Viewer:
    """The signed-in user of this request."""

    row: WebSession
    principal: Principal
    organisation_name: str

    @property
    def purpose(self) -> Purpose | None:
        return sessions.purpose_of(self.row)

    def may(self, permission: Permission) -> bool:
        """Whether the access policy lets this user do it (to offer it in the menu)."""
        return bool(authorise(self.principal, permission))

    @property
    def looks_up(self) -> bool:
        """Whether to offer the look-up (an administrator, for one, sees no child data)."""
        return self.may(Permission.ENQUIRY_CREATE)

    @property
    def works_with_children(self) -> bool:
        """Whether to offer "Record my involvement" on a child's entry."""
        return self.may(Permission.INVOLVEMENT_RECORD)

    @property
    def raises_flags(self) -> bool:
        """Whether to offer "Raise a flag" on a child's entry (which kinds: the form's)."""
        return self.may(Permission.FLAG_RAISE)

    @property
    def has_team_inbox(self) -> bool:
        return has_team_inbox(self.principal)

    @property
    def menu(self) -> list[tuple[str, str, str]]:
        """The pages this user may open: (address, words, section)."""
        items = [("/search", "Look a child up", "lookup")] if self.looks_up else []
        if self.may(Permission.ENQUIRY_OPEN):
            items.append(("/my-enquiries", "My recent enquiries", "enquiries"))
        if self.may(Permission.ALERT_READ):
            items.append(("/alerts", "My alerts", "alerts"))
        if self.may(Permission.FLAG_OVERDUE_READ):
            items.append(("/my-children", "My children", "children"))
        if self.has_team_inbox:
            items.append(("/inbox", "Team inbox", "inbox"))
        if self.may(Permission.CHILD_SHIELD):  # the data managers
            items.append(("/records", "Children's records", "records"))
        if self.may(Permission.ENQUIRY_CONTACT_READ):
            items.append(("/enquiry-contacts", "Enquiry-only contacts", "contacts"))
        if self.may(Permission.AUDIT_REPORT_READ):
            items.append(("/audit", "Audit", "audit"))
        items += admin_menu(self)
        return items


@dataclass
class PageContext:
    """Handed to each view: who is looking, the form they sent, the audited unit of work
    (for a page that declares a permission), and what every template needs."""

    request: Request
    settings: Settings
    nonce: str
    viewer: Viewer | None
    form: FormData | None
    ctx: RequestContext | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf_token(self) -> str:
        if self.viewer is not None:
            return self.viewer.row.csrf_secret
        return str(self.request.state.pre_sign_in_token)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    @property
    def unit(self) -> RequestContext:
        if self.ctx is None:
            raise RuntimeError("this page declares no permission: it has no audited work")
        return self.ctx


class SignedOut(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()
        route = self

        async def handler(request: Request) -> Response:
            from index_service.web.render import error_page

            nonce = secrets.token_urlsafe(18)
            request.state.csp_nonce = nonce
            settings: Settings = request.app.state.settings
            spec: PageSpec = (route.openapi_extra or {}).get(PAGE_KEY, PageSpec())
            try:
                response = await _serve(request, route, spec, endpoint_handler, nonce)
            except Exception as exc:
                log.error("page_failed", error_type=type(exc).__name__)
                status = 503 if database_unavailable(exc) else 500
                response = error_page(request, nonce, status)
            return secured(response, nonce=nonce, settings=settings)

        return handler


async def _serve(
    request: Request,
    route: APIRoute,
    spec: PageSpec,
    endpoint_handler: Callable[[Request], Coroutine[Any, Any, Response]],
    nonce: str,
) -> Response:
    from index_service.web.render import error_page

    settings: Settings = request.app.state.settings
    draft = _draft(request, route, spec)
    ctx = RequestContext(db=request.app.state.db, draft=draft)
    try:
        viewer = await run_in_threadpool(_viewer, request, ctx)
    except SignedOut as out:
        if spec.permission is not None:
            await run_in_threadpool(ctx.refuse, 403, out.reason)
        signed_out = RedirectResponse(f"/sign-in?signed_out={out.reason}", status_code=303)
        signed_out.delete_cookie(sessions.SESSION_COOKIE, secure=True, httponly=True)
        return signed_out
    if viewer is None and not spec.public:
        return RedirectResponse("/sign-in", status_code=303)
    _pre_sign_in_token(request)
    form = await request.form() if request.method == "POST" else None
    if form is not None and not _csrf_ok(request, viewer, form):
        if spec.permission is not None:
            draft.principal = viewer.principal if viewer else None
            await run_in_threadpool(ctx.refuse, 403, "csrf_token_missing")
        return error_page(request, nonce, 403, viewer=viewer, code="csrf")
    if spec.needs is not None and viewer is not None:
        decision = authorise(viewer.principal, spec.needs)
        if not decision:
            draft.principal = viewer.principal
            await run_in_threadpool(ctx.refuse, 403, "permission_denied")
            return error_page(request, nonce, 403, viewer=viewer, detail=decision.reason)
    audited = spec.permission is not None and viewer is not None
    page_ctx = PageContext(
        request=request,
        settings=settings,
        nonce=nonce,
        viewer=viewer,
        form=form,
        ctx=ctx if audited else None,
    )
    request.state.page = page_ctx
    if audited:
        assert spec.permission is not None
        assert viewer is not None
        draft.principal = viewer.principal
        try:
            gate = await run_in_threadpool(_gate, request, ctx, spec, viewer)
        except DomainError as exc:
            await run_in_threadpool(ctx.refuse, exc.status, exc.code)
            ctx.close()
            return error_page(request, nonce, exc.status, viewer=viewer, detail=exc.detail)
        if gate is not None:
            ctx.close()
            return gate
    try:
        response = await endpoint_handler(request)
    except DomainError as exc:
        if audited:
            await run_in_threadpool(ctx.refuse, exc.status, exc.code)
        ctx.close()
        return error_page(request, nonce, exc.status, viewer=viewer, detail=exc.detail)
    except Exception as exc:
        if audited:
            with contextlib.suppress(Exception):
                await run_in_threadpool(ctx.refuse, 500, f"internal_error:{type(exc).__name__}")
        ctx.close()
        raise
    if audited:
        try:
            await run_in_threadpool(ctx.succeed, response.status_code)
        except DomainError as exc:  # a count at the end of the work refused it (429)
            await run_in_threadpool(ctx.refuse, exc.status, exc.code)
            return error_page(request, nonce, exc.status, viewer=viewer, detail=exc.detail)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await run_in_threadpool(
                    ctx.refuse, 500, f"audit_or_commit_failed:{type(exc).__name__}"
                )
            raise
    else:
        ctx.close()
    return response


def _draft(request: Request, route: APIRoute, spec: PageSpec) -> AuditDraft:
    return AuditDraft(
        action=spec.permission.value if spec.permission else "web:page",
        method=request.method,
        route=route.path,
        request_id=request.state.request_id,
        instance=request.app.state.settings.instance_name,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def _viewer(request: Request, ctx: RequestContext) -> Viewer | None:
    """The session the cookie names, as a Principal, or None. A session whose user or
    organisation is suspended, or whose organisation no longer takes part, is ended here
    and now (SignedOut)."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        return None
    timeouts = sessions.timeouts_of(settings)
    refused: DomainError | None = None
    with ctx.db.transaction() as session:
        row = sessions.find(session=session, token=token, timeouts=timeouts)
        if row is None:
            return None
        try:
            principal = principal_on_current_rows(request, session, sessions.claims_of(row), ctx)
        except DomainError as exc:
            refused = exc
            sessions.end(session=session, row=row)  # committed with this transaction
        else:
            organisation = organisations.find_by_code(
                session=session, code=principal.organisation_code
            )
            name = organisation.name if organisation is not None else principal.organisation_code
    if refused is not None:
        raise SignedOut(refused.code)
    return Viewer(row=row, principal=principal, organisation_name=name)


def _gate(request: Request, ctx: RequestContext, spec: PageSpec, viewer: Viewer) -> Response | None:
    """The access policy, the purpose and the rate limit, as `api/security.py` applies
    them; a redirect to state a purpose if none is stated for this piece of work (and,
    from a page, back to it after)."""
    from index_service.errors import Forbidden

    permission = spec.permission
    assert permission is not None
    decision = authorise(viewer.principal, permission)
    if not decision:
        raise Forbidden(decision.reason, code="permission_denied")
    if permission.touches_child_data or spec.purpose:
        purpose = viewer.purpose
        if purpose is None:
            back = f"?next={request.url.path}" if request.method == "GET" else ""
            return RedirectResponse(f"/purpose{back}", status_code=303)
        ctx.purpose = purpose
        ctx.audit.purpose, ctx.audit.purpose_text = purpose.code.value, purpose.text
    if permission in RATE_LIMITED:
        with ctx.db.transaction() as session:
            within_rate_limit(
                session, request.app.state.settings, viewer.principal, RATE_LIMITED[permission]
            )
    return None


def _pre_sign_in_token(request: Request) -> None:
    """Forms shown before sign-in (the development 'sign in as') are protected by a
    double-submit token: the same random value in a `__Host-` cookie and in the form."""
    request.state.pre_sign_in_token = request.cookies.get(
        sessions.SIGN_IN_COOKIE
    ) or secrets.token_urlsafe(32)


def _csrf_ok(request: Request, viewer: Viewer | None, form: FormData) -> bool:
    sent = form.get("csrf_token")
    if not isinstance(sent, str):
        return False
    if viewer is not None:
        return sessions.csrf_matches(viewer.row, sent)
    cookie = request.cookies.get(sessions.SIGN_IN_COOKIE)
    return cookie is not None and secrets.compare_digest(cookie.encode(), sent.encode())
