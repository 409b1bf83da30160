"""Test fixtures: a real PostgreSQL (the embedded server, or DATABASE_URL's), a fresh
database migrated by Alembic for the session, and every table emptied after each test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from index_service.database import (
    APP_ROLE,
    SEALER_ROLE,
    Database,
    as_role,
    open_database,
    plain_conninfo,
    start_embedded_postgres,
    with_database,
)
from index_service.migrations_state import alembic_config
from index_service.settings import Settings
from tests.factories import Factory

# No timed assertions in the suite, hypothesis's per-example deadline included: this
# machine is shared and noisy (first calls also load datasets such as `nicknames`).
hypothesis_settings.register_profile("index-service", deadline=None)
hypothesis_settings.load_profile("index-service")

# One database per test session, so parallel sessions never share one.
TEST_DATABASE = f"index_service_test_{os.getpid()}"
TABLES = (
    "feed_review",
    "feed_row_key",
    "feed",
    "web_page",
    "web_session",
    "web_sign_in",
    "audit_seal",
    "audit_erasure",
    "alert_delivery_attempt",
    "alert_delivery",
    "alert",
    "webhook_endpoint",
    "enquiry_contact",
    "audit_event",
    "enquiry",
    "rate_window",
    "shielded_access",
    "suspension",
    "trusted_issuer",
    "child_merge",
    "child_tombstone",
    "carer",
    "child_mother",
    "term_frequency",
    "child_address",
    "child_name",
    "flag",
    "involvement",
    "child",
    "organisation",
)
ROOT = Path(__file__).resolve().parent.parent


def _server_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return plain_conninfo(configured)
    return start_embedded_postgres(ROOT / ".data")


def create_fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def scratch_database(server_url: str) -> Iterator[str]:
    """An empty database of its own (no schema), dropped after the test."""
    name = f"index_service_scratch_{os.getpid()}"
    yield create_fresh_database(server_url, name)
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    url = create_fresh_database(server_url, TEST_DATABASE)
    command.upgrade(alembic_config(url), "head")
    yield url
    drop_database(server_url, TEST_DATABASE)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        dev_issuer_enabled=True,
        max_body_bytes=64 * 1024,
        # Generous, so that only the rate-limit tests (with an app of their own) meet them.
        rate_limit_searches=100_000,
        rate_limit_reads=100_000,
    )


@pytest.fixture(scope="session")
def db(settings: Settings, database_url: str) -> Iterator[Database]:
    # The service's own role, as in production: it may only insert into and read the audit
    # tables. Fixtures that must do more (emptying the tables) use `database_url`, the owner.
    database = open_database(
        as_role(database_url, APP_ROLE, None), pool_size=8, application_name="index-service-tests"
    )
    yield database
    database.close()


@pytest.fixture(scope="session")
def sealer_db(database_url: str) -> Iterator[Database]:
    """The sealer's own role: it alone may append to the audit chain."""
    database = open_database(
        as_role(database_url, SEALER_ROLE, None), pool_size=2, application_name="tests-sealer"
    )
    yield database
    database.close()


@pytest.fixture(scope="session")
def embedded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory of its own with the embedded PostgreSQL migrated, for tests of
    processes that start and stop that server themselves (`migrate` stops it again when
    it exits). A test that leaves it running has failed."""
    import subprocess
    import sys

    data_dir = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATA_DIR": str(data_dir)}
    script = Path(sys.executable).parent / "index-service"
    subprocess.run([str(script), "migrate"], env=env, check=True, timeout=300)
    return data_dir


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    from index_service.main import create_app

    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    # Every problem a route answered is in its OpenAPI operation (api/contract.py).
    undocumented = sorted(app.state.undocumented_problems)
    app.state.undocumented_problems.clear()
    assert not undocumented, f"problem statuses not in the OpenAPI document: {undocumented}"


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database_url" in request.fixturenames:
        url = request.getfixturevalue("database_url")
        with psycopg.connect(url, autocommit=True) as conn:
            # The append-only triggers do not fire in replica mode (a superuser's setting).
            conn.execute("SET session_replication_role = replica")
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            # Replica mode kept the directory's triggers quiet: move its number by hand,
            # as the truncation would have, so that cached organisations are forgotten.
            conn.execute("UPDATE directory_version SET version = version + 1")
    if "settings" in request.fixturenames:
        shutil.rmtree(request.getfixturevalue("settings").checkpoint_dir, ignore_errors=True)


@pytest.fixture
def factory(db: Database, settings: Settings) -> Factory:
    return Factory(db=db, settings=settings)
