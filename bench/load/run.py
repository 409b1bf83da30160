"""Load benchmark: the service as `make run` starts it, at 1,000,000 children, under a
closed-loop enquiry mix from many practitioners at several concurrencies.

    .venv/bin/python -m bench.load.run                                 # 1M children
    .venv/bin/python -m bench.load.run --children 20000 --duration 5   # a quick smoke run
    .venv/bin/python -m bench.load.run --database-url postgresql://postgres@127.0.0.1:5432/test

The population is loaded once into a database of its own (`index_bench_load_<children>`, on the
server of --database-url, else on the embedded PostgreSQL under .data/) and reused while
its size and seed are the same (--reload loads it again). For each concurrency it prints
enquiries/s, latency percentiles, errors, the CPU of the server, the worker, PostgreSQL's
backends and the generator itself, and `/healthz` throughput at the same concurrency (the
floor); then statements and transactions per enquiry, and enquiry -> webhook latency.
Not part of `make test`.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx2
import psycopg
import typer

from bench.load import processes, setup, traffic
from bench.load.generator import Connection, Level, closed_loop
from bench.load.measure import CpuWindow, level_figures, load_average, percentiles_ms
from bench.load.receiver import Receiver
from bench.load.report import render

HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_facts() -> dict[str, Any]:
    """Read before anything runs: the commit is the code this process imported."""
    repo = Path(__file__).resolve().parents[2]
    git = shutil.which("git") or "git"
    commit = subprocess.run(
        [git, "-C", str(repo), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    dirty = subprocess.run(
        [git, "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    import index_service

    return {
        "command": shlex.join([Path(sys.executable).name, "-m", "bench.load.run", *sys.argv[1:]]),
        "commit": commit + (" (uncommitted changes)" if dirty else ""),
        "cores": os.cpu_count(),
        "load_average_at_start": load_average(),
        "python": platform.python_version(),
        "index_service": str(Path(index_service.__file__).parent),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _counter(text: str, name: str) -> float:
    found = re.search(rf"^{name}_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


async def _sql_counters(port: int) -> dict[str, float]:
    connection = Connection(HOST, port)
    try:
        answer = await connection.request(traffic.metrics(f"{HOST}:{port}"))
    finally:
        connection.close()
    text = answer.body.decode()
    return {
        kind: _counter(text, f"index_db_{kind}") for kind in ("statements", "commits", "rollbacks")
    }


async def sequential(port: int, requests: list[bytes]) -> dict[str, Any]:
    """One enquiry at a time on one connection, between two readings of /metrics: the
    statements and transactions of the app's engine per enquiry (one process, so one
    registry counts them all)."""
    before = await _sql_counters(port)
    connection = Connection(HOST, port)
    latencies, statuses = [], collections.Counter[int]()
    try:
        for request in requests:
            began = time.perf_counter()
            answer = await connection.request(request)
            statuses[answer.status] += 1
            if answer.status == 201:
                latencies.append(time.perf_counter() - began)
    finally:
        connection.close()
    after = await _sql_counters(port)
    n = len(requests)
    return {
        "enquiries": n,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "latency_ms": percentiles_ms(latencies),
        **{f"{kind}_per_enquiry": (after[kind] - before[kind]) / n for kind in before},
    }


def register_webhook(base: str, admin_token: str, receiver: Receiver) -> None:
    """Withdraw the endpoints earlier runs registered (their receivers are gone), then
    register this run's receiver for the key workers' organisation, through the API."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx2.Client(base_url=base, headers=headers, timeout=30) as client:
        listed = client.get("/v1/webhook-endpoints", params={"limit": 200})
        listed.raise_for_status()
        for endpoint in listed.json()["items"]:
            if endpoint["active"]:
                client.delete(f"/v1/webhook-endpoints/{endpoint['id']}").raise_for_status()
        made = client.post(
            "/v1/webhook-endpoints",
            json={"organisation_code": setup.KEY_WORKERS_ORG, "url": receiver.url},
        )
        made.raise_for_status()
        receiver.secret = made.json()["secret"]


async def alert_phase(
    port: int,
    *,
    background: traffic.Enquiries,
    alert_requests: list[bytes],
    seconds: float,
    concurrency: int,
    cpu: CpuWindow,
) -> tuple[Level, dict[str, float], collections.Counter[str]]:
    """The alert enquiries one by one, evenly spread over `seconds`, while the mix runs at
    `concurrency`; when each answer arrived, by enquiry id."""
    responded: dict[str, float] = {}
    outcomes: collections.Counter[str] = collections.Counter()

    async def sender() -> None:
        connection = Connection(HOST, port)
        start, interval = time.perf_counter(), seconds / len(alert_requests)
        try:
            for n, request in enumerate(alert_requests):
                await asyncio.sleep(max(0.0, start + (n + 0.5) * interval - time.perf_counter()))
                answer = await connection.request(request)
                done = time.perf_counter()
                if answer.status != 201:
                    outcomes[f"status {answer.status}"] += 1
                    continue
                body = json.loads(answer.body)
                responded[body["id"]] = done
                outcomes[body["outcome"]] += 1
        finally:
            connection.close()

    level, _ = await asyncio.gather(
        closed_loop(
            HOST, port, next_request=background, concurrency=concurrency,
            warmup=0.0, duration=seconds + 1, on_window=cpu,
        ),
        sender(),
    )  # fmt: skip
    return level, responded, outcomes


def alert_ids_of(url: str, enquiry_ids: list[str]) -> dict[str, str]:
    """Alert id -> enquiry id, for the alerts these enquiries raised."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id::text, enquiry_id::text FROM alert WHERE enquiry_id = ANY(%s::uuid[])",
            (enquiry_ids,),
        ).fetchall()
    return dict(rows)


def main(
    children: Annotated[int, typer.Option(help="Children in the population.")] = 1_000_000,
    database_url: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL server (its maintenance URL). Default: embedded."),
    ] = None,
    concurrency: Annotated[str, typer.Option(help="Concurrencies, comma-separated.")] = (
        "1,4,16,64,256"
    ),
    duration: Annotated[float, typer.Option(help="Measured seconds per level.")] = 20.0,
    warmup: Annotated[float, typer.Option(help="Unmeasured seconds before each.")] = 3.0,
    workers: Annotated[
        int | None,
        typer.Option(help="serve --workers N, where serve has it. Default: the CPU count."),
    ] = None,
    users: Annotated[int, typer.Option(help="Distinct practitioners (tokens).")] = 2000,
    mix: Annotated[int, typer.Option(help="Distinct enquiries in the mix.")] = 20_000,
    absent_share: Annotated[float, typer.Option(help="Share about unknown children.")] = 0.1,
    alerting_share: Annotated[
        float, typer.Option(help="Share of the mix's known children with a key worker (R1).")
    ] = 0.05,
    alerts: Annotated[int, typer.Option(help="Alert enquiries timed to the webhook.")] = 120,
    alert_seconds: Annotated[float, typer.Option(help="Over how long they are spread.")] = 30.0,
    alert_concurrency: Annotated[int, typer.Option(help="The mix's concurrency meanwhile.")] = 4,
    sequential_enquiries: Annotated[
        int, typer.Option(help="Enquiries in the statements-per-enquiry phase.")
    ] = 300,
    rate_limit_searches: Annotated[
        int, typer.Option(help="RATE_LIMIT_SEARCHES of the served process, per user a minute.")
    ] = 1000,
    server_env: Annotated[
        list[str] | None, typer.Option(help="More KEY=VALUE for the service (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option()] = 42,
    reload: Annotated[bool, typer.Option(help="Load the population again.")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write figures here.")] = None,
) -> None:
    levels = [int(c) for c in concurrency.split(",") if c.strip()]
    facts = machine_facts()
    log(f"{facts['command']} (commit {facts['commit']}; {facts['cores']} cores, load average "
        f"{facts['load_average_at_start']})")  # fmt: skip
    log(f"population: {children:,} children ({'reload' if reload else 'reuse if loaded'})")
    url, load_seconds = setup.population_database(
        database_url, children=children, seed=seed, reload=reload
    )
    database = setup.database_name(children)
    with psycopg.connect(url) as conn:
        facts["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    log(f"population ready ({'reused' if load_seconds is None else f'{load_seconds:.0f} s'})")
    setup.add_organisations(url)
    reserve = 2 * alerts + 10
    made = setup.enquiry_mix(
        url, children=children, seed=seed,
        size=min(mix, int((children - reserve) / (1 - absent_share))),
        absent_share=absent_share, alerting_share=alerting_share, alerts=alerts,
    )  # fmt: skip
    setup.add_key_workers(url, made.alerting_children)
    log(f"mix: {len(made.enquiries):,} enquiries, {len(made.alert_enquiries)} alert enquiries")

    has_workers = processes.serve_has_workers_option()
    process_count = (workers or os.cpu_count() or 1) if has_workers else None
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    tag = uuid.uuid4().hex[:8]
    people = traffic.practitioners(data_dir, count=users, tag=tag)
    admin = traffic.administrator(data_dir)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "development",  # the development issuer signs the bench's tokens
        "RATE_LIMIT_SEARCHES": str(rate_limit_searches),
        "RATE_LIMIT_READS": str(rate_limit_searches),
        "PYTHONUNBUFFERED": "1",
        **dict(item.split("=", 1) for item in server_env or []),
    }
    figures: dict[str, Any] = {
        "facts": facts,
        "setup": {
            "children": children,
            "load_seconds": load_seconds,
            "mix_enquiries": len(made.enquiries),
            "mix_known": made.known,
            "mix_unknown": made.unknown,
            "mix_about_children_with_key_worker": made.alerting_in_mix,
            "users": users,
            "organisations": [code for code, _, _ in setup.ENQUIRER_ORGS],
            "rate_limit_searches_per_user_minute": rate_limit_searches,
            "serve_workers": process_count if has_workers else "no --workers option: 1 process",
            "server_env": server_env or [],
            "duration_s": duration,
            "warmup_s": warmup,
        },
        "levels": [],
    }
    monitor = psycopg.connect(url, autocommit=True)
    worker = server = None
    try:
        with Receiver() as receiver:
            worker = processes.worker(env=env, log=data_dir / "worker.log")
            # One process first: /metrics then counts every statement the enquiries cost.
            port = processes.free_port()
            server = processes.serve(
                env={**env, "PORT": str(port)}, port=port,
                workers=1 if has_workers else None, log=data_dir / "serve-1.log",
            )  # fmt: skip
            register_webhook(f"http://{HOST}:{port}", admin, receiver)
            host = f"{HOST}:{port}"
            mixed = traffic.Enquiries(people, made.enquiries, host)
            log(f"sequential: {sequential_enquiries} enquiries on one process")
            figures["sequential"] = asyncio.run(
                sequential(port, [mixed() for _ in range(sequential_enquiries)])
            )
            if has_workers and process_count != 1:
                server.stop()
                port = processes.free_port()
                server = processes.serve(
                    env={**env, "PORT": str(port)}, port=port, workers=process_count,
                    log=data_dir / "serve.log",
                )  # fmt: skip
                host = f"{HOST}:{port}"
                mixed = traffic.Enquiries(people, made.enquiries, host)
                mixed.sent = sequential_enquiries  # go on with the pairs not yet sent
            for c in levels:
                row: dict[str, Any] = {"concurrency": c, "load_average_start": load_average()}
                for name, requests in (("enquiries", mixed), ("healthz", None)):
                    log(f"concurrency {c}: {name}")
                    request = requests or (lambda fixed=traffic.healthz(host): fixed)
                    cpu = CpuWindow(server.process.pid, worker.process.pid, monitor, database)
                    level = asyncio.run(
                        closed_loop(
                            HOST, port, next_request=request, concurrency=c,
                            warmup=warmup, duration=duration, on_window=cpu,
                        )
                    )  # fmt: skip
                    row[name] = level_figures(level, cpu, 201 if name == "enquiries" else 200)
                row["load_average_end"] = load_average()
                healthz = row["healthz"]["per_second"]
                row["enquiries_over_healthz"] = (
                    row["enquiries"]["per_second"] / healthz if healthz else None
                )
                figures["levels"].append(row)
            log(f"alerts: {len(made.alert_enquiries)} over {alert_seconds:.0f} s")
            alert_users = people[-len(made.alert_enquiries) :]
            alert_requests = [
                traffic.enquiry_head(user, host) + traffic.enquiry_body(enquiry)
                for user, enquiry in zip(alert_users, made.alert_enquiries, strict=False)
            ]
            cpu = CpuWindow(server.process.pid, worker.process.pid, monitor, database)
            started_load = load_average()
            background, responded, outcomes = asyncio.run(
                alert_phase(
                    port, background=mixed, alert_requests=alert_requests,
                    seconds=alert_seconds, concurrency=alert_concurrency, cpu=cpu,
                )
            )  # fmt: skip
            raised = alert_ids_of(url, list(responded))
            missing = receiver.wait_for(set(raised), timeout=30)
            delays = [
                receiver.arrivals[alert] - responded[enquiry]
                for alert, enquiry in raised.items()
                if alert in receiver.arrivals
            ]
            figures["alerts"] = {
                "alert_enquiries": len(alert_requests),
                "answers": dict(outcomes),
                "alerts_raised": len(raised),
                "webhooks_arrived": len(raised) - len(missing),
                "missing_after_30_s": len(missing),
                "enquiry_response_to_webhook_ms": {
                    **percentiles_ms(delays),
                    "max": max(delays) * 1000 if delays else None,
                },
                "background": {
                    "concurrency": alert_concurrency,
                    **level_figures(background, cpu, 201),
                },
                "load_average": [started_load, load_average()],
                "webhook_deliveries_whole_run": receiver.deliveries,
                "bad_signatures": receiver.bad_signatures,
            }
    finally:
        for started in (server, worker):
            if started is not None:
                started.stop()
        monitor.close()
    figures["facts"]["load_average_at_end"] = load_average()
    figures["logs"] = str(data_dir)
    typer.echo(render(figures))
    if json_file is not None:
        json_file.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    typer.run(main)
