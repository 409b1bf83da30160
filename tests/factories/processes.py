"""Real processes in tests: free ports, reading a process's output until it says something
(bounded, never sleeping), and finding what a test started, or what it left behind."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
STARTED = "Application startup complete"  # each server process says it once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This test run's environment with the embedded PostgreSQL of `data_dir`, not the
    session's database."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | {"DATA_DIR": str(data_dir), **settings}


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    """Read the process's output until `needle` appears (no sleeping, bounded in time)."""
    return wait_for_lines(process, {needle: 1}, timeout)


def wait_for_lines(
    process: subprocess.Popen[str], wanted: dict[str, int], timeout: float
) -> list[str]:
    """Read the process's output until each needle has appeared as often as `wanted` says
    (each line counts for the first needle it holds); the lines read.

    The pipe is read a byte at a time from its descriptor, never through the stream's
    buffer: `readline()` would read a whole chunk, and lines that came in the same chunk
    would wait in the buffer while `select()` waits on an empty pipe (a server that said
    everything at once and then nothing would never be heard). Nothing past the last line
    read is consumed, so `communicate()` afterwards still gets the rest."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    seen: list[str] = []
    found: Counter[str] = Counter()
    line = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            byte = os.read(descriptor, 1)
            if not byte:
                break  # the process closed its output: it has ended
            line += byte
            if byte != b"\n":
                continue
            text = line.decode(errors="replace")
            line.clear()
            seen.append(text)
            needle = next((n for n in wanted if n in text), None)
            if needle is not None:
                found[needle] += 1
                if all(found[n] >= count for n, count in wanted.items()):
                    return seen
    raise AssertionError(f"never said {wanted} (said {dict(found)}): {''.join(seen)[-3000:]}")


def postgres_of(data_dir: Path) -> list[int]:
    """Pids of the PostgreSQL processes serving `data_dir`'s embedded server."""
    pgdata = str((data_dir / "postgres").resolve())
    return [
        p.pid
        for p in psutil.process_iter(attrs=["name", "cmdline"])
        if p.info["name"] == "postgres" and pgdata in " ".join(p.info["cmdline"] or ())
    ]


def postmaster_of(data_dir: Path) -> psutil.Process:
    """The embedded server's postmaster, as its `postmaster.pid` names it."""
    pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


def gone_within(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has ended or `timeout` passes; those still running."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def processes_with_env(name: str, value: str) -> list[psutil.Process]:
    """This user's processes whose environment has `name=value` (what a test started,
    wherever it was reparented to)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(name) == value:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def listening_on(port: int) -> bool:
    return any(
        c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        for c in psutil.net_connections(kind="tcp")
    )
