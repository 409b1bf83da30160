"""What each phase measures besides the generator's own figures: the CPU of the served
processes, the worker and PostgreSQL's backends over the measured window, and the load
average at the start and end of a level."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.load import processes
from bench.load.generator import Level


@dataclass
class Sample:
    at: float
    server: float
    worker: float
    postgres: dict[int, float] | None


@dataclass
class CpuWindow:
    """Called by the generator at the edges of its measured window."""

    server_pid: int
    worker_pid: int
    monitor: psycopg.Connection
    database: str
    samples: dict[str, Sample] = field(default_factory=dict)

    def __call__(self, edge: str) -> None:
        pids = processes.backend_pids(self.monitor, self.database)
        self.samples[edge] = Sample(
            at=time.perf_counter(),
            server=processes.tree_cpu(self.server_pid),
            worker=processes.tree_cpu(self.worker_pid),
            postgres=processes.backends_cpu(pids),
        )

    def seconds(self) -> dict[str, float | None]:
        start, end = self.samples["start"], self.samples["end"]
        postgres = None
        if start.postgres is not None and end.postgres is not None:
            postgres = sum(cpu - start.postgres.get(pid, 0.0) for pid, cpu in end.postgres.items())
        return {
            "window": end.at - start.at,
            "server": end.server - start.server,
            "worker": end.worker - start.worker,
            "postgres": postgres,
        }


def percentiles_ms(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        only = values[0] * 1000 if values else None
        return {"p50": only, "p95": only, "p99": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


def errors_of(level: Level, expected: int) -> dict[str, int]:
    """Every answer other than `expected`, by status, and every transport error."""
    found = {str(status): n for status, n in sorted(level.statuses.items()) if status != expected}
    found.update(level.transport_errors)
    return found


def level_figures(level: Level, cpu: CpuWindow, expected: int) -> dict[str, Any]:
    seconds = cpu.seconds()
    window = seconds["window"] or level.seconds
    answered = sum(level.statuses.values())
    return {
        "per_second": level.ok_per_second,
        "answered": answered,
        "latency_ms": percentiles_ms(level.latencies),
        "errors": errors_of(level, expected),
        "server_cpu_percent": 100 * (seconds["server"] or 0) / window,
        "worker_cpu_percent": 100 * (seconds["worker"] or 0) / window,
        "postgres_cpu_percent": (
            None if seconds["postgres"] is None else 100 * seconds["postgres"] / window
        ),
        "generator_cpu_percent": 100 * level.generator_cpu_seconds / window,
        # Per request answered as asked (201/200): the CPU refusals cost is included, so
        # under overload this is what each useful answer cost.
        "app_cpu_ms_per_ok": 1000 * (seconds["server"] or 0) / level.ok if level.ok else None,
        "postgres_cpu_ms_per_ok": (
            None
            if seconds["postgres"] is None or not level.ok
            else 1000 * seconds["postgres"] / level.ok
        ),
        "refusals_without_retry_after": level.without_retry_after,
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
