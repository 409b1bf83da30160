"""Per-user rate limits on searches and reads, counted in PostgreSQL so that every
instance of the service shares one count.

Fixed windows: each (user, bucket, window) is one row of an UNLOGGED table. The
request's unit of work first looks at the count without a lock (`look`, which also reads
the directory's number: `access/directory.py`), refusing a caller whose window is full
before any work; the count itself is made at the end of the work, beside the audit row,
in the one statement that adds all the request's counts (`tally`), so that one user's
concurrent requests do not queue on the row's lock while they work. A refused request
is counted beside its refusal's audit row (the work's count, if any, rolled back with
the work), so refused guesses spend the allowance as answered ones do. A caller over the
limit gets 429 with `Retry-After` (the seconds to the window's end). A fixed window lets
a burst of up to twice the limit straddle a boundary; that is accepted for the
simplicity of one row.
Windows older than two hours are swept now and then by the same statement's transaction
(the many-children anomaly counts openings per clock hour here and reads the hour before).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, bindparam, delete, select, text
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


# Built once, with bound parameters: every request runs it (see `blocking.Shape`). Every
# count a request makes (its search or read, the openings for the anomaly) in one round
# trip: one row per count, added to; each total is returned with, where asked, the
# count of an earlier window of the same row (the openings' hour before). The earlier
# rows are read from the statement's snapshot: no count adds to them.
_TALLY = text(
    """
    WITH asked AS (
        SELECT * FROM unnest(
            CAST(:principals AS varchar[]), CAST(:buckets AS varchar[]),
            CAST(:starts AS timestamptz[]), CAST(:adds AS integer[]),
            CAST(:earlier AS timestamptz[])
        ) AS asked (principal, bucket, window_start, hits, earlier)
    ), counted AS (
        INSERT INTO rate_window (principal, bucket, window_start, hits)
        SELECT principal, bucket, window_start, hits FROM asked
        ON CONFLICT (principal, bucket, window_start)
        DO UPDATE SET hits = rate_window.hits + excluded.hits
        RETURNING principal, bucket, hits
    )
    SELECT counted.bucket, counted.hits + coalesce(before.hits, 0)
    FROM counted
    JOIN asked ON asked.principal = counted.principal AND asked.bucket = counted.bucket
    LEFT JOIN rate_window AS before
        ON before.principal = counted.principal AND before.bucket = counted.bucket
        AND before.window_start = asked.earlier
    """
)
_LOOK = select(
    VERSION,
    select(col(RateWindow.hits))
    .where(
        col(RateWindow.principal) == bindparam("principal"),
        col(RateWindow.bucket) == bindparam("bucket"),
        col(RateWindow.window_start) == bindparam("window_start"),
    )
    .scalar_subquery(),
)


@dataclass(frozen=True)
class Tally:
    """An addition to one row of the table, made at the end of the work (`tally`). Its
    total includes the row of window `earlier` of the same bucket, if given."""

    principal: str
    bucket: str
    window_start: datetime
    add: int = 1
    earlier: datetime | None = None


@dataclass(frozen=True)
class Window:
    """One caller's count in one bucket's current window."""

    principal: str
    bucket: RateBucket
    limit: int
    seconds: int
    now: datetime

    @property
    def start(self) -> int:
        epoch = int(self.now.timestamp())
        return epoch - epoch % self.seconds

    def parameters(self) -> dict[str, object]:
        return {
            "principal": self.principal,
            "bucket": self.bucket.value,
            "window_start": datetime.fromtimestamp(self.start, tz=self.now.tzinfo),
        }

    def tally(self) -> Tally:
        """This request, as one count to add at the end of the work."""
        return Tally(
            principal=self.principal,
            bucket=self.bucket.value,
            window_start=datetime.fromtimestamp(self.start, tz=self.now.tzinfo),
        )

    def refuse_over(self, hits: int) -> None:
        if hits > self.limit:
            retry_after = max(1, self.start + self.seconds - int(self.now.timestamp()))
            raise TooManyRequests(
                f"at most {self.limit} {_PLURAL[self.bucket]} per {self.seconds} seconds; "
                f"try again in {retry_after} seconds",
                retry_after=retry_after,
            )


def look(*, session: Session, window: Window) -> int:
    """Before the work, without a lock: refuse at once (429) a caller whose window is
    already full, and return the directory's number, read in the same round trip."""
    version, hits = session.execute(_LOOK, window.parameters()).one()
    window.refuse_over((hits or 0) + 1)
    return int(version)


def tally(*, session: Session, tallies: Sequence[Tally], now: datetime) -> list[int]:
    """Add every count of the request in one round trip (at the end of the work, so that
    their rows are locked only while the work commits, not while it runs); return each
    total, in the order given. One tally per row: a request's counts are in distinct
    buckets."""
    if len({(t.principal, t.bucket) for t in tallies}) != len(tallies):
        raise ValueError("one tally per row and request")
    rows = session.execute(
        _TALLY,
        {
            "principals": [t.principal for t in tallies],
            "buckets": [t.bucket for t in tallies],
            "starts": [t.window_start for t in tallies],
            "adds": [t.add for t in tallies],
            "earlier": [t.earlier for t in tallies],
        },
    ).all()
    if random.random() < SWEEP_PROBABILITY:  # noqa: S311 (housekeeping, not security)
        session.execute(
            delete(RateWindow).where(col(RateWindow.window_start) < now - timedelta(hours=2))
        )
    totals = {str(bucket): int(total) for bucket, total in rows}
    return [totals[t.bucket] for t in tallies]


def consume(*, session: Session, window: Window, enforce: bool = True) -> int:
    """Count one request on its own (a page's gate, a refusal's recount); refuse it with
    429 if the count is over the limit. `enforce=False` only counts. Returns the count."""
    hits = tally(session=session, tallies=[window.tally()], now=window.now)[0]
    if enforce:
        window.refuse_over(hits)
    return hits
