"""structlog configuration: JSON lines on stdout, with the request id bound per request.

Only ids are logged, never a child's personal data: request bodies, query strings and
validation inputs are never passed to the logger."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

import structlog


class LibraryRecordFormatter(logging.Formatter):
    """Other libraries' records (uvicorn, psycopg's pool, alembic) as JSON lines like ours,
    with the same rule: an error is logged by its type, SQLSTATE and frames, never by its
    message. uvicorn logs every exception that escapes the app with a traceback whose
    last line quotes the error, and a database error can quote a child's details back;
    a warning's arguments (an error's text, a peer's input) are left out the same way."""

    converter = staticmethod(time.gmtime)  # UTC, as structlog's own lines

    def format(self, record: logging.LogRecord) -> str:
        quoting = record.levelno >= logging.WARNING or record.exc_info is not None
        event = str(record.msg) if quoting else record.getMessage()
        if quoting and record.name == "asyncio":
            event = "asyncio reported an error"  # its messages carry a task's repr, error text
        fields: dict[str, Any] = {
            "event": event,
            "logger": record.name,
            "level": record.levelname.lower(),
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + "Z",
        }
        if record.exc_info and record.exc_info[1] is not None:
            fields |= error_fields(record.exc_info[1])
        return json.dumps(fields, default=str)


class _CurrentStdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when a record is emitted, as structlog's print
    logger does, not to the stream there was when logging was configured: a test runner
    or a CLI runner swaps it, and the old one may be closed by then."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stdout


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, LibraryRecordFormatter)]:
        root.removeHandler(old)  # configured again (a test, a second command): one handler
    handler = _CurrentStdout()
    handler.setFormatter(LibraryRecordFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The HTTP clients log every request with its URL (a receiver's path may carry a
    # token of theirs): only their warnings and errors, which keep the template alone.
    for noisy in ("httpx2", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(),  # sys.stdout, looked up per logger
        cache_logger_on_first_use=False,
    )


def error_fields(exc: BaseException) -> dict[str, Any]:
    """What to log about an unexpected error: its type, the SQLSTATE of a database error,
    and where it happened (file, line, function of each frame). Never the message or
    the locals: a database error's message can quote a child's details back."""
    chain: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 5:
        chain.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    frames = [
        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)[-12:]
    ]
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    return {"error_type": type(exc).__name__, "error_chain": chain, "frames": frames} | (
        {"sqlstate": sqlstate} if sqlstate else {}
    )
