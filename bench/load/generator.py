"""A closed-loop load generator over raw keep-alive HTTP/1.1 connections (asyncio streams).

Closed loop: each of `concurrency` connections sends a request, waits for the whole answer,
and sends the next at once, so the offered load is what the server can take at that
concurrency. Requests are made of bytes built in advance (a user's header block and an
enquiry's body), so the generator does little more than write and read sockets; its own
CPU time is measured and printed beside the server's, to show it is not the bottleneck.

Only answers that start and end inside the measured window count; a warm-up comes first.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REQUEST_TIMEOUT = 60.0  # seconds a request may take before it counts as a transport error
LATE_GRACE = 10.0  # seconds the generator waits, after the window, for answers in flight


class ConnectionClosed(Exception):
    """The server closed the connection before (or while) answering."""


TRANSPORT_ERRORS = (
    OSError,
    ConnectionClosed,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    TimeoutError,
    ValueError,  # an answer that is not HTTP
)


@dataclass
class Answer:
    status: int
    body: bytes
    keep_alive: bool
    retry_after: bool = False


class Connection:
    """One keep-alive HTTP/1.1 connection; `request` sends prepared bytes and reads the
    answer (Content-Length or chunked)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, data: bytes) -> Answer:
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(data)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            raise ConnectionClosed from None
        status = int(head[9:12])
        lower = head.lower()
        keep_alive = b"\r\nconnection: close" not in lower
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            body = await self.reader.readexactly(int(lower[at + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            body = await self._chunked()
        else:
            body, keep_alive = await self.reader.read(), False
        if not keep_alive:
            self.close()
        return Answer(status, body, keep_alive, status >= 400 and b"\r\nretry-after:" in lower)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


@dataclass
class Level:
    """What one run of the generator measured."""

    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, 2xx answers
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    transport_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    generator_cpu_seconds: float = 0.0
    without_retry_after: int = 0  # 429 and 503 answers that do not say when to come back

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def closed_loop(
    host: str,
    port: int,
    *,
    next_request: Callable[[], bytes],
    concurrency: int,
    warmup: float,
    duration: float,
    on_window: Callable[[str], None] | None = None,
) -> Level:
    """Drive `concurrency` connections for `warmup` + `duration` seconds. `on_window` is
    called with "start" and "end" at the edges of the measured window (to sample CPU)."""
    level = Level(concurrency)
    loop_started = time.perf_counter()
    window_start = loop_started + warmup
    window_end = window_start + duration

    async def client() -> None:
        connection = Connection(host, port)
        try:
            while (began := time.perf_counter()) < window_end:
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        answer = await connection.request(next_request())
                except TRANSPORT_ERRORS as e:
                    connection.close()
                    if began >= window_start and time.perf_counter() <= window_end:
                        level.transport_errors[type(e).__name__] += 1
                    continue
                done = time.perf_counter()
                if began >= window_start and done <= window_end:
                    level.statuses[answer.status] += 1
                    if 200 <= answer.status < 300:
                        level.latencies.append(done - began)
                    elif answer.status in (429, 503) and not answer.retry_after:
                        level.without_retry_after += 1
        finally:
            connection.close()

    async def edges() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu = time.process_time()
        if on_window:
            on_window("start")
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        level.generator_cpu_seconds = time.process_time() - cpu
        if on_window:
            on_window("end")

    clients = [asyncio.create_task(client()) for _ in range(concurrency)]
    await edges()
    # Answers still on their way at the end do not count; wait a little for them, no more.
    _, late = await asyncio.wait(clients, timeout=LATE_GRACE)
    for task in late:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    level.seconds = duration
    return level
