"""Checking the audit chain and its checkpoints: `index-service audit verify` and
`GET /v1/audit/verify` give this answer.

Each sealed event is hashed again from what is stored now and compared with its seal;
positions must follow one another and events must come in (xid, seq) order; no event
may sit unsealed in the sealed past; and every checkpoint file must carry a good
signature and agree with the chain recomputed from the events. The first problem in
chain order names the first bad event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session

from index_service.audit import checkpoints
from index_service.audit.chain import EVENT_COLUMNS, GENESIS, link
from index_service.audit.checkpoints import StoredCheckpoint
from index_service.database import Database
from index_service.settings import Settings

MAX_PROBLEMS = 20

_CHAIN = text(
    f"""
    SELECT s.position, s.hash AS sealed_hash, s.event_id AS sealed_id,
      s.xid::text AS sealed_xid, s.seq AS sealed_seq, {EVENT_COLUMNS}
    FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id
    ORDER BY s.position
    """  # noqa: S608
)
_BELOW = text("SELECT count(*) FROM audit_event WHERE (xid, seq) <= (CAST(:xid AS xid8), :seq)")
_INTRUDERS = text(
    """
    SELECT e.id FROM audit_event e
    WHERE (e.xid, e.seq) <= (CAST(:xid AS xid8), :seq)
      AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)
    ORDER BY e.xid, e.seq LIMIT :n
    """
)
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
    seq_gaps: int = 0  # numbers taken by transactions that rolled back
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
            "problems": [asdict(p) for p in self.problems],
        }

    def note(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def run_verify(*, db: Database, settings: Settings) -> VerifyReport:
    """Verify with the configured checkpoint directory and key, in one snapshot."""
    with db.session() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return verify(
            session=session,
            directory=settings.checkpoint_dir,
            public_key=checkpoints.verify_key(settings),
        )


def verify(
    *, session: Session, directory: Path, public_key: Ed25519PublicKey | None
) -> VerifyReport:
    report = VerifyReport()
    stored = checkpoints.read_all(directory)
    wanted = {s.checkpoint.position for s in stored if s.checkpoint is not None}
    recomputed_at: dict[int, bytes] = {}
    last_order: tuple[int, int] | None = None
    recomputed = previous = GENESIS
    expected = 1
    for row in _chain(session):
        position = row["position"]
        sealed_id = str(row["sealed_id"])
        if position != expected:
            report.note(
                Problem(
                    "missing_position",
                    f"the chain goes from position {expected - 1} to {position}: "
                    f"{position - expected} sealed event(s) removed before this one",
                    position,
                    sealed_id,
                )
            )
        expected = position + 1
        sealed_hash = bytes(row["sealed_hash"])
        if row["id"] is None:
            report.note(
                Problem("missing_event", "this sealed event has been removed", position, sealed_id)
            )
        else:
            order = (int(row["sealed_xid"]), int(row["sealed_seq"]))
            if last_order is not None and order <= last_order:
                report.note(
                    Problem("out_of_order", "this event is out of its place", position, sealed_id)
                )
            last_order = order
            if link(previous, position, row) != sealed_hash:
                report.note(
                    Problem(
                        "altered",
                        "this event does not match its seal: it was altered, or moved here",
                        position,
                        sealed_id,
                    )
                )
            recomputed = link(recomputed, position, row)
        previous = sealed_hash
        report.events_checked += 1
        report.head_position = position
        report.head_hash = sealed_hash.hex()
        if position in wanted:
            recomputed_at[position] = recomputed
    _check_unsealed(session, report, last_order)
    if public_key is None:
        report.note(
            Problem("no_verify_key", "no key to check checkpoints with: set AUDIT_VERIFY_KEY_FILE")
        )
    else:
        _check_checkpoints(report, stored, recomputed_at, public_key)
        if report.head_position and report.latest_checkpoint is None:
            report.note(
                Problem(
                    "no_checkpoint",
                    f"no signed checkpoint covers the chain (head at {report.head_position}): "
                    "without one it cannot be told from a chain recomputed after an edit",
                    report.head_position,
                )
            )
    report.seq_gaps = int(session.execute(_SEQ).scalar_one())
    report.problems.sort(key=lambda p: (p.position is None, p.position or 0))
    return report


def _chain(session: Session) -> Iterator[Any]:
    options = {"stream_results": True, "yield_per": 2000}
    yield from session.execute(_CHAIN, execution_options=options).mappings()


def _check_unsealed(session: Session, report: VerifyReport, last: tuple[int, int] | None) -> None:
    xid, seq = (str(last[0]), last[1]) if last is not None else ("0", 0)
    report.unsealed_events = int(session.execute(_ABOVE, {"xid": xid, "seq": seq}).scalar_one())
    if last is None:
        return
    below = int(session.execute(_BELOW, {"xid": xid, "seq": seq}).scalar_one())
    if below <= report.events_checked:
        return
    for (event_id,) in session.execute(_INTRUDERS, {"xid": xid, "seq": seq, "n": MAX_PROBLEMS}):
        report.note(
            Problem(
                "unsealed_in_sealed_past",
                "this event was written among sealed events but was never sealed: "
                "it was inserted after its place was sealed",
                None,
                str(event_id),
            )
        )


def _check_checkpoints(
    report: VerifyReport,
    stored: list[StoredCheckpoint],
    recomputed_at: dict[int, bytes],
    public_key: Ed25519PublicKey,
) -> None:
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
        report.latest_checkpoint = checkpoint.position
        if checkpoint.position > report.head_position:
            report.note(
                Problem(
                    "truncated",
                    f"{where} lies beyond the chain's head at {report.head_position}: "
                    "sealed events were removed from the end",
                    checkpoint.position,
                    checkpoint.event_id,
                )
            )
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
