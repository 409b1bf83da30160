"""`index-service run`: the server and the alert worker together, as `make run` starts
them, stopped together.

It is a small supervisor of two children, `serve` (itself a supervisor of its server
processes) and `worker`. It starts the embedded PostgreSQL once (when `DATABASE_URL` is
unset) and hands both children its URL, so the server stops when `run` exits. SIGTERM,
SIGHUP and SIGINT are passed on to both as SIGTERM; when either child ends on its own,
the other is stopped and `run` exits non-zero, so a half-running service is never left
looking like a running one. The children die with `run` if it is killed outright
(`lifeline`).

`make` passes SIGTERM only to its own children (GNU make's `fatal_error_signal`; SIGINT
and SIGHUP it leaves to the terminal, which signals the whole process group): `make run`
ends by `exec`-ing this command, so `kill <pid of make>` reaches it and not a shell that
would die alone and orphan what it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

import structlog

from index_service.processes.lifeline import lead_children
from index_service.settings import Settings

log = structlog.get_logger("index_service.run")
_STOP_SECONDS = 40.0  # longer than `serve` gives its own workers, so it can finish
_CHECK_SECONDS = 1.0  # a safety net: SIGCHLD and the signals wake the loop at once


def run(*, settings: Settings, serve_options: list[str]) -> int:
    """Run `serve` (with `serve_options`) and `worker` until a signal or either ends; the
    exit code (0 when stopped by a signal)."""
    woken = threading.Event()
    received: list[int] = []

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        woken.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_stop)
    signal.signal(signal.SIGCHLD, lambda *_: woken.set())

    if settings.database_url is None:
        from index_service.database import resolve_database_url

        os.environ["DATABASE_URL"] = resolve_database_url(settings)  # held by this process
    env = lead_children()
    command = [sys.executable, "-m", "index_service"]  # this interpreter, this code
    children: dict[str, subprocess.Popen[bytes]] = {}
    if not received:
        children["serve"] = subprocess.Popen([*command, "serve", *serve_options], env=env)  # noqa: S603
        children["worker"] = subprocess.Popen([*command, "worker"], env=env)  # noqa: S603
        log.info("run.started", **{f"{name}_pid": child.pid for name, child in children.items()})

    ended: str | None = None
    while not received and ended is None:
        woken.clear()
        ended = next((name for name, child in children.items() if child.poll() is not None), None)
        if ended is None and not received:
            woken.wait(_CHECK_SECONDS)

    if ended is not None:
        log.error("run.child_ended", child=ended, returncode=children[ended].returncode)
    else:
        log.info("run.stopping", signal=signal.Signals(received[0]).name)
    _stop(children)
    return 0 if ended is None else 1


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each child still running; SIGKILL to one still running after a while."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_SECONDS
    for name, child in children.items():
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("run.child_killed", child=name, after_seconds=_STOP_SECONDS)
            child.kill()
            child.wait()
    log.info("run.stopped", **{name: child.returncode for name, child in children.items()})
