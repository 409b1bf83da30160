"""Checking the audit chain and its checkpoints: `index-service audit verify` and
`GET /v1/audit/verify` give this answer.

Each sealed event is hashed again from what is stored now and compared with its seal;
positions must follow one another and events must come in (xid, seq) order; no event
may sit unsealed in the sealed past; and every checkpoint file must carry a good
signature and agree with the chain recomputed from the events. The first problem in
chain order names the first bad event.

Each event's personal part (`audit/chain.py`) is checked against its commitment while it
is there (`personal_altered` if not); once erased at retention only the chain can be, and
an erasure the erasure job has not reached yet (`erased_out_of_turn`) is reported.
Version-1 checkpoints, from before migration 0020 re-chained the trail, are checked
against the version-1 hashes the seals kept.

`period` (a month) checks only that month's events: from the newest good checkpoint
before the first of them to the last, so a month is verified without walking the years
before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session

from index_service.audit import checkpoints
from index_service.audit.chain import (
    CHAIN_VERSION,
    EVENT_COLUMNS,
    GENESIS,
    PERSONAL_ALTERED,
    PERSONAL_ERASED,
    PERSONAL_PRESENT,
    link,
    personal_state,
)
from index_service.audit.checkpoints import StoredCheckpoint
from index_service.database import Database
from index_service.settings import Settings

MAX_PROBLEMS = 20

_CHAIN = text(
    f"""
    SELECT s.position, s.hash AS sealed_hash, s.event_id AS sealed_id,
      s.xid::text AS sealed_xid, s.seq AS sealed_seq, {EVENT_COLUMNS}
    FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id
    WHERE s.position > :after AND s.position <= :until
    ORDER BY s.position
    """  # noqa: S608
)
_PERIOD = text(
    """
    SELECT min(s.position) AS first, max(s.position) AS last, count(*) AS events
    FROM audit_event e JOIN audit_seal s ON s.event_id = e.id
    WHERE e.occurred_at >= :start AND e.occurred_at < :end
    """
)
_V1_HASHES = text("SELECT position, v1_hash FROM audit_seal WHERE position = ANY(:positions)")
_ERASED_BEFORE = text("SELECT erased_before FROM audit_erasure")
UNBOUNDED = 2**63 - 1
_BELOW = text(
    "SELECT count(*) FROM audit_event WHERE (xid, seq) <= (CAST(:xid AS xid8), :seq)"
    " AND (xid, seq) > (CAST(:from_xid AS xid8), :from_seq)"
)
_INTRUDERS = text(
    """
    SELECT e.id FROM audit_event e
    WHERE (e.xid, e.seq) <= (CAST(:xid AS xid8), :seq)
      AND (e.xid, e.seq) > (CAST(:from_xid AS xid8), :from_seq)
      AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
    ORDER BY e.xid, e.seq LIMIT :n
    """
)
_SEAL_AT = text("SELECT hash, xid::text AS xid, seq FROM audit_seal WHERE position = :position")
_ABOVE = text("SELECT count(*) FROM audit_event WHERE (xid, seq) > (CAST(:xid AS xid8), :seq)")
_SEQ = text("SELECT coalesce(max(seq) - min(seq) + 1 - count(*), 0) FROM audit_event")


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    position: int | None = None
    event_id: str | None = None


@dataclass
class VerifyReport:
    events_checked: int = 0
    head_position: int = 0
    head_hash: str = GENESIS.hex()
    checkpoints_checked: int = 0
    latest_checkpoint: int | None = None
    unsealed_events: int = 0  # written after the sealed head: sealed on the next tick
    seq_gaps: int | None = None  # numbers taken by transactions that rolled back (full walk)
    verified_from: int = 0  # the checkpoint an incremental walk began after (0: the start)
    personal_checked: int = 0  # personal parts found to match their commitments
    personal_erased: int = 0  # erased at retention: the chain alone was checked
    period: str | None = None  # YYYY-MM: only that month's events (and the walk to them)
    period_events: int | None = None  # sealed events of the period
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "first_bad": asdict(self.first_bad) if self.first_bad else None,
            "events_checked": self.events_checked,
            "head_position": self.head_position,
            "head_hash": self.head_hash,
            "checkpoints_checked": self.checkpoints_checked,
            "latest_checkpoint": self.latest_checkpoint,
            "unsealed_events": self.unsealed_events,
            "seq_gaps": self.seq_gaps,
            "verified_from": self.verified_from,
            "personal_checked": self.personal_checked,
            "personal_erased": self.personal_erased,
            "period": self.period,
            "period_events": self.period_events,
            "problems": [asdict(p) for p in self.problems],
        }

    def note(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def run_verify(
    *, db: Database, settings: Settings, incremental: bool = False, period: date | None = None
) -> VerifyReport:
    """Verify with the configured checkpoint directory and key, in one snapshot.
    `incremental`: start from the newest checkpoint whose signature and seal hold, rather
    than from the first event (the full walk is for a nightly run). `period`: the month
    of that day only."""
    with db.session() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return verify(
            session=session,
            directory=settings.checkpoint_dir,
            public_key=checkpoints.verify_key(settings),
            incremental=incremental,
            period=period,
        )


def month_of(day: date) -> tuple[datetime, datetime]:
    """The month holding `day`, as [start, end) instants in UTC (the partitions' bounds)."""
    from datetime import UTC

    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    index = day.year * 12 + day.month
    return start, datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass
class _Walk:
    """The walk along the chain: what is expected next, and the two running hashes (the
    stored seals', to place each problem; the events' own, to compare with checkpoints)."""

    report: VerifyReport
    wanted: set[int]
    previous: bytes
    expected: int
    last_order: tuple[int, int] | None
    recomputed: bytes = b""
    recomputed_at: dict[int, bytes] = field(default_factory=dict)
    # After a mismatch at p: that problem, and the hash p's seal would have if only the
    # seal was changed. The next link tells which it was (see `_blame`).
    suspect: tuple[Problem, bytes] | None = None
    erased_before: datetime | None = None  # how far the erasure job has got

    def step(self, row: Any) -> None:
        position, sealed_id = row["position"], str(row["sealed_id"])
        if position != self.expected:
            self.report.note(
                Problem(
                    "missing_position",
                    f"the chain goes from position {self.expected - 1} to {position}: "
                    f"{position - self.expected} sealed event(s) removed before this one",
                    position,
                    sealed_id,
                )
            )
        self.expected = position + 1
        sealed_hash = bytes(row["sealed_hash"])
        if row["id"] is None:
            self.report.note(
                Problem("missing_event", "this sealed event has been removed", position, sealed_id)
            )
        else:
            order = (int(row["sealed_xid"]), int(row["sealed_seq"]))
            if self.last_order is not None and order <= self.last_order:
                self.report.note(
                    Problem("out_of_order", "this event is out of its place", position, sealed_id)
                )
            self.last_order = order
            expected = link(self.previous, position, row)
            if expected != sealed_hash and not self._blame(position, row, sealed_hash):
                problem = Problem("altered", ALTERED, position, sealed_id)
                self.report.note(problem)
                self.suspect = (problem, expected)
            else:
                self.suspect = None
            self.recomputed = link(self.recomputed, position, row)
            self._check_personal(position, sealed_id, row)
        self.previous = sealed_hash
        self.report.events_checked += 1
        self.report.head_position = position
        self.report.head_hash = sealed_hash.hex()
        if position in self.wanted:
            self.recomputed_at[position] = self.recomputed

    def _check_personal(self, position: int, sealed_id: str, row: Any) -> None:
        state = personal_state(row)
        if state == PERSONAL_PRESENT:
            self.report.personal_checked += 1
        elif state == PERSONAL_ERASED:
            self.report.personal_erased += 1
            if self.erased_before is None or row["occurred_at"] >= self.erased_before:
                self.report.note(
                    Problem(
                        "erased_out_of_turn",
                        "this event's personal part is gone, but the erasure job has not "
                        "reached it: erased by someone else",
                        position,
                        sealed_id,
                    )
                )
        elif state == PERSONAL_ALTERED:
            self.report.note(
                Problem(
                    "personal_altered",
                    "this event's personal part (purpose text, criteria, names shown) "
                    "does not match the commitment sealed with it: it was altered",
                    position,
                    sealed_id,
                )
            )

    def _blame(self, position: int, row: Any, sealed_hash: bytes) -> bool:
        """A mismatch here right after one at `position - 1`: if this seal follows from
        the hash the previous seal *should* have, this event is intact and the previous
        seal itself was edited. That problem is renamed, and none is noted here."""
        if self.suspect is None:
            return False
        problem, should_have_been = self.suspect
        if link(should_have_been, position, row) != sealed_hash:
            return False
        self.report.problems[self.report.problems.index(problem)] = seal_altered(problem)
        return True


ALTERED = (
    "this event does not match its seal: the event was altered or moved here, or its seal "
    "was edited"
)


def seal_altered(problem: Problem) -> Problem:
    return Problem(
        "seal_altered",
        "this seal's hash was edited: its event still gives the chain around it",
        problem.position,
        problem.event_id,
    )


def verify(
    *,
    session: Session,
    directory: Path,
    public_key: Ed25519PublicKey | None,
    incremental: bool = False,
    period: date | None = None,
) -> VerifyReport:
    report = VerifyReport()
    stored = checkpoints.read_all(directory)
    until = UNBOUNDED
    if period is not None:
        start, end = month_of(period)
        report.period = start.strftime("%Y-%m")
        span = session.execute(_PERIOD, {"start": start, "end": end}).mappings().one()
        report.period_events = int(span["events"])
        if not span["events"]:
            return report
        until = int(span["last"])
        begin, start_hash, start_order = _start(session, stored, public_key, before=span["first"])
    elif incremental:
        begin, start_hash, start_order = _start(session, stored, public_key)
    else:
        begin, start_hash, start_order = 0, GENESIS, None
    report.verified_from = report.head_position = begin
    report.head_hash = start_hash.hex()
    walk = _Walk(
        report=report,
        wanted={
            s.checkpoint.position
            for s in stored
            if s.checkpoint is not None and s.checkpoint.version == CHAIN_VERSION
        },
        previous=start_hash,
        recomputed=start_hash,
        expected=begin + 1,
        last_order=start_order,
        erased_before=session.execute(_ERASED_BEFORE).scalar(),
    )
    for row in _chain(session, after=begin, until=until):
        walk.step(row)
    _check_unsealed(session, report, start_order, walk.last_order, whole=period is None)
    if public_key is None:
        if report.head_position or stored:  # something a key would have to vouch for
            report.note(
                Problem(
                    "no_verify_key", "no key to check checkpoints with: set AUDIT_VERIFY_KEY_FILE"
                )
            )
    else:
        v1_hashes = _v1_hashes(session, stored)
        _check_checkpoints(report, stored, walk.recomputed_at, public_key, begin, until, v1_hashes)
        if report.head_position and report.latest_checkpoint is None:
            report.note(
                Problem(
                    "no_checkpoint",
                    f"no signed checkpoint covers the chain (head at {report.head_position}): "
                    "without one it cannot be told from a chain recomputed after an edit",
                    report.head_position,
                )
            )
    if begin == 0 and period is None:
        report.seq_gaps = int(session.execute(_SEQ).scalar_one())
    report.problems.sort(key=lambda p: (p.position is None, p.position or 0))
    return report


def _v1_hashes(session: Session, stored: list[StoredCheckpoint]) -> dict[int, bytes]:
    """The version-1 hashes kept at the positions of version-1 checkpoints."""
    positions = [
        s.checkpoint.position for s in stored if s.checkpoint and s.checkpoint.version == 1
    ]
    if not positions:
        return {}
    rows = session.execute(_V1_HASHES, {"positions": positions})
    return {int(p): bytes(h) for p, h in rows if h is not None}


def _start(
    session: Session,
    stored: list[StoredCheckpoint],
    public_key: Ed25519PublicKey | None,
    before: int = UNBOUNDED,
) -> tuple[int, bytes, tuple[int, int] | None]:
    """Where an incremental walk begins: the newest checkpoint (of this chain version,
    before position `before`) with a good signature whose position's seal still carries
    its hash; else the first event."""
    if public_key is None:
        return 0, GENESIS, None
    good = [
        s.checkpoint
        for s in stored
        if s.checkpoint is not None
        and s.checkpoint.version == CHAIN_VERSION
        and s.checkpoint.position < before
        and checkpoints.signature_valid(s.checkpoint, public_key)
    ]
    for checkpoint in sorted(good, key=lambda c: c.position, reverse=True):
        seal = session.execute(_SEAL_AT, {"position": checkpoint.position}).mappings().first()
        if seal is not None and bytes(seal["hash"]).hex() == checkpoint.hash:
            order = (int(seal["xid"]), int(seal["seq"]))
            return checkpoint.position, bytes.fromhex(checkpoint.hash), order
    return 0, GENESIS, None


def _chain(session: Session, *, after: int, until: int = UNBOUNDED) -> Iterator[Any]:
    options = {"stream_results": True, "yield_per": 2000}
    params = {"after": after, "until": until}
    yield from session.execute(_CHAIN, params, execution_options=options).mappings()


def _check_unsealed(
    session: Session,
    report: VerifyReport,
    start: tuple[int, int] | None,
    last: tuple[int, int] | None,
    whole: bool = True,
) -> None:
    """Events after the last seal are pending (counted when the walk went to the head:
    `whole`); an unsealed event among the walked seals (between `start` and `last`) was
    slipped in behind the sealer."""
    last = last or start
    xid, seq = (str(last[0]), last[1]) if last is not None else ("0", 0)
    if whole:
        above = session.execute(_ABOVE, {"xid": xid, "seq": seq}).scalar_one()
        report.unsealed_events = int(above)
    if last is None or last == start:
        return
    from_xid, from_seq = (str(start[0]), start[1]) if start is not None else ("0", 0)
    span = {"xid": xid, "seq": seq, "from_xid": from_xid, "from_seq": from_seq}
    if int(session.execute(_BELOW, span).scalar_one()) <= report.events_checked:
        return
    for (event_id,) in session.execute(_INTRUDERS, {**span, "n": MAX_PROBLEMS}):
        report.note(
            Problem(
                "unsealed_in_sealed_past",
                "this event was written among sealed events but was never sealed: "
                "it was inserted after its place was sealed",
                None,
                str(event_id),
            )
        )


def _altered_at(report: VerifyReport, position: int) -> Problem | None:
    return next(
        (p for p in report.problems if p.kind == "altered" and p.position == position), None
    )


def _check_checkpoints(
    report: VerifyReport,
    stored: list[StoredCheckpoint],
    recomputed_at: dict[int, bytes],
    public_key: Ed25519PublicKey,
    begin: int,
    until: int = UNBOUNDED,
    v1_hashes: dict[int, bytes] | None = None,
) -> None:
    """Each checkpoint's signature; and, past where the walk began (and up to `until`,
    where a period's walk ends), that the chain gives its hash (at or before `begin`, the
    incremental walk's start vouched for it). A version-1 checkpoint must give the
    version-1 hash kept at its position."""
    good_before = 0
    for item in stored:
        checkpoint = item.checkpoint
        report.checkpoints_checked += 1
        if checkpoint is None:
            report.note(Problem("bad_checkpoint", f"{item.path.name} is not a readable checkpoint"))
            continue
        where = f"checkpoint {item.path.name} (position {checkpoint.position})"
        if not checkpoints.signature_valid(checkpoint, public_key):
            report.note(
                Problem(
                    "forged_checkpoint",
                    f"{where} is not signed by the audit signing key: forged or corrupted",
                    checkpoint.position,
                    checkpoint.event_id,
                )
            )
            continue
        if checkpoint.version != CHAIN_VERSION:
            _check_v1(report, checkpoint, where, v1_hashes or {})
            continue
        report.latest_checkpoint = checkpoint.position
        if checkpoint.position > until:
            continue  # beyond the period walked
        if checkpoint.position <= begin:
            good_before = checkpoint.position
        elif checkpoint.position > report.head_position:
            report.note(
                Problem(
                    "truncated",
                    f"{where} lies beyond the chain's head at {report.head_position}: "
                    "sealed events were removed from the end",
                    checkpoint.position,
                    checkpoint.event_id,
                )
            )
        elif recomputed_at.get(checkpoint.position, b"").hex() == checkpoint.hash and (
            altered := _altered_at(report, checkpoint.position)
        ):
            # The events up to here still give the signed hash: it is the seal at this
            # position (the head, with nothing after it to tell) that was edited.
            report.problems[report.problems.index(altered)] = seal_altered(altered)
            good_before = checkpoint.position
        elif recomputed_at.get(checkpoint.position, b"").hex() != checkpoint.hash:
            report.note(
                Problem(
                    "rewritten",
                    f"the events between positions {good_before + 1} and "
                    f"{checkpoint.position} no longer give the hash {where} signed: "
                    "events there were changed and the chain recomputed",
                    checkpoint.position,
                    checkpoint.event_id,
                )
            )
        else:
            good_before = checkpoint.position


def _check_v1(
    report: VerifyReport,
    checkpoint: checkpoints.Checkpoint,
    where: str,
    v1_hashes: dict[int, bytes],
) -> None:
    if checkpoint.version == 1 and v1_hashes.get(checkpoint.position, b"").hex() == checkpoint.hash:
        return
    report.note(
        Problem(
            "rewritten",
            f"{where} was signed over version {checkpoint.version} of the chain, and the "
            "version-1 hash kept at its position no longer agrees with it",
            checkpoint.position,
            checkpoint.event_id,
        )
    )
