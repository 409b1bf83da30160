"""Database faults, through the HTTP API against real PostgreSQL: every connection the
service holds is cut (as a server restart cuts them), or the database cannot be reached
at all. Requests come back on their own, nothing acknowledged lacks its audit row, and
while the database is away the answer is a quick 503 with Retry-After, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from index_service.database import APP_ROLE, Database, as_role, open_database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import Factory

APPLICATION = "index-service-fault-tests"
BODY = {"family_name": "Nobody", "given_names": "Faultless", "date_of_birth": "2015-01-01"}


@pytest.fixture
def small_pool(database_url: str) -> Iterator[Database]:
    database = open_database(
        as_role(database_url, APP_ROLE, None),
        pool_size=2,
        application_name=APPLICATION,
        wait_seconds=1.0,
    )
    yield database
    database.close()


def _cut_every_connection(database_url: str) -> int:
    """What a restart does to the service's connections: the server ends each of them."""
    with psycopg.connect(database_url, autocommit=True) as owner:
        rows = owner.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (APPLICATION,),
        ).fetchall()
    return len(rows)


def test_requests_succeed_again_after_every_connection_is_cut_three_times(
    settings: Settings, small_pool: Database, factory: Factory, database_url: str
) -> None:
    app = create_app(settings, db=small_pool)
    headers = {**factory.practitioner(), "X-Request-ID": "fault-test-0000"}
    acknowledged: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for round_ in range(3):
            ok = client.post("/v1/enquiries", json=BODY, headers=headers)
            assert ok.status_code == 201, ok.text
            assert _cut_every_connection(database_url) >= 1
            statuses = []
            for n in range(6):
                request_id = f"fault-test-{round_}-{n:04d}"
                answer = client.post(
                    "/v1/enquiries", json=BODY, headers={**headers, "X-Request-ID": request_id}
                )
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    acknowledged.append(request_id)
                else:
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["Retry-After"]
            assert statuses[-1] == 201, statuses  # back on its own, nothing restarted
    audited = {row["request_id"] for row in factory.audit_rows()}
    assert set(acknowledged) <= audited  # every acknowledged request has its audit row
    assert small_pool.pool.get_stats()["pool_size"] <= 2  # no slot lost to a dead one


def test_while_the_database_cannot_be_reached_requests_get_a_quick_503(
    settings: Settings, factory: Factory
) -> None:
    """A database nobody answers at: each request is 503 `database_unavailable` with
    Retry-After once its short wait for a connection is over (no 500, no minute-long
    hang), and /readyz says 503 too."""
    nowhere = open_database(
        "postgresql://index_service_app@127.0.0.1:1/nowhere",
        pool_size=2,
        application_name=APPLICATION,
        wait_seconds=0.5,
    )
    try:
        app = create_app(settings, db=nowhere)
        with TestClient(app, raise_server_exceptions=False) as client:
            for _ in range(3):
                answer = client.post("/v1/enquiries", json=BODY, headers=factory.practitioner())
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "database_unavailable"
                assert answer.headers["Retry-After"] == "2"
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "unreachable"
    finally:
        nowhere.close()


def test_readyz_is_ready_while_every_pooled_connection_is_at_work(
    settings: Settings, small_pool: Database
) -> None:
    """A busy instance is a ready one: /readyz uses a short connection of its own, so a
    pool whose connections are all lent does not take the instance out of service."""
    app = create_app(settings, db=small_pool)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        small_pool.pool.connection(),
        small_pool.pool.connection(),
    ):
        ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "reachable"
