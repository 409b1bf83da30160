"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI

from index_service import __version__
from index_service.access.directory import Directory
from index_service.access.tokens import TokenVerifier
from index_service.api import (
    alerts,
    audit,
    children,
    enquiries,
    enquiry_contacts,
    feeds,
    flags,
    health,
    involvements,
    issuers,
    organisations,
    suspensions,
    webhooks,
)
from index_service.api.contract import document_problems
from index_service.api.front import mount_docs
from index_service.api.metrics import Metrics
from index_service.api.middleware import RequestMiddleware
from index_service.api.problems import install_problem_handlers
from index_service.database import (
    Database,
    open_database,
    sealer_database_url,
    service_database_url,
)
from index_service.issuers.registry import RegisteredIssuers
from index_service.logging import configure_logging
from index_service.migrations_state import schema_state
from index_service.settings import Settings, get_settings
from index_service.web.app import mount_pages

DESCRIPTION = """A signposting index for children's safeguarding: who else is working with
this child, and how to reach them.

- **Authentication**: a bearer JWT from your organisation's identity provider (in
  development, `index-service token`). Your roles and your organisation's type decide
  which operations you may call: each operation says who may.
- **Purpose of use**: every operation on child data needs `Purpose-Of-Use` (a code from
  the list) and `Purpose-Text` (a few words), recorded with its audit row.
- **Audit**: every request, allowed or refused, leaves an audit row written with the
  work, before the answer leaves.
- **Changes** name the version they change: send the `ETag` of your last read as
  `If-Match` (412 if it changed meanwhile, 428 if missing).
- **Errors** are RFC 9457 problem documents (`application/problem+json`, the `Problem`
  schema): `code` for programs, `detail` says what to do; each operation lists the ones
  it can give."""


V1_ROUTERS = (
    organisations.router,
    suspensions.router,
    issuers.router,
    children.router,
    enquiries.router,
    enquiry_contacts.router,
    involvements.router,
    flags.router,
    alerts.router,
    webhooks.router,
    audit.router,
    feeds.router,
)


class SchemaBehind(RuntimeError):
    pass


def connect(settings: Settings) -> Database:
    """Open the database as the service's own role and refuse to go on if its schema is not
    at head (or the role the migrations make does not exist yet)."""
    url = service_database_url(settings)
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        raise SchemaBehind(
            f"cannot connect as the service's role ({type(exc).__name__}): "
            "run `index-service migrate` first, or check DATABASE_APP_ROLE and its password"
        ) from None
    db = open_database(
        url,
        pool_size=settings.db_pool_size,
        application_name=settings.instance_name,
        wait_seconds=settings.db_wait_seconds,
    )
    try:
        state = schema_state(db.engine)
    except sqlalchemy.exc.ProgrammingError:
        # The role exists (roles belong to the whole server) but this database's schema
        # predates its grants: it cannot even read the version. That is a schema behind.
        db.close()
        raise SchemaBehind(
            "the service's role cannot read this database's schema version (the schema "
            "predates the role's grants): run `index-service migrate` first"
        ) from None
    if not state.at_head:
        db.close()
        raise SchemaBehind(
            f"database schema is at {state.current}, the code needs {state.head}: "
            "run `index-service migrate` first"
        )
    if settings.environment == "production" and may_edit_audit_trail(db):
        db.close()
        raise UnsafeRole(
            "the service's database role may update or delete audit events: connect as the "
            "role the migrations grant (index_service_app), not the owner"
        )
    return db


def connect_sealer(settings: Settings) -> Database:
    """A small pool as the sealer's role, the only one that may append to the chain."""
    url = sealer_database_url(settings)
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        raise SchemaBehind(
            f"cannot connect as the sealer's role ({type(exc).__name__}): run `index-service "
            "migrate` first, or check DATABASE_SEALER_ROLE and its password"
        ) from None
    return open_database(url, pool_size=1, application_name=f"{settings.instance_name}-sealer")


class UnsafeRole(RuntimeError):
    pass


def may_edit_audit_trail(db: Database) -> bool:
    """Whether the connected role could change or remove audit events (the owner can)."""
    with db.engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT has_table_privilege('audit_event', 'UPDATE')"
                " OR has_table_privilege('audit_event', 'DELETE')"
                " OR has_table_privilege('audit_event', 'TRUNCATE')"
            ).scalar()
        )


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = db is None
        app.state.db = connect(settings) if owned else db
        try:
            with app.state.metrics.counting_sql(app.state.db.engine):
                yield
        finally:
            if owned:
                app.state.db.close()

    app = FastAPI(
        title="Children's information-sharing index",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api/front.py, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    app.state.token_verifier.registered = RegisteredIssuers(
        lambda: app.state.db, allow_private=settings.outbound_private_allowed
    )
    app.state.directory = Directory()
    app.state.metrics = Metrics()
    app.state.undocumented_problems = set()  # api/routing.py; the tests look here
    install_problem_handlers(app)
    app.include_router(health.router)
    for router in V1_ROUTERS:
        app.include_router(router)
    mount_pages(app)
    mount_docs(app)
    _document(app)
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics)
    return app


def _document(app: FastAPI) -> None:
    """The OpenAPI document with the problem responses each route declares
    (`api/contract.py`), built once."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_factory() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
