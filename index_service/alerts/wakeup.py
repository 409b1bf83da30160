"""What wakes a worker: PostgreSQL's NOTIFY on `alert_delivery`, sent (at commit) by a
trigger when deliveries are queued (migration 0012). The worker LISTENs on a connection
of its own, outside the pool, and polls every `worker_poll_seconds` only as a fallback:
an alert raised by a request reaches its email and webhooks within a second, not after a
poll interval.

A lost connection (the database restarted) is dropped and made again on the next wait;
until then the worker polls, so nothing is missed, only later."""

from __future__ import annotations

import threading
import time

import psycopg
import structlog

from index_service.logging import error_fields

CHANNEL = "alert_delivery"
_SLICE = 1.0  # seconds: how often a wait looks at its stop event
log = structlog.get_logger("index_service.alerts.wakeup")


class Wakeup:
    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection | None = None
        self.listening = threading.Event()  # set once LISTEN has been issued

    def _listen(self) -> psycopg.Connection:
        if self._conn is None:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            conn.execute(f"LISTEN {CHANNEL}")
            self._conn = conn
            self.listening.set()
        return self._conn

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Until a delivery is queued (True), `seconds` pass, or `stop` is set."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                for _ in self._listen().notifies(timeout=min(left, _SLICE), stop_after=1):
                    return True
            except psycopg.Error as exc:
                log.warning("worker.listen_lost", **error_fields(exc))
                self.close()
                stop.wait(min(left, _SLICE))
        return False

    def close(self) -> None:
        self.listening.clear()
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
