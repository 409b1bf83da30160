"""RFC 9457 problem documents for every error the API returns.

Validation errors name the field and what is wrong with it, but never echo the value
sent: a rejected value may be a child's personal data."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, without the offending input."""
    return [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": err.get("msg", "invalid"),
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
        return problem(
            request, status=exc.status_code, code=code, title=title, detail=str(exc.detail)
        )

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
