"""The sealer: appends committed audit events to the hash chain, one sealer at a time,
off the request path, in the order their transactions began writing, among transactions
that have all ended (true commit order would need commit timestamps, which PostgreSQL
keeps only with `track_commit_timestamp` and a restart; this order gives the same
guarantee that nothing can later appear before a sealed event).

Requests only INSERT their event; nothing they do waits on the chain. The sealer (run by
the worker every tick, or `index-service audit seal`) takes a transaction-scoped advisory
lock that only sealers take, so there is one at a time, and in a single statement reads

    the horizon:  pg_snapshot_xmin(pg_current_snapshot()), the oldest transaction still
                  running anywhere on the server, and
    the events:   those written by transactions below the horizon, after the last sealed
                  event, in (xid, seq) order.

Why a sealed prefix is final: every transaction id below the horizon has finished. If it
committed, its events are visible to that same statement's snapshot; if it rolled back,
they never will be. So no event can later appear before one already sealed, and a
number missing from `seq` below the horizon is final: it was taken by a transaction that
rolled back (or skipped by a crash: PostgreSQL logs sequences 32 values ahead). The chain
is thus in the order transactions wrote their events, among transactions that have all
ended; a long-running transaction holds sealing back but never breaks it.

After sealing, the head is signed into a checkpoint outside the database (at most every
`audit_checkpoint_seconds`, and only if it moved).

Before building on the head, the sealer checks it: the newest seal's hash must still be
the link of the seal before it and its event. If not (the seal or its event was edited),
it neither seals nor signs: sealing on would bury the damage under new links and a
checkpoint would vouch for it. It raises `BrokenHead`, logs
`audit_sealer_head_broken`, and `audit seal` exits 1; `audit verify` names the seal.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import structlog
from sqlalchemy import text
from sqlmodel import Session

from index_service.audit import checkpoints
from index_service.audit.chain import EVENT_COLUMNS, GENESIS, link
from index_service.audit.verify import verify
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings

log = structlog.get_logger("index_service.audit.sealer")

SEALER_LOCK = 0x5EA1_0A0D17  # taken only by sealers, never by a request

_HEAD = text(
    "SELECT position, hash, event_id, xid::text AS xid, seq FROM audit_seal "
    "ORDER BY position DESC LIMIT 1"
)
_HEAD_LINK = text(
    f"""
    SELECT s.position, s.hash AS sealed_hash, p.hash AS previous_hash, {EVENT_COLUMNS}
    FROM audit_seal s
    LEFT JOIN audit_seal p ON p.position = s.position - 1
    LEFT JOIN audit_event e ON e.id = s.event_id
    WHERE s.position = :position
    """  # noqa: S608
)
_HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
_DUE = text(
    f"""
    SELECT {EVENT_COLUMNS}
    FROM audit_event e
    WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot())
      AND (e.xid, e.seq) > (CAST(:xid AS xid8), :seq)
    ORDER BY e.xid, e.seq
    LIMIT :batch
    """  # noqa: S608
)
_SEAL = text(
    "INSERT INTO audit_seal (position, event_id, hash, xid, seq, sealed_at) "
    "VALUES (:position, :event_id, :hash, CAST(:xid AS xid8), :seq, :sealed_at)"
)


class BrokenHead(RuntimeError):
    """The newest seal does not follow from the seal before it and its event."""

    def __init__(self, position: int) -> None:
        super().__init__(
            f"the audit chain's head at position {position} does not verify: not sealing or "
            "signing over it; run `index-service audit verify`"
        )
        self.position = position


def require_sound_head(session: Session, position: int) -> None:
    """The head one builds on is the link of its predecessor and its event (one hash)."""
    if position == 0:
        return
    row = session.execute(_HEAD_LINK, {"position": position}).mappings().first()
    previous = bytes(row["previous_hash"]) if row and row["previous_hash"] else GENESIS
    if (
        row is None
        or row["id"] is None
        or link(previous, position, row) != bytes(row["sealed_hash"])
    ):
        log.error("audit_sealer_head_broken", position=position)
        raise BrokenHead(position)


def oldest_unsealed_seconds(conn: psycopg.Connection) -> float | None:
    """How long the oldest event not yet chained has waited, in seconds; None if every
    event is sealed. The sealer's health, seen from outside it: a stopped worker, a
    broken head or a long-running transaction all show as a wait that only grows. One
    index lookup after the head, however long the backlog."""
    head = conn.execute(
        "SELECT xid::text, seq FROM audit_seal ORDER BY position DESC LIMIT 1"
    ).fetchone()
    xid, seq = (head[0], head[1]) if head else ("0", 0)
    row = conn.execute(
        "SELECT extract(epoch FROM clock_timestamp() - occurred_at) FROM audit_event "
        "WHERE (xid, seq) > (CAST(%s AS xid8), %s) ORDER BY xid, seq LIMIT 1",
        (xid, seq),
    ).fetchone()
    return float(row[0]) if row else None


@dataclass(frozen=True)
class Head:
    position: int
    hash: bytes
    event_id: str | None


def seal(db: Database, *, batch: int = 5000) -> int | None:
    """Seal up to `batch` events; the number sealed, or None if another sealer is busy."""
    with db.transaction() as session:
        if not session.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEALER_LOCK}
        ).scalar():
            return None
        last = session.execute(_HEAD).mappings().first()
        position, previous = (last["position"], bytes(last["hash"])) if last else (0, GENESIS)
        require_sound_head(session, position)
        after = (last["xid"], last["seq"]) if last else ("0", 0)
        if int(session.execute(_HORIZON).scalar_one()) < int(after[0]):
            # Transaction ids went back: the database was restored into another cluster.
            # Sealing on would put new events behind sealed ones; stop and say so.
            log.error("audit_sealer_xids_behind_the_chain", last_sealed_xid=after[0])
            return 0
        rows = session.execute(_DUE, {"xid": after[0], "seq": after[1], "batch": batch})
        now = utcnow()
        links = []
        for event in rows.mappings():
            position += 1
            previous = link(previous, position, event)
            links.append(
                {
                    "position": position,
                    "event_id": event["id"],
                    "hash": previous,
                    "xid": event["xid"],
                    "seq": event["seq"],
                    "sealed_at": now,
                }
            )
        if links:
            session.execute(_SEAL, links)
        return len(links)


def head(db: Database) -> Head:
    with db.session() as session:
        last = session.execute(_HEAD).mappings().first()
    if last is None:
        return Head(position=0, hash=GENESIS, event_id=None)
    return Head(position=last["position"], hash=bytes(last["hash"]), event_id=str(last["event_id"]))


class Sealer:
    """Seals every tick and checkpoints the head now and then (the worker's hook)."""

    def __init__(
        self, db: Database, settings: Settings, stop: threading.Event | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        self._stop = stop or threading.Event()  # set: a backlog is left for the next run
        self._key = checkpoints.signing_key(settings)
        self._last_checkpoint_at: datetime | None = None

    def tick(self, now: datetime) -> None:
        while (sealed := seal(self._db, batch=self._settings.audit_seal_batch)) and (
            sealed >= self._settings.audit_seal_batch
        ):
            if self._stop.is_set():  # the worker is stopping: the backlog can wait
                return
        if sealed is None:
            log.warning("audit_sealer_busy")  # another sealer, or someone holding its lock
        every = timedelta(seconds=self._settings.audit_checkpoint_seconds)
        if self._last_checkpoint_at is None or now - self._last_checkpoint_at >= every:
            self.checkpoint(now)

    def _require_sound_since_last_checkpoint(self, session: Session) -> None:
        """What a checkpoint vouches for is checked first: the walk from the newest good
        checkpoint to the head (`verify`, incremental), so an edited event or seal inside
        that stretch is never signed over. Only the absence of any checkpoint yet (the
        first one is this) is no reason to stop."""
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = verify(
            session=session,
            directory=self._settings.checkpoint_dir,
            public_key=self._key.public_key(),
            incremental=True,
        )
        problems = [p for p in report.problems if p.kind != "no_checkpoint"]
        if problems:
            first = problems[0]
            log.error("audit_sealer_chain_broken", kind=first.kind, position=first.position)
            raise BrokenHead(first.position or report.head_position)

    def checkpoint(self, now: datetime) -> checkpoints.Checkpoint | None:
        """Sign the chain's head into a checkpoint file, unless one for it exists; never
        over a head that does not verify (`BrokenHead`)."""
        current = head(self._db)
        with self._db.session() as session:
            require_sound_head(session, current.position)
        with self._db.session() as session:
            self._require_sound_since_last_checkpoint(session)
        self._last_checkpoint_at = now
        directory = self._settings.checkpoint_dir
        latest = checkpoints.latest(directory)
        if current.position == 0 or (latest is not None and latest.position >= current.position):
            return None
        signed = checkpoints.sign(
            self._key,
            position=current.position,
            head=current.hash,
            event_id=current.event_id or "",
            at=now,
        )
        checkpoints.write(directory, signed)
        log.info("audit_checkpoint_written", position=signed.position)
        return signed
