"""`AuditedRoute`: the route class of every `/v1` router.

Around each endpoint it (1) authenticates the caller and asks the access policy about the
route's permission (401/403), (2) refuses oversized bodies (413) and bodies that are not
JSON (415) before they are parsed, (3) opens the request's unit of work, one transaction
whose first statement counts the request and checks the directory (`open_work`), and (4)
writes the request's one audit row: with the work on success, on its own after a rollback on
refusal. The response is returned only after that commit, so nothing is disclosed
without its audit row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import Any, NoReturn

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from index_service.access.policy import Permission
from index_service.api.context import RequestContext
from index_service.api.contract import (
    RAISES_KEY,
    ProblemCase,
    describe,
    possible_problems,
    problem_responses,
)
from index_service.api.problems import is_malformed_json
from index_service.api.security import authenticate_and_authorise, open_work
from index_service.audit.service import AuditDraft
from index_service.database import database_unavailable
from index_service.errors import (
    AuditUnavailable,
    DatabaseUnavailable,
    DomainError,
    MalformedBody,
    PayloadTooLarge,
    ServiceBusy,
    UnsupportedMediaType,
)

PERMISSION_KEY = "x-permission"
CLIENT_CLOSED = 499  # the client closed the connection before the answer
log = structlog.get_logger("index_service.audit")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class AuditedRoute(APIRoute):
    """Also documents itself (`api/contract.py`): the problems it can answer, its
    summary and a description from its docstring and its permission."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        extra = self.openapi_extra or {}
        declared = extra.pop(RAISES_KEY, ())
        try:
            self.permission: Permission | None = Permission(str(extra.get(PERMISSION_KEY)))
        except ValueError:
            self.permission = None
        self.problems: list[ProblemCase] = possible_problems(self, self.permission, declared)
        own = dict(self.responses)
        self.responses = problem_responses(self.problems)
        for status, response in own.items():  # a route's own words about a status stand
            merged = self.responses.setdefault(status, {})
            merged["description"] = response.get("description", "") + (
                "\n\n" + merged["description"] if merged.get("description") else ""
            )
            merged.update({k: v for k, v in response.items() if k != "description"})
        self.documented_statuses = frozenset(int(s) for s in self.responses) | {
            int(self.status_code or 200)
        }
        summary, self.description = describe(self, self.permission)
        self.summary = self.summary or summary

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()
        route = self

        async def handler(request: Request) -> Response:
            admission = _admission(request)
            try:
                await asyncio.wait_for(
                    admission.acquire(), request.app.state.settings.admission_wait_seconds
                )
            except TimeoutError:
                raise ServiceBusy(
                    "the service is answering as many requests as it can: try again in a moment",
                    retry_after=1,
                ) from None
            streaming = False
            try:
                ctx = RequestContext(db=request.app.state.db, draft=_draft(request, route))
                request.state.ctx = ctx
                try:
                    response = await _run(request, route, endpoint_handler, ctx)
                finally:
                    ctx.close()  # also when the client went away and the task was cancelled
                if isinstance(response, StreamingResponse):
                    # An export reads from its own connection while it streams: its place
                    # is held until the last byte is sent (or the client goes away).
                    response.body_iterator = _releasing(response.body_iterator, admission)
                    streaming = True
                return response
            finally:
                if not streaming:
                    admission.release()

        return handler


async def _releasing(body: AsyncIterable[Any], admission: asyncio.Semaphore) -> AsyncIterator[Any]:
    try:
        async for chunk in body:
            yield chunk
    finally:
        admission.release()


def _admission(request: Request) -> asyncio.Semaphore:
    """As many requests at once as the pool has connections, so that no request holds a
    connection while it waits for a thread that requests waiting for a connection hold
    (the stall of 40 threads on 10 connections). Those beyond wait at most
    `ADMISSION_WAIT_SECONDS` in the event loop, holding nothing, then get 503 with
    `Retry-After`. Such a 503 leaves no audit row: it was refused before anything was
    read or done, and writing one would need the connection there is none of."""
    state = request.app.state
    per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] | None
    per_loop = getattr(state, "admission", None)
    if per_loop is None:
        per_loop = state.admission = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()  # one per server process; tests make several
    if loop not in per_loop:
        per_loop[loop] = asyncio.Semaphore(state.db.pool.max_size)
    return per_loop[loop]


async def _run(
    request: Request,
    route: APIRoute,
    endpoint_handler: Callable[[Request], Coroutine[Any, Any, Response]],
    ctx: RequestContext,
) -> Response:
    try:
        await run_in_threadpool(authenticate_and_authorise, request, ctx)
        body = route.body_field if request.method in _BODY_METHODS else None
        if body is not None and (body.field_info.is_required() or _sends_body(request)):
            await _guard_body(request)
        await run_in_threadpool(open_work, request, ctx)
        response = await endpoint_handler(request)
        _note_if_undocumented(request, route, response.status_code)
    except ClientDisconnect as exc:
        # The caller went away while sending the body: nothing was done, nobody is there
        # to answer. Audited and logged as such (499, as proxies write it), not as a 500.
        await _record_refusal(ctx, CLIENT_CLOSED, "client_disconnected", cause=exc)
        return Response(status_code=CLIENT_CLOSED)
    except Exception as exc:
        if database_unavailable(exc):
            await _database_unavailable(ctx, exc)
        _note_if_undocumented(request, route, _refusal(exc)[0])
        await _record_refusal(ctx, *_refusal(exc), cause=exc)
        raise
    try:
        await run_in_threadpool(ctx.succeed, response.status_code)
    except DomainError as exc:
        # Refused by a count made at the end of the work (the rate limit): nothing was
        # committed or disclosed.
        _note_if_undocumented(request, route, exc.status)
        await _record_refusal(ctx, exc.status, exc.code, cause=exc)
        raise
    except Exception as exc:
        # Not committed, or not known to be (the connection may have gone after COMMIT
        # was sent): nothing is disclosed, and the answer never says "nothing was done,
        # try again", which a retried enquiry would then double.
        await _record_refusal(ctx, 500, f"audit_or_commit_failed:{type(exc).__name__}", cause=exc)
        raise
    return response


def _note_if_undocumented(request: Request, route: APIRoute, status: int) -> None:
    """A problem status the route's OpenAPI operation does not list is a broken contract:
    logged, and kept on the app's state, where the test suite looks for it after each
    test (the answer itself is unchanged)."""
    documented: frozenset[int] = getattr(route, "documented_statuses", frozenset())
    if status < 400 or status in documented or status == 500:
        return
    log.error("undocumented_problem", route=route.path, method=request.method, status=status)
    request.app.state.undocumented_problems.add((request.method, route.path, status))


async def _database_unavailable(ctx: RequestContext, cause: Exception) -> NoReturn:
    """The database went away under the request: its work was not committed, so nothing
    was done or disclosed. The answer is 503 with Retry-After; the refusal's audit row is
    written if the database is back by then, else the refusal is logged (by type only)."""
    try:
        await run_in_threadpool(ctx.refuse, 503, "database_unavailable")
    except Exception as exc:
        log.warning("audit_write_failed_database_unavailable", error_type=type(exc).__name__)
    raise DatabaseUnavailable(
        "the index cannot reach its database just now; nothing was done: try again shortly",
        retry_after=2,
    ) from cause


async def _record_refusal(
    ctx: RequestContext, status: int, reason: str, *, cause: Exception
) -> None:
    """Write the refusal's audit row. A refusal that cannot be recorded is not answered
    as a refusal either: the caller gets a 500 that says the request was not recorded."""
    try:
        await run_in_threadpool(ctx.refuse, status, reason)
    except Exception as exc:
        log.error("audit_write_failed", status=status, reason=reason, error_type=type(exc).__name__)
        raise AuditUnavailable(
            "the request could not be recorded in the audit trail, so it was not carried out; "
            "try again, and tell the service desk if it persists"
        ) from cause


def _draft(request: Request, route: APIRoute) -> AuditDraft:
    permission = (route.openapi_extra or {}).get(PERMISSION_KEY, "undeclared")
    draft = AuditDraft(
        action=str(permission),
        method=request.method,
        route=route.path,
        request_id=request.state.request_id,
        instance=request.app.state.settings.instance_name,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    # The child a request is about is on the record even if the request is refused early.
    with contextlib.suppress(KeyError, ValueError, TypeError):
        draft.children(uuid.UUID(str(request.path_params["child_id"])))
    return draft


def _refusal(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, DomainError):
        return exc.status, exc.code
    if isinstance(exc, RequestValidationError):
        return (400, "malformed_json") if is_malformed_json(exc) else (422, "invalid_input")
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, "http_error"
    return 500, f"internal_error:{type(exc).__name__}"


def _sends_body(request: Request) -> bool:
    """An optional body (acknowledging an alert) may be left out entirely: no content
    type is asked of a request that sends no bytes."""
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or length not in (None, "0")


async def _guard_body(request: Request) -> None:
    limit: int = request.app.state.settings.max_body_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {content_type or 'no content type'}"
        )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise PayloadTooLarge(f"the body may be at most {limit} bytes")
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes")
    _refuse_ambiguous_json(bytes(received))
    request._body = bytes(received)  # Starlette's cache: the endpoint parses these bytes


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise MalformedBody(
            "an object in the body names the same field twice; send each field once",
            code="duplicate_json_key",
        )
    return dict(pairs)


def _refuse_ambiguous_json(raw: bytes) -> None:
    """RFC 8259 leaves a repeated name in one object undefined: Python keeps the last,
    other parsers the first, so a body could mean one thing to a gateway, an agency's
    log or an auditor, and another to the index. Refused with 400 before the endpoint
    parses it; so is nesting too deep to parse. Otherwise-malformed JSON is left to the
    endpoint's parser, which answers 400 `malformed_json`."""
    try:
        json.loads(raw, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise MalformedBody("the body is nested too deeply to read") from None
    except ValueError:
        return
