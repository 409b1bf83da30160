"""RFC 9457 problem documents for every error the API returns.

Validation errors name the field and what is wrong with it, but never echo the value
sent: a rejected value may be a child's personal data."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from index_service.errors import DomainError
from index_service.logging import error_fields

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://index-service.invalid/problems/"
log = structlog.get_logger("index_service.errors")

_HTTP_CODES = {
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
}


def problem(
    request: Request, *, status: int, code: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="index-service"'} if status == 401 else {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this request's path (every route of the path,
    not only the first whose path matched, as Starlette's own `Allow` says)."""
    allowed: set[str] = set()
    scope = {**request.scope, "method": "\x00"}  # no route answers it: paths decide
    for route in iter_route_contexts(request.app.routes):
        methods = route.methods
        if methods and route.matches(scope)[0] != Match.NONE:
            allowed.update(methods)
    return sorted(allowed)


# What a person should send instead, for the kinds of error whose own message does not
# say it (pydantic's "invalid character in year" for 04/05/2017).
_EXPECTED_FORMAT = {
    "date_from_datetime_parsing": "not a date: use YYYY-MM-DD, such as 2017-05-04",
    "date_from_datetime_inexact": "not a date: use YYYY-MM-DD, such as 2017-05-04",
    "date_parsing": "not a date: use YYYY-MM-DD, such as 2017-05-04",
    "date_type": "not a date: use YYYY-MM-DD, such as 2017-05-04",
    "datetime_parsing": "not a date and time: use ISO 8601, such as 2026-05-04T09:30:00Z",
    "datetime_from_date_parsing": (
        "not a date and time: use ISO 8601, such as 2026-05-04T09:30:00Z"
    ),
    "datetime_type": "not a date and time: use ISO 8601, such as 2026-05-04T09:30:00Z",
    "uuid_parsing": "not an id: use a UUID, such as 3fa85f64-5717-4562-b3fc-2c963f66afa6",
}


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, without the offending input."""
    return [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": _EXPECTED_FORMAT.get(err.get("type", ""), err.get("msg", "invalid")),
            "type": err.get("type", "invalid"),
        }
        for err in exc.errors()
    ]


def is_malformed_json(exc: RequestValidationError) -> bool:
    return any(err.get("type") == "json_invalid" for err in exc.errors())


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if is_malformed_json(exc):
            return problem(
                request,
                status=400,
                code="malformed_json",
                title="Malformed JSON",
                detail="The request body is not valid JSON.",
            )
        errors = validation_errors(exc)
        fields = ", ".join(".".join(e["location"]) for e in errors[:5])
        return problem(
            request,
            status=422,
            code="invalid_input",
            title="The request is not valid",
            detail=f"Check these fields: {fields}.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "Request refused"))
        detail = str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not answered at {request.url.path}: use " + (
                " or ".join(m for m in allowed if m not in ("HEAD", "OPTIONS")) or "GET"
            )
        answer = problem(request, status=exc.status_code, code=code, title=title, detail=detail)
        answer.headers.update(headers)
        return answer

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", **error_fields(exc))
        return problem(
            request,
            status=500,
            code="internal_error",
            title="Internal error",
            detail="The service could not complete the request; nothing was disclosed.",
        )
