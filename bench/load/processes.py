"""The service as `make run` starts it (`index-service serve`, with `--workers N` where the
command has that option, beside `index-service worker`), and the CPU time of processes
read from /proc: a process with all its descendants (uvicorn's worker processes), and
PostgreSQL's backends serving one database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_has_workers_option() -> bool:
    """Whether `index-service serve` takes `--workers` (several processes)."""
    shown = subprocess.run(
        [str(BIN / "index-service"), "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    return "--workers" in shown.stdout


@dataclass
class Started:
    """A process whose output goes to a file (not through this process: reading a busy
    server's access log here would cost the generator CPU)."""

    process: subprocess.Popen[bytes]
    log: Path

    def said(self, needle: str) -> int:
        return self.log.read_text(errors="replace").count(needle)

    def wait_for(self, needle: str, *, times: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.said(needle) < times:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited: {self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.log.name} never said {needle!r}: {self.tail()}")
            time.sleep(0.1)  # a benchmark's start-up wait, bounded by the deadline

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        """SIGTERM, as `kill` of `make run` would; the code it exits with."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start(command: list[str], *, env: dict[str, str], log: Path) -> Started:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "index-service"), *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the bench reaches it only through stop()
        )
    return Started(process, log)


def serve(*, env: dict[str, str], port: int, workers: int | None, log: Path) -> Started:
    """`index-service serve`; with `workers`, `--workers N`. Returns once every process
    said "Application startup complete" (or one did, and the others kept quiet 30 s)."""
    command = ["serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = start(command, env=env, log=log)
    server.wait_for("Application startup complete")
    try:  # each process says it; a supervisor that logs otherwise is not waited for long
        server.wait_for("Application startup complete", times=workers or 1, timeout=30)
    except RuntimeError:
        if server.process.poll() is not None:
            raise
    return server


def worker(*, env: dict[str, str], log: Path) -> Started:
    started = start(["worker", "--name", "bench-load-worker"], env=env, log=log)
    started.wait_for("worker.started")
    return started


# CPU time from /proc ------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the third (state) on


def _cpu_of(fields: list[str], *, waited_children: bool) -> float:
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if waited_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children that ended
    return ticks / TICK


def tree_cpu(root: int) -> float:
    """CPU seconds of `root` and every live descendant, plus its ended children's."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents[int(entry)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    total = 0.0
    for pid in tree:
        fields = _stat(pid)
        if fields is not None:
            total += _cpu_of(fields, waited_children=pid == root)
    return total


def backend_pids(conn: psycopg.Connection, database: str) -> list[int]:
    """PostgreSQL's backends connected to `database` (not the one asking)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )
    return [int(pid) for (pid,) in rows]


def backends_cpu(pids: list[int]) -> dict[int, float] | None:
    """CPU seconds of each backend, or None when they are not visible here (a remote
    server, or another machine's container)."""
    seen: dict[int, float] = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            seen[pid] = _cpu_of(fields, waited_children=False)
    if pids and not seen:
        return None
    return seen
