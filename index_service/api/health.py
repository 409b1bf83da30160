"""Liveness, readiness and Prometheus metrics: no authentication, no child data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from index_service.audit.sealer import oldest_unsealed_seconds
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
    body: dict[str, Any] = {
        "status": "ok" if state.at_head else "unavailable",
        "database": "reachable",
        "schema_revision": state.current,
        "schema_head": state.head,
    }
    if state.at_head:
        body["audit_sealer"] = _sealer_health(request)
    return JSONResponse(body, status_code=200 if state.at_head else 503)


def _sealer_health(request: Request) -> dict[str, Any]:
    """Whether the worker's sealer keeps up: the oldest unchained event's wait, "behind"
    past three checkpoint intervals. Reported, not a reason to take the API out of
    service (requests still write their events; the chain catches up when fixed); the
    same number is the `index_audit_oldest_unsealed_seconds` gauge."""
    with request.app.state.db.session() as session:
        waited = oldest_unsealed_seconds(session)
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
