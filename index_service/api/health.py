"""Liveness, readiness and Prometheus metrics: no authentication, no child data."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from index_service.audit.sealer import oldest_unsealed_seconds
from index_service.migrations_state import schema_state_over

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and its schema is at head",
    responses={503: {"description": "not ready"}},
)
def readyz(request: Request) -> Any:
    """On a short connection of its own (one second to connect, one per statement), not
    one of the pool's: a busy instance, all of whose connections are at work, is ready;
    one whose database is away says so within a second or two."""
    db = request.app.state.db
    try:
        with psycopg.connect(
            db.url, connect_timeout=1, autocommit=True, options="-c statement_timeout=1000"
        ) as conn:
            state = schema_state_over(conn)
            sealer = _sealer_health(request, conn) if state.at_head else None
    except psycopg.Error:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    body: dict[str, Any] = {
        "status": "ok" if state.at_head else "unavailable",
        "database": "reachable",
        "schema_revision": state.current,
        "schema_head": state.head,
    }
    if sealer is not None:
        body["audit_sealer"] = sealer
    return JSONResponse(body, status_code=200 if state.at_head else 503)


def _sealer_health(request: Request, conn: psycopg.Connection) -> dict[str, Any]:
    """Whether the worker's sealer keeps up: the oldest unchained event's wait, "behind"
    past three checkpoint intervals. Reported, not a reason to take the API out of
    service (requests still write their events; the chain catches up when fixed); the
    same number is the `index_audit_oldest_unsealed_seconds` gauge."""
    waited = oldest_unsealed_seconds(conn)
    request.app.state.metrics.oldest_unsealed.set(waited or 0.0)
    limit = 3 * request.app.state.settings.audit_checkpoint_seconds
    return {
        "status": "behind" if waited is not None and waited > limit else "ok",
        "oldest_unsealed_seconds": round(waited, 1) if waited is not None else None,
    }


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
