"""structlog configuration: JSON lines on stdout, with the request id bound per request.

Only ids are logged, never a child's personal data: request bodies, query strings and
validation inputs are never passed to the logger."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import structlog


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
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
