"""The pool under database faults, on real PostgreSQL: a connection the server ends while
it is at work is replaced, not lost; once the server is known to be down, a request
does not wait for a connection (the whole restart story is tests/test_database_restarts.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import PoolTimeout
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from index_service.database import APP_ROLE, Database, as_role, open_database

APPLICATION = "index-service-pool-tests"


@pytest.fixture
def one_connection(database_url: str) -> Iterator[Database]:
    database = open_database(
        as_role(database_url, APP_ROLE, None),
        pool_size=1,
        application_name=APPLICATION,
        wait_seconds=5.0,
    )
    yield database
    database.close()


def test_a_connection_the_server_ends_while_it_is_at_work_is_replaced(
    one_connection: Database, database_url: str
) -> None:
    """The server ends the only connection in the middle of a unit of work (a restart
    does that to every connection at work). psycopg's `close()` used not to hand a broken
    connection back to the pool, so its place was lost and every later request waited
    for a connection that would never come; now the next unit of work gets a new one."""
    with one_connection.session() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(database_url, autocommit=True) as owner:
            owner.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(OperationalError):
            session.execute(text("SELECT 1"))
    for _ in range(2):  # and the place stays: not one connection short, or one too many
        with one_connection.transaction() as session:
            assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    assert one_connection.pool.get_stats()["pool_size"] == 1


def test_once_the_server_is_known_to_be_down_a_request_does_not_wait() -> None:
    """Nobody answers at the address: the pool's attempt to connect fails, and a request
    gives up at once (to be answered 503), not after its `wait_seconds` (thirty here);
    so does the first, which began to wait before the pool knew. And none is left in the
    pool's queue: psycopg_pool keeps a waiter that timed out there until it next hands a
    connection out, which while the server is down is never."""
    nowhere = open_database(
        "postgresql://index_service_app@127.0.0.1:1/nowhere",
        pool_size=2,
        application_name=APPLICATION,
        wait_seconds=30.0,
    )
    try:
        queued = []
        for _ in range(20):
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised, nowhere.session() as session:
                session.execute(text("SELECT 1"))
            assert isinstance(raised.value.orig, PoolTimeout)
            assert time.monotonic() - started < 10  # the bound: far below 30 s
            queued.append(nowhere.pool.get_stats()["requests_waiting"])
        assert not nowhere.reachability.reachable
        assert set(queued) == {queued[0]}  # the first's waits, if any; none after it
    finally:
        nowhere.close()
