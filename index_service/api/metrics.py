"""Request metrics in a registry of the app's own (so tests and apps never share one)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Engine, event


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "index_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "index_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.oldest_unsealed = Gauge(
            "index_audit_oldest_unsealed_seconds",
            "How long the oldest audit event not yet chained has waited (as of /readyz)",
            registry=self.registry,
        )
        self.sql_statements = Counter(
            "index_db_statements",
            "SQL statements sent through the app's engine (round trips: what a request costs)",
            registry=self.registry,
        )
        self.sql_commits = Counter(
            "index_db_commits",
            "Transactions committed through the app's engine",
            registry=self.registry,
        )
        self.sql_rollbacks = Counter(
            "index_db_rollbacks",
            "Transactions rolled back through the app's engine (a read-only unit of work ends so)",
            registry=self.registry,
        )

    @contextlib.contextmanager
    def counting_sql(self, engine: Engine) -> Iterator[None]:
        """Count the statements and transactions of `engine` while the app runs (bench/load
        divides them by the enquiries it sent). One counter increment per event, and the
        listeners are removed when the app stops, so apps sharing an engine (tests) do not
        pile them up."""

        def statement(*_: Any) -> None:
            self.sql_statements.inc()

        def commit(*_: Any) -> None:
            self.sql_commits.inc()

        def rollback(*_: Any) -> None:
            self.sql_rollbacks.inc()

        listeners = (
            ("before_cursor_execute", statement),
            ("commit", commit),
            ("rollback", rollback),
        )
        for name, listener in listeners:
            event.listen(engine, name, listener)
        try:
            yield
        finally:
            for name, listener in listeners:
                event.remove(engine, name, listener)
