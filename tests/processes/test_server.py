"""`serve --workers 2`: two server processes behind one socket, under uvicorn's supervisor,
with the embedded PostgreSQL started once by the supervisor, and everything stopped by
SIGTERM or SIGHUP to the supervisor alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest

from index_service.processes.server import default_workers
from index_service.settings import Settings
from tests.factories.processes import (
    BIN,
    STARTED,
    embedded_env,
    free_port,
    gone_within,
    listening_on,
    postgres_of,
    postmaster_of,
    wait_for_lines,
)


def _answered(conn: socket.socket) -> bool:
    """Read one response's head (the request was answered)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.startswith(b"HTTP/1.1 200")


def answering_processes(supervisor: psutil.Process, port: int, timeout: float) -> set[int]:
    """Pids of the supervisor's children that answered requests, found from the server's
    side of each connection: rounds of eight connections at once, each answered and kept
    open while its owner is looked up, until two processes have answered (which process
    accepts a connection is the kernel's choice) or `timeout` passes."""
    answered: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(answered) < 2 and time.monotonic() < deadline:
        with ExitStack() as stack:
            conns = [
                stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
                for _ in range(8)
            ]
            for conn in conns:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert all(_answered(conn) for conn in conns)
            owners = {
                c.raddr.port: child.pid
                for child in supervisor.children()
                for c in child.net_connections(kind="tcp")
                if c.raddr and c.laddr.port == port
            }
            answered |= {owners[c.getsockname()[1]] for c in conns if c.getsockname()[1] in owners}
    return answered


def start_serving(data_dir: Path, port: int, *command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "index-service"), *command],
        env=embedded_env(data_dir, PORT=str(port)),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_two_server_processes_answer_and_a_signal_to_the_supervisor_stops_everything(
    embedded_data_dir: Path, signum: signal.Signals
) -> None:
    """Both server processes answer on the one port; the embedded PostgreSQL is held by
    the supervisor alone (the workers were handed its URL); SIGTERM (kill, systemd) or
    SIGHUP (a closed terminal; uvicorn's own supervisor would restart its workers) to the
    supervisor leaves no server process, no PostgreSQL and nothing on the port."""
    port = free_port()
    process = start_serving(embedded_data_dir, port, "serve", "--workers", "2")
    try:
        wait_for_lines(process, {STARTED: 2}, timeout=120)
        supervisor = psutil.Process(process.pid)
        workers = [p for p in supervisor.children() if p.net_connections(kind="tcp")]
        assert len(workers) == 2
        assert answering_processes(supervisor, port, timeout=60) == {p.pid for p in workers}
        handles = embedded_data_dir / "postgres" / ".handle_pids.json"
        assert json.loads(handles.read_text()) == [process.pid]
        postmaster = postmaster_of(embedded_data_dir)
        started = supervisor.children(recursive=True)

        process.send_signal(signum)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-2000:]
    assert gone_within(started, timeout=30) == []
    assert gone_within([postmaster], timeout=30) == []
    assert postgres_of(embedded_data_dir) == []
    assert not listening_on(port)
    assert "Traceback" not in output


def test_a_supervisor_killed_outright_takes_its_workers_and_the_next_start_stops_postgres(
    embedded_data_dir: Path,
) -> None:
    """SIGKILL leaves the supervisor no handler to run: its workers go anyway (they asked
    Linux for SIGTERM when their parent dies). The embedded PostgreSQL it held is left
    running with the dead supervisor's handle; the next process to start it drops that
    handle, and stops the server when it exits, as the last one holding it."""
    port = free_port()
    process = start_serving(embedded_data_dir, port, "serve", "--workers", "2")
    try:
        wait_for_lines(process, {STARTED: 2}, timeout=120)
        started = psutil.Process(process.pid).children(recursive=True)
        postmaster = postmaster_of(embedded_data_dir)
        process.kill()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        assert process.stdout is not None
        process.stdout.close()
    assert gone_within(started, timeout=30) == []
    assert not listening_on(port)
    assert postmaster.is_running(), "nothing was left to stop it"

    migrate = subprocess.run(
        [str(BIN / "index-service"), "migrate"],
        env=embedded_env(embedded_data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert gone_within([postmaster], timeout=30) == []
    assert postgres_of(embedded_data_dir) == []


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, len(os.sched_getaffinity(0))),
        ({"WEB_CONCURRENCY": "3"}, 3),
        ({"SERVE_WORKERS": "5"}, 5),
    ],
    ids=["cpus", "web-concurrency", "serve-workers"],
)
def test_how_many_server_processes(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: int
) -> None:
    for name in ("SERVE_WORKERS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert default_workers(Settings(_env_file=None)) == expected


def test_connections_to_the_shared_listening_socket_turn_nagles_algorithm_off() -> None:
    """asyncio sets TCP_NODELAY only on connections from a socket whose protocol says
    TCP; without it each keep-alive answer (headers and body in two writes) waited for
    the client's delayed ACK, about 40 ms a request with several workers."""
    import asyncio

    from uvicorn import Config

    from index_service.processes.server import _bind

    listening = _bind(Config("index_service.main:app_factory", host="127.0.0.1", port=0))
    seen: list[int] = []

    async def exchange() -> None:
        async def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connection = writer.get_extra_info("socket")
            seen.append(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            await writer.drain()
            while not seen:
                await asyncio.sleep(0)
            writer.close()

    asyncio.run(asyncio.wait_for(exchange(), timeout=10))
    assert seen == [1]
