"""`index-service run` and `make run`: the server processes and the alert worker, started
together and stopped together: by `kill` of make, and when either child ends. (Killed
outright, `run`'s children go by the death signal they armed: `test_lifeline.py`, and
`test_server.py` for a supervisor killed outright.)"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx2
import psutil

from tests.factories.processes import (
    BIN,
    ROOT,
    STARTED,
    embedded_env,
    free_port,
    gone_within,
    listening_on,
    postgres_of,
    postmaster_of,
    processes_with_env,
    wait_for_lines,
)

WORKER_STARTED = "worker.started"


def _run_command(data_dir: Path, port: int, command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        env=embedded_env(data_dir, PORT=str(port), SERVE_WORKERS="2"),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _assert_nothing_left(
    started: list[psutil.Process], postmaster: psutil.Process, data_dir: Path, port: int
) -> None:
    assert gone_within(started, timeout=30) == []
    assert gone_within([postmaster], timeout=30) == []
    assert postgres_of(data_dir) == []
    assert processes_with_env("DATA_DIR", str(data_dir)) == []
    assert not listening_on(port)


def test_kill_of_make_run_stops_everything_it_started(embedded_data_dir: Path) -> None:
    """`make run` (migrate, seed, then the server processes and the worker) answers on
    PORT; SIGTERM to make alone (`kill <pid>`; make passes it to its child only) stops
    the server processes, the worker and the embedded PostgreSQL. The venv is this test
    run's own (`-o` keeps make from rebuilding it), so CI and a local run alike use it."""
    venv = BIN.parent
    port = free_port()
    make = _run_command(
        embedded_data_dir,
        port,
        ["make", "-C", str(ROOT), f"VENV={venv}", "-o", f"{venv}/.installed", "run"],
    )
    try:
        said = wait_for_lines(make, {STARTED: 2, WORKER_STARTED: 1}, timeout=240)
        assert any("kill of this make" in line for line in said)  # the Makefile's own words
        assert httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        started = psutil.Process(make.pid).children(recursive=True)
        assert len(started) >= 5  # run; serve and its two server processes; the worker
        postmaster = postmaster_of(embedded_data_dir)

        make.send_signal(signal.SIGTERM)
        output, _ = make.communicate(timeout=60)
    finally:
        if make.poll() is None:
            make.kill()
    assert '"run.stopping"' in output
    assert "Traceback" not in output
    _assert_nothing_left(started, postmaster, embedded_data_dir, port)


def test_run_stops_the_server_when_the_worker_ends(embedded_data_dir: Path) -> None:
    """A worker that dies (here: killed outright) takes the server down with it, and `run`
    exits non-zero, rather than leaving a server whose alerts nobody delivers."""
    port = free_port()
    run = _run_command(embedded_data_dir, port, [str(BIN / "index-service"), "run"])
    try:
        wait_for_lines(run, {STARTED: 2, WORKER_STARTED: 1}, timeout=120)
        started = psutil.Process(run.pid).children(recursive=True)
        postmaster = postmaster_of(embedded_data_dir)
        [worker] = [p for p in psutil.Process(run.pid).children() if "worker" in p.cmdline()]
        worker.kill()
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1
    assert '"run.child_ended"' in output
    _assert_nothing_left(started, postmaster, embedded_data_dir, port)
