"""Per-user rate limits on searches and reads, counted in PostgreSQL so that every
instance of the service shares one count.

Fixed windows: each (user, bucket, window) is one row of an UNLOGGED table, bumped with
one upsert, the first statement of the request's unit of work (which also reads the
directory's number: `access/directory.py`). A request refused after it was counted is
counted again beside its refusal's audit row (the work's count rolled back with the
work), so refused guesses spend the allowance as answered ones do. A caller over the
limit gets 429 with `Retry-After` (the seconds to the window's end). A fixed window lets
a burst of up to twice the limit straddle a boundary; that is accepted for the
simplicity of one row.
Windows older than two hours are swept now and then by the same statement's transaction
(the many-children anomaly counts openings per clock hour here and reads the hour before).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, bindparam, delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col

from index_service.access.directory import VERSION
from index_service.access.policy import RateBucket
from index_service.errors import TooManyRequests

SWEEP_PROBABILITY = 0.01
_PLURAL = {RateBucket.SEARCH: "searches", RateBucket.READ: "reads of child records"}


class RateWindow(SQLModel, table=True):
    __tablename__ = "rate_window"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    principal: str = Field(sa_column=Column(String(620), primary_key=True))
    bucket: str = Field(sa_column=Column(String(16), primary_key=True))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    hits: int = Field(sa_column=Column(Integer, nullable=False))


# Built once, with bound parameters: every request runs it (see `blocking.Shape`).
_COUNT = (
    insert(RateWindow)
    .values(
        principal=bindparam("principal"),
        bucket=bindparam("bucket"),
        window_start=bindparam("window_start"),
        hits=1,
    )
    .on_conflict_do_update(
        index_elements=["principal", "bucket", "window_start"],
        set_={"hits": col(RateWindow.hits) + 1},
    )
    .returning(col(RateWindow.hits), VERSION)
)


def consume(
    *,
    session: Session,
    principal: str,
    bucket: RateBucket,
    limit: int,
    window_seconds: int,
    now: datetime,
    enforce: bool = True,
) -> int:
    """Count one request; refuse it with 429 if the window's count is over `limit`.
    Returns the directory's number, read in the same round trip. `enforce=False` only
    counts (a refusal's recount: the request is refused already)."""
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    window_start = datetime.fromtimestamp(start, tz=now.tzinfo)
    hits, version = session.execute(
        _COUNT,
        {"principal": principal, "bucket": bucket.value, "window_start": window_start},
    ).one()
    if random.random() < SWEEP_PROBABILITY:  # noqa: S311 (housekeeping, not security)
        session.execute(
            delete(RateWindow).where(col(RateWindow.window_start) < now - timedelta(hours=2))
        )
    if enforce and hits > limit:
        retry_after = max(1, start + window_seconds - epoch)
        raise TooManyRequests(
            f"at most {limit} {_PLURAL[bucket]} per {window_seconds} seconds; "
            f"try again in {retry_after} seconds",
            retry_after=retry_after,
        )
    return int(version)
