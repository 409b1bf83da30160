"""The directory cache (`access/directory.py`): organisations, suspensions and trusted
issuers are read once per process, yet a change made anywhere (another instance, or SQL
at the console) holds from the very next request, because each request's first
statement reads the directory's number (migration 0015) and checks the caller again when
it has moved."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from index_service.database import Database
from index_service.main import create_app
from index_service.settings import DEV_ISSUER, Settings
from tests.api.test_trusted_issuers_api import (  # the agency's identity provider
    AGENCY_IDP,
    _agency_headers,
    agency_keys_url,  # noqa: F401  (a fixture)
)
from tests.factories import Factory, child_payload, other_child


@pytest.fixture
def other_instance(settings: Settings, db: Database) -> Iterator[TestClient]:
    """A second service process over the same database, with a cache of its own."""
    with TestClient(create_app(settings, db=db), raise_server_exceptions=False) as client:
        yield client


def _console(database_url: str, statement: str, *params: object) -> None:
    """A change made at the console, as the owner, outside any service instance."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(statement, params)


def test_a_suspension_made_at_the_console_refuses_the_very_next_request(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    csc = factory.organisation()
    worker = factory.headers_for(csc, roles=["data_manager"], sub="worker-7")
    assert client.post("/v1/children", json=child_payload(), headers=worker).status_code == 201
    children_before = factory.count("child")
    _console(
        database_url,
        "INSERT INTO suspension (id, kind, issuer, subject, reason, suspended_by, suspended_at)"
        " VALUES (%s, 'user', %s, 'worker-7', 'left post', 'console', now())",
        uuid.uuid4(),
        DEV_ISSUER,
    )
    refused = client.post("/v1/children", json=other_child(), headers=worker)
    assert (refused.status_code, refused.json()["code"]) == (403, "user_suspended")
    assert factory.count("child") == children_before  # nothing done
    _console(database_url, "UPDATE suspension SET lifted_at = now(), lifted_by = 'console'")
    assert client.post("/v1/children", json=other_child(), headers=worker).status_code == 201


def test_a_suspension_made_on_another_instance_holds_here_at_once(
    client: TestClient, other_instance: TestClient, factory: Factory
) -> None:
    operator = factory.organisation(type="index_operator")
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    ed = factory.organisation(type="emergency_department")
    users = [factory.headers_for(ed, roles=["practitioner"], sub=f"u{i}") for i in range(2)]
    # Both instances have the organisation and the (empty) suspensions cached.
    for instance in (client, other_instance):
        assert instance.post("/v1/enquiries", json=_NOBODY, headers=users[0]).status_code == 201
    made = other_instance.post(
        "/v1/suspensions",
        json={"kind": "organisation", "organisation_code": ed.code, "reason": "breach"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    enquiries_before = factory.count("enquiry")
    for headers in users:
        refused = client.post("/v1/enquiries", json=_NOBODY, headers=headers)
        assert refused.json()["code"] == "organisation_suspended"
    assert factory.count("enquiry") == enquiries_before
    lifted = other_instance.delete(f"/v1/suspensions/{made.json()['id']}", headers=admin)
    assert lifted.status_code == 200
    assert client.post("/v1/enquiries", json=_NOBODY, headers=users[1]).status_code == 201


def test_an_organisation_added_at_the_console_takes_part_at_once(
    client: TestClient, factory: Factory, database_url: str
) -> None:
    from index_service.organisations.models import Organisation

    ghost = Organisation(
        code="GHOST-01",
        name="Not yet added",
        type="childrens_social_care",
        local_authority="E09000009",
    )
    headers = factory.headers_for(ghost, roles=["data_manager"], sub="early")
    refused = client.post("/v1/children", json=child_payload(), headers=headers)
    assert refused.json()["code"] == "organisation_not_participating"
    _console(
        database_url,
        "INSERT INTO organisation (id, code, name, type, local_authority, contact_phone,"
        " out_of_hours_phone, created_at) VALUES (%s, 'GHOST-01', 'Ghost CSC',"
        " 'childrens_social_care', 'E09000009', '020 7946 0990', '020 7946 0999', now())",
        uuid.uuid4(),
    )
    assert client.post("/v1/children", json=child_payload(), headers=headers).status_code == 201


def test_the_front_door_is_kept_and_a_change_to_it_shows_in_the_very_next_answer(
    client: TestClient, other_instance: TestClient, factory: Factory, database_url: str
) -> None:
    """A `not_found` names the authority's children's social care from the cache: a new
    phone number or a deactivation, made at the console or on another instance, is in
    the very next answer, never a stale one."""
    haringey = "E09000014"
    csc = factory.organisation(local_authority=haringey, contact_phone="020 7946 0311")
    operator = factory.organisation(type="index_operator")
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    nurse = factory.practitioner()
    asked = {**_NOBODY, "lives_in_local_authority": haringey}

    def contact() -> Any:
        answer = client.post("/v1/enquiries", json=asked, headers=nurse)
        assert answer.json()["outcome"] == "not_found", answer.text
        return answer.json()["front_door"]["contact"]

    assert contact()["phone"] == "020 7946 0311"
    assert contact()["phone"] == "020 7946 0311"  # kept: read from the cache
    changed = "UPDATE organisation SET contact_phone = '020 7946 0312' WHERE id = %s"
    _console(database_url, changed, csc.id)
    assert contact()["phone"] == "020 7946 0312"
    gone = other_instance.put(
        f"/v1/organisations/{csc.id}/deactivation", json={"reason": "merged"}, headers=admin
    )
    assert gone.status_code == 200, gone.text
    assert contact() is None  # the authority takes no part now: call its switchboard


def test_a_warm_request_reads_nothing_before_its_one_transaction(
    app: FastAPI, client: TestClient, factory: Factory, db: Database
) -> None:
    """A known caller's enquiry: no statement outside the work, one commit, and the
    caller's organisation and suspensions are not read at all."""
    headers = factory.practitioner()
    assert client.post("/v1/children", json=child_payload(), headers=factory.data_manager())
    assert client.post("/v1/enquiries", json=_NOBODY, headers=headers).status_code == 201  # warm
    statements: list[str] = []
    commits: list[int] = []
    listeners = {
        "before_cursor_execute": lambda _c, _cur, statement, *_: statements.append(statement),
        "commit": lambda _conn: commits.append(1),
    }
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    try:
        answer = client.post("/v1/enquiries", json=_NOBODY, headers=headers)
    finally:
        for name, listener in listeners.items():
            event.remove(db.engine, name, listener)
    assert answer.status_code == 201, answer.text
    assert len(commits) == 1
    # First a look, without a lock, at the directory's number and the caller's count ...
    assert statements[0].startswith("SELECT")
    assert "directory_version" in statements[0]
    assert "rate_window" in statements[0]
    assert not any(" FROM organisation" in s or " FROM suspension" in s for s in statements)
    # ... and the count itself last, beside the audit row: its row is locked only while
    # the work commits, not while it runs (now and then a sweep of old windows follows).
    counted = [s for s in statements if not s.startswith("DELETE FROM rate_window")]
    assert "INSERT INTO rate_window" in counted[-2]
    assert counted[-1].startswith("INSERT INTO audit_event")


_NOBODY = {
    "family_name": "Nobodyhere",
    "given_names": "Zed",
    "date_of_birth": "2011-01-01",
    "postcode": "N1 1AA",
}


def test_an_issuer_registered_or_withdrawn_on_another_instance_holds_here_at_once(
    client: TestClient,
    other_instance: TestClient,
    factory: Factory,
    agency_keys_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    operator = factory.organisation(type="index_operator")
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    hospital = factory.organisation(type="hospital")
    agency = _agency_headers(hospital.code)
    assert client.post("/v1/children", json=child_payload(), headers=agency).json()["code"] == (
        "issuer_not_trusted"
    )
    registered = other_instance.post(
        "/v1/trusted-issuers",
        json={"issuer": AGENCY_IDP, "jwks_url": agency_keys_url, "organisations": [hospital.code]},
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    assert client.post("/v1/children", json=child_payload(), headers=agency).status_code == 201
    withdrawn = other_instance.delete(
        f"/v1/trusted-issuers/{registered.json()['id']}", headers=admin
    )
    assert withdrawn.status_code == 200
    children_before = factory.count("child")
    refused = client.post("/v1/children", json=other_child(), headers=agency)
    assert (refused.status_code, refused.json()["code"]) == (401, "issuer_not_trusted")
    assert factory.count("child") == children_before


def test_a_request_checked_before_a_suspension_is_refused_when_its_work_begins(
    app: FastAPI, client: TestClient, factory: Factory, database_url: str
) -> None:
    """The caller is checked before the body is read, on the cache. A suspension made
    while the body is on its way, and noticed first by another request (which empties
    the cache), still refuses this one: its work reads the directory's number and checks
    the caller again whenever that is not the number it was checked on."""
    ed = factory.organisation(type="emergency_department")
    slow = factory.headers_for(ed, roles=["practitioner"], sub="slow-sender")
    other = factory.headers_for(ed, roles=["practitioner"], sub="someone-else")
    assert client.post("/v1/enquiries", json=_NOBODY, headers=slow).status_code == 201  # warm
    enquiries_before = factory.count("enquiry")
    body = json.dumps(_NOBODY).encode()

    async def scenario() -> list[dict[str, Any]]:
        body_wanted, release = asyncio.Event(), asyncio.Event()
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            body_wanted.set()  # the caller has been checked: the body is read next
            await release.wait()
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(k.lower().encode(), v.encode()) for k, v in slow.items()]
        headers += [(b"content-type", b"application/json"), (b"host", b"testserver")]
        headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/enquiries",
            "raw_path": b"/v1/enquiries",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "state": {},
        }
        pending = asyncio.create_task(app(scope, receive, send))
        await asyncio.wait_for(body_wanted.wait(), timeout=30)
        await asyncio.to_thread(
            _console,
            database_url,
            "INSERT INTO suspension (id, kind, issuer, subject, reason, suspended_by,"
            " suspended_at) VALUES (%s, 'user', %s, 'slow-sender', 'left post', 'console', now())",
            uuid.uuid4(),
            DEV_ISSUER,
        )
        # Another request notices the change first, and empties the cache.
        noticed = await asyncio.to_thread(client.post, "/v1/enquiries", json=_NOBODY, headers=other)
        assert noticed.status_code == 201
        release.set()
        await asyncio.wait_for(pending, timeout=30)
        return sent

    sent = asyncio.run(scenario())
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer = json.loads(
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    )
    assert (start["status"], answer["code"]) == (403, "user_suspended")
    assert factory.count("enquiry") == enquiries_before + 1  # the other one's only
