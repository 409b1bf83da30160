"""The service's own connection can add audit events and read them, never change them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors

from index_service.database import APP_ROLE, Database, as_role


@pytest.fixture
def service_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """A raw connection with the service's credentials, as the pool uses them."""
    with psycopg.connect(as_role(database_url, APP_ROLE, None), autocommit=True) as conn:
        yield conn


def test_the_service_connects_as_its_own_role(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_user").scalar() == APP_ROLE


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing:to:see'",
        "UPDATE audit_event SET outcome = 'success' WHERE outcome = 'refused'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "UPDATE audit_seal SET hash = '\\x00'",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
    ],
)
def test_the_services_connection_cannot_change_or_remove_audit_rows(
    service_connection: psycopg.Connection,
    events: Callable[[int], list[str]],
    sealed: Callable[[], None],
    statement: str,
) -> None:
    events(3)
    sealed()
    with pytest.raises(errors.InsufficientPrivilege):
        service_connection.execute(statement)
    assert service_connection.execute("SELECT count(*) FROM audit_event").fetchone() == (3,)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing:to:see'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "DELETE FROM audit_seal",
    ],
)
def test_even_the_owner_is_stopped_by_the_triggers(
    database_url: str,
    events: Callable[[int], list[str]],
    sealed: Callable[[], None],
    statement: str,
) -> None:
    events(2)
    sealed()
    with (
        psycopg.connect(database_url, autocommit=True) as owner,
        pytest.raises(errors.InsufficientPrivilege, match="append-only"),
    ):
        owner.execute(statement)


def test_the_service_can_still_add_and_read_events(
    service_connection: psycopg.Connection, events: Callable[[int], list[str]]
) -> None:
    written = events(2)
    rows = service_connection.execute("SELECT id::text FROM audit_event").fetchall()
    assert sorted(r[0] for r in rows) == sorted(written)


_INSERT = (
    "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
    " child_ids, method, route, request_id, instance, detail, {column}) {overriding}"
    " VALUES (gen_random_uuid(), now(), 'x', 'success', 200, '{{}}', '{{}}', 'GET', '/',"
    " 'r', 'i', '{{}}', {value})"
)


@pytest.mark.parametrize(
    "statement",
    [
        _INSERT.format(column="xid", overriding="", value="'1'"),
        _INSERT.format(column="seq", overriding="OVERRIDING SYSTEM VALUE", value="1"),
    ],
    ids=["xid", "seq"],
)
def test_an_insert_cannot_choose_its_place_in_the_chain(
    service_connection: psycopg.Connection, statement: str
) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        service_connection.execute(statement)


def test_the_service_role_may_not_edit_the_trail_and_the_owner_may(
    db: Database, database_url: str
) -> None:
    from index_service.database import open_database
    from index_service.main import may_edit_audit_trail

    assert may_edit_audit_trail(db) is False
    owner = open_database(database_url, pool_size=1, application_name="owner-check")
    try:
        assert may_edit_audit_trail(owner) is True
    finally:
        owner.close()


def test_only_the_sealer_appends_to_the_chain_and_it_can_do_nothing_else(
    service_connection: psycopg.Connection,
    database_url: str,
    events: Callable[[int], list[str]],
    sealed: Callable[[], None],
) -> None:
    from index_service.database import SEALER_ROLE

    events(1)
    sealed()
    forged_seal = (
        "INSERT INTO audit_seal (position, event_id, hash, xid, seq, sealed_at)"
        " VALUES (2, gen_random_uuid(), '\\x00', '1', 1, now())"
    )
    with pytest.raises(errors.InsufficientPrivilege):
        service_connection.execute(forged_seal)
    with psycopg.connect(as_role(database_url, SEALER_ROLE, None), autocommit=True) as sealer:
        for statement in (
            "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
            " child_ids, method, route, request_id, instance, detail) VALUES (gen_random_uuid(),"
            " now(), 'x', 'success', 200, '{}', '{}', 'GET', '/', 'r', 'i', '{}')",
            "UPDATE audit_seal SET hash = '\\x00'",
            "DELETE FROM audit_seal",
            "SELECT count(*) FROM child",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                sealer.execute(statement)
