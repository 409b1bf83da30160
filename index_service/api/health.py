"""Liveness, readiness and Prometheus metrics: no authentication, no child data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from index_service.migrations_state import schema_state

router = APIRouter(tags=["operations"])
READY_WAIT_SECONDS = 1.0


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and its schema is at head",
    responses={503: {"description": "not ready"}},
)
def readyz(request: Request) -> Any:
    try:
        # A connection within a second, or not ready: never a request's long wait.
        with request.app.state.db.pool.connection(timeout=READY_WAIT_SECONDS):
            pass
        state = schema_state(request.app.state.db.engine)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    body = {
        "status": "ok" if state.at_head else "unavailable",
        "database": "reachable",
        "schema_revision": state.current,
        "schema_head": state.head,
    }
    return JSONResponse(body, status_code=200 if state.at_head else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
