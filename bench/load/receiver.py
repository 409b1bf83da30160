"""A real webhook receiver in the bench process: it verifies each delivery's Standard
Webhooks signature (the secret the service returned at registration) and notes when each
alert's event arrived, by the alert id the payload carries (the payload carries no child
data: ids and codes only)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.arrivals: dict[str, float] = {}  # alert id -> perf_counter at arrival
        self.deliveries = 0
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                arrived = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.took(body, dict(self.headers.items()), arrived)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/index-service"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def took(self, body: bytes, headers: dict[str, str], arrived: float) -> None:
        verified = False
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except Exception:  # any failure to verify is a bad signature
                verified = False
        alert_id = json.loads(body)["data"]["alert_id"]
        with self._changed:
            self.deliveries += 1
            if not verified:
                self.bad_signatures += 1
            self.arrivals.setdefault(alert_id, arrived)
            self._changed.notify_all()

    def wait_for(self, alert_ids: set[str], timeout: float) -> set[str]:
        """Wait until every one of `alert_ids` has arrived, or `timeout`; the missing."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while missing := alert_ids - self.arrivals.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    return missing
                self._changed.wait(left)
        return set()
