"""`index-service serve` as a real process: it answers /healthz, a token minted by
`index-service token` creates and reads a child over real HTTP, and it stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from index_service.settings import Settings
from tests.factories import PURPOSE, Factory, child_payload
from tests.factories.processes import BIN, STARTED, free_port, postgres_of, wait_for_line


@dataclass
class Served:
    """A running `index-service serve`: where it listens, its environment, its output."""

    base: str
    env: dict[str, str]
    process: subprocess.Popen[str]

    def stop_and_read(self) -> str:
        """Stop it as Ctrl-C would, and everything it printed after starting up."""
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return output


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    yield from _serve(settings)


@pytest.fixture
def served_with_one_connection(settings: Settings) -> Iterator[Served]:
    yield from _serve(settings, DB_POOL_SIZE="1", RATE_LIMIT_SEARCHES="1000")


def _serve(settings: Settings, **environment: str) -> Iterator[Served]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "DATA_DIR": str(settings.data_dir),
        "PORT": str(port),
        **environment,
    }
    process = subprocess.Popen(
        [str(BIN / "index-service"), "serve", "--workers", "1"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_line(process, "Application startup complete", timeout=60)
        yield Served(f"http://127.0.0.1:{port}", env, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_the_served_app_creates_and_reads_a_child_with_a_minted_token(
    served: Served, factory: Factory
) -> None:
    base, env = served.base, served.env
    organisation = factory.organisation(type="childrens_social_care")
    assert httpx2.get(f"{base}/healthz").json() == {"status": "ok"}
    token = subprocess.run(
        [
            str(BIN / "index-service"),
            "token",
            "--sub",
            "dm-9",
            "--name",
            "Dana Manager",
            "--org",
            organisation.code,
            "--role",
            "data_manager",
        ],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {token}", **PURPOSE}
    created = httpx2.post(f"{base}/v1/children", json=child_payload(), headers=headers)
    assert created.status_code == 201, created.text
    read = httpx2.get(f"{base}{created.headers['Location']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["id"] == created.json()["id"]
    assert httpx2.get(f"{base}/readyz").status_code == 200


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_schema_that_is_behind(
    settings: Settings, scratch_database: str, workers: str
) -> None:
    """Before anything is bound or started: one message and exit code 1, not a traceback
    from each server process."""
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "DATA_DIR": str(settings.data_dir),
        "PORT": str(free_port()),
    }
    result = subprocess.run(
        [str(BIN / "index-service"), "serve", "--workers", workers],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("index-service migrate") == 1, output
    assert "Traceback" not in output
    assert "Uvicorn running" not in output


def test_an_error_escaping_to_the_server_is_logged_without_its_message(
    served: Served, factory: Factory, database_url: str
) -> None:
    """uvicorn logs an exception that escapes the app with a traceback that quotes it; a
    database error can quote a child's details back. The served process's whole output
    keeps the error's type and frames, never its text."""
    import psycopg

    base = served.base
    organisation = factory.organisation(type="childrens_social_care")
    headers = factory.headers_for(organisation, roles=["data_manager"])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION leak_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'cannot store %', NEW.family_name USING ERRCODE = 'P0001'; END $$;"
            "CREATE TRIGGER leak_name BEFORE INSERT ON child_name "
            "FOR EACH ROW EXECUTE FUNCTION leak_name();"
        )
    try:
        response = httpx2.post(f"{base}/v1/children", json=child_payload(), headers=headers)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP TRIGGER leak_name ON child_name; DROP FUNCTION leak_name();")
    assert response.status_code == 500
    output = served.stop_and_read()
    assert "Testchild" not in output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if '"error_type"' in line]
    assert errors, output[-2000:]


@pytest.mark.parametrize(
    ("command", "signum", "ready"),
    [
        pytest.param("serve --workers 1", signal.SIGTERM, STARTED, id="serve-sigterm"),
        pytest.param("serve --workers 1", signal.SIGHUP, STARTED, id="serve-sighup"),
        pytest.param("worker", signal.SIGTERM, "worker.started", id="worker-sigterm"),
        pytest.param("worker", signal.SIGHUP, "worker.started", id="worker-sighup"),
    ],
)
def test_a_stopped_process_leaves_no_embedded_postgresql_running(
    embedded_data_dir: Path, command: str, signum: signal.Signals, ready: str
) -> None:
    """kill, systemd, docker or a closed terminal stop `serve` (one process; several:
    `tests/processes/test_server.py`) and `worker` cleanly, and the embedded PostgreSQL
    with them, even though a process killed outright earlier left its handle behind (a
    pid that no longer exists)."""
    handles = embedded_data_dir / "postgres" / ".handle_pids.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handles.write_text(json.dumps([dead.pid]))  # a handle whose process is gone
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "DATA_DIR": str(embedded_data_dir),
        "PORT": str(free_port()),
        "WORKER_POLL_SECONDS": "0.2",
    }
    process = subprocess.Popen(
        [str(BIN / "index-service"), *command.split()],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_line(process, ready, timeout=120)
        assert postgres_of(embedded_data_dir), "the embedded server should be running"
        process.send_signal(signum)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert postgres_of(embedded_data_dir) == []


def test_more_requests_than_connections_get_answers_or_503_never_a_hang_or_500(
    served_with_one_connection: Served, factory: Factory
) -> None:
    """One pooled connection and 64 enquiries at once, more than the server's 40 threads:
    each is answered, or refused with 503 and Retry-After after a short wait for a place.
    None stalls (threads that wait for the connection while its holder waits for a thread
    to commit) into a pool timeout's 500. The client's timeout bounds a hang; it measures
    nothing."""
    base = served_with_one_connection.base
    hospital = factory.organisation(type="emergency_department")
    headers = factory.headers_for(hospital, roles=["practitioner"], sub="ed-1")

    def enquire(n: int) -> httpx2.Response:
        given = f"Test{chr(97 + n % 26)}{chr(97 + n // 26)}"
        body = {"family_name": "Nobody", "given_names": given, "date_of_birth": "2015-01-01"}
        return httpx2.post(f"{base}/v1/enquiries", json=body, headers=headers, timeout=20)

    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(enquire, range(64)))
    statuses = Counter(r.status_code for r in answers)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] >= 1
    for busy in (r for r in answers if r.status_code == 503):
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["code"] == "service_busy"


def test_a_client_that_goes_away_mid_body_is_logged_and_audited_as_such_not_as_a_500(
    served: Served, factory: Factory
) -> None:
    """The caller sends half a body and closes the connection: the request is audited as
    refused with `client_disconnected` (499), and the log says 499, with no error."""
    organisation = factory.organisation(type="childrens_social_care")
    headers = factory.headers_for(organisation, roles=["data_manager"])
    port = int(served.base.rsplit(":", 1)[1])
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            (
                f"POST /v1/children HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                '{"names": ['
            ).encode()
        )
    # The access log line is written after the refusal's audit row is committed.
    seen = wait_for_line(served.process, '"event": "request"', timeout=30)
    [row] = [r for r in factory.audit_rows() if r["route"] == "/v1/children"]
    assert (row["status_code"], row["reason"], row["outcome"]) == (
        499,
        "client_disconnected",
        "refused",
    )
    output = "".join(seen) + served.stop_and_read()
    assert "unhandled_error" not in output
    [line] = [json.loads(x) for x in output.splitlines() if '"event": "request"' in x]
    assert line["status"] == 499
