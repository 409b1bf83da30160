"""`index-service serve`: one server process, or several behind one listening socket.

Several processes use uvicorn's own supervisor (`uvicorn.supervisors.Multiprocess`): it
binds the socket once, starts the workers with the socket passed down (spawned, not
forked, so no pool or thread is copied mid-use), pings them, and replaces one that dies
after it started. It is subclassed here for what this service needs of it:

- The supervisor prepares the database once: it starts the embedded PostgreSQL (when
  `DATABASE_URL` is unset) and hands its URL to the workers in `DATABASE_URL`, so they
  take no handle on it and it stops when the supervisor exits; and it refuses a schema
  that is behind (one message, one exit code) before anything is bound or started.
- SIGHUP stops it, as SIGTERM and SIGINT do (uvicorn's means "restart the workers"): a
  closed terminal should not leave a server running.
- Its workers die with it, even if it is killed outright (`lifeline`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import TYPE_CHECKING

import structlog
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from index_service.processes.lifeline import follow_supervisor, lead_children
from index_service.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from uvicorn import Config

log = structlog.get_logger("index_service.serve")
_uvicorn_log = logging.getLogger("uvicorn.error")

_APP = "index_service.main:app_factory"
_SUPERVISED_APP = "index_service.processes.server:supervised_app_factory"
_STOP_SECONDS = 30.0  # a worker still finishing its requests after this is killed


def default_workers(settings: Settings) -> int:
    """SERVE_WORKERS (or WEB_CONCURRENCY), else one process per CPU this process may use."""
    if settings.serve_workers is not None:
        return settings.serve_workers
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def serve(*, host: str, port: int, workers: int, settings: Settings) -> int:
    """Serve until stopped; the exit code. Raises `SchemaBehind` or `UnsafeRole` (the
    documented refusals) before binding anything."""
    import uvicorn

    _exit_cleanly_on_termination()  # while the database is prepared, and for one process
    url = prepare_database(settings, workers=workers)
    if workers == 1:  # exits with uvicorn's STARTUP_FAILURE if the app does not start
        uvicorn.run(
            _APP,
            factory=True,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
        return 0
    config = uvicorn.Config(
        _SUPERVISED_APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return _supervise(url, config)


def _exit_cleanly_on_termination() -> None:
    """SIGTERM (kill, systemd, docker) and SIGHUP (a closed terminal) end `serve` as Ctrl-C
    does, through Python's own exit, so that atexit handlers run: one of them stops the
    embedded PostgreSQL. uvicorn handles SIGTERM itself (a graceful shutdown) and then
    raises it again with the handler it found, this one; SIGHUP becomes that SIGTERM.
    The supervisor replaces both once it runs, with its own."""
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))


def prepare_database(settings: Settings, *, workers: int) -> str:
    """Start the embedded PostgreSQL if it is the one (this process then holds it), refuse
    a schema behind the code, warn if the pools could exceed the server's connections;
    return the owner's URL."""
    from index_service.database import resolve_database_url
    from index_service.main import connect

    url = resolve_database_url(settings)
    settings = settings.model_copy(update={"database_url": url})
    db = connect(settings)  # raises the refusal
    try:
        with db.engine.connect() as conn:
            limit = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
            reserved = int(conn.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one())
    finally:
        db.close()
    wanted = workers * settings.db_pool_size
    if wanted > limit - reserved:
        log.warning(
            "serve.pools_exceed_max_connections",
            workers=workers,
            db_pool_size=settings.db_pool_size,
            connections=wanted,
            max_connections=limit,
            superuser_reserved_connections=reserved,
        )
    return url


def _supervise(database_url: str, config: Config) -> int:
    os.environ["DATABASE_URL"] = database_url  # the workers': no handle on an embedded one
    lead_children()
    sock = _bind(config)
    supervisor = _Supervisor(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    return STARTUP_FAILURE if supervisor.failed_to_start else 0


def _bind(config: Config) -> socket.socket:
    """The listening socket, made as uvicorn's `Config.bind_socket` makes it but with its
    protocol named (IPPROTO_TCP). asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    on connections from a socket whose protocol says TCP; uvicorn's own leaves it 0, so
    each keep-alive answer written in two pieces waited ~40 ms for the client's delayed
    ACK (measured: 43 ms a `/healthz` with two workers against 1 ms with one)."""
    family = socket.AF_INET6 if config.host and ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        _uvicorn_log.error("cannot listen on %s:%s (%s)", config.host, config.port, exc.strerror)
        raise SystemExit(STARTUP_FAILURE) from None
    _uvicorn_log.info("Uvicorn running on http://%s:%d", config.host, sock.getsockname()[1])
    sock.set_inheritable(True)
    return sock


class _Supervisor(Multiprocess):
    def handle_hup(self) -> None:
        _uvicorn_log.info("Received SIGHUP, exiting.")
        self.should_exit.set()

    def join_all(self) -> None:
        """Wait for the workers to finish what they were doing, for a while."""
        deadline = time.monotonic() + _STOP_SECONDS
        for worker in self.processes:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in self.processes:
            if worker.process.is_alive():
                log.warning("serve.worker_killed", pid=worker.pid, after_seconds=_STOP_SECONDS)
                worker.kill()
                worker.process.join()

    @property
    def failed_to_start(self) -> bool:
        return any(worker.exitcode == STARTUP_FAILURE for worker in self.processes)


def supervised_app_factory() -> FastAPI:
    """A worker's app (uvicorn calls this in the worker, on its main thread, while serving
    has not begun): die with the supervisor, take SIGHUP as SIGTERM (a closed terminal
    signals every process of the group), then the app as one process serves it."""
    from index_service.main import app_factory

    follow_supervisor()
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    return app_factory()
