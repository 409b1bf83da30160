"""Running a feed: rows read in batches, each batch validated, recognised (row keys),
matched (`matching/batch.py`), written (`writes.py`) and audited together.

Per row, by the resolver's outcome:
- a confident `match` updates the entry, with provenance (who supplied it, when, which
  feed) per field group;
- nothing found creates a child;
- anything in between is queued for review by the data managers of the authority the row
  names as responsible; a confident match the feed's sender may not update
  (`access/objects.may_feed_update`: a shielded record its authority's data managers
  alone see in full; another authority's child, for a data manager's feed) by the data
  managers of the child's responsible authority, who alone may act on it. The sender
  learns of a queued row only that it is queued (no child id, no reason): what the
  duplicate guard of `POST /v1/children` tells an agency of a possible duplicate.
The same row sent again (same organisation, source record id and content hash) is
`unchanged`: nothing is written. The report goes back to the sender: per row its outcome,
the index's id for a child it created or updated, and the gaps of the row as *sent*
(never anything the index holds: a shielded child's address, or whether it differs, is
not the agency's to learn). One audit row per feed with the counts, and one per batch
naming every child the batch created or updated (`child_ids`), so that "who touched this
child" finds the feed. A row that moves a child's current address to another authority
raises R5 as the API's address change does (`feeds/moves.py`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from index_service.access.need_to_know import match_scope
from index_service.access.objects import may_feed_update, traced_by_feed_as
from index_service.access.principal import Principal
from index_service.alerts.service import AlertTiming
from index_service.audit.service import AuditDraft, record_event
from index_service.children.age import AgeLimit, require_within_age_limit
from index_service.children.duplicates import person_of_record, possible_duplicates
from index_service.children.schemas import ChildCreate
from index_service.children.service import require_may_create
from index_service.common import utcnow
from index_service.errors import DomainError, Forbidden
from index_service.feeds.models import Feed, FeedReview, FeedRowKey, ReviewReason
from index_service.feeds.moves import alert_moves
from index_service.feeds.records import FeedRow, Problem, nhs_number_status_of
from index_service.feeds.repeats import Round
from index_service.feeds.writes import Supplied, create_children, insert_rows, update_children
from index_service.matching.batch import resolve_batch
from index_service.matching.model import MatchModel, load_model
from index_service.matching.resolver import Outcome as Match
from index_service.matching.resolver import Resolution

BATCH_SIZE = 1000
# The batch's row keys already taken: one statement whatever the batch's size (arrays,
# joined on the primary key), not an IN list of pairs to build and plan each time.
# With them, the child each of the batch's row keys reached earlier in this feed (any
# content): rows of one feed with one row key are about one child (`_decide`).
_KNOWN_KEYS = text(
    """
    SELECT k.source_record_id, k.content_hash, k.content_hash = sent.hash,
        CASE WHEN k.feed_id = :feed THEN k.child_id END
    FROM unnest(CAST(:ids AS text[]), CAST(:hashes AS text[])) AS sent(id, hash)
    JOIN feed_row_key k ON k.organisation_code = :organisation AND k.source_record_id = sent.id
    """
)
APPLIED_ACTION = "child:feed:apply"
# A row waiting in the batch: its index, the row, its content hash.
Pending = tuple[int, "FeedRow", str]
# A review to make: why, its candidates, and the authority whose data managers decide it
# (None: the one the row names).
Queue = tuple[ReviewReason, list[uuid.UUID], str | None]


class RowOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    QUEUED = "queued_for_review"
    REJECTED = "rejected"


QUEUED = RowOutcome.QUEUED


@dataclass
class RowReport:
    row: int
    source_record_id: str
    outcome: RowOutcome
    child_id: uuid.UUID | None = None
    fields: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class FeedReport:
    feed_id: uuid.UUID
    format: str
    counts: dict[str, int]
    rows: list[RowReport]


def gaps_of_row(row: FeedRow) -> list[str]:
    """What the row as sent leaves unknown (Laming R12: gaps go back to the supplier)."""
    record = row.record
    assert record is not None
    gaps = []
    if record.gp_practice.status.value == "unknown":
        gaps.append("gp_unknown")
    if record.education.status.value == "unknown":
        gaps.append("school_unknown")
    if record.carers.status.value == "unknown":
        gaps.append("carers_unknown")
    if not any(a.to_date is None for a in record.addresses):
        gaps.append("no_current_address")
    if record.nhs_number is None:
        gaps.append("nhs_number_unknown")
    elif not row.nhs_number_verified:
        gaps.append("nhs_number_unverified")
    return gaps


def batches(rows: Iterable[FeedRow], size: int = BATCH_SIZE) -> Iterator[list[FeedRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass
class _Batch:
    """What one batch has done so far, across its rounds."""

    now: datetime
    reports: list[RowReport | None]
    applied: dict[str, uuid.UUID] = field(default_factory=dict)  # row key -> child, this feed
    updated_ids: set[uuid.UUID] = field(default_factory=set)
    touched: list[uuid.UUID] = field(default_factory=list)
    created: int = 0
    updated: int = 0


class FeedRun:
    """One feed being applied, batch by batch, in the caller's session. The caller
    commits (the API once, with its audit row; the CLI after every batch)."""

    def __init__(
        self,
        *,
        session: Session,
        caller: Principal,
        draft: AuditDraft,
        format: str,
        channel: str,
        age_limit: AgeLimit,
        timing: AlertTiming,
        model: MatchModel | None = None,
    ) -> None:
        self.session = session
        self.caller = caller
        self.draft = draft
        self.age_limit = age_limit
        self.timing = timing
        self.model = model or load_model()
        self.scope = match_scope(caller)
        self.traced = traced_by_feed_as(caller)
        self.feed = Feed(organisation_code=caller.organisation_code, format=format, channel=channel)
        session.add(self.feed)
        session.flush()
        self.counts: Counter[str] = Counter()
        self.reports: list[RowReport] = []

    def run(
        self, rows: Iterable[FeedRow], after_batch: Callable[[int], object] | None = None
    ) -> None:
        for batch in batches(rows):
            self.apply(batch)
            if after_batch is not None:
                after_batch(len(batch))

    def apply(self, batch: list[FeedRow]) -> list[RowReport]:
        """Validate, recognise, match and write one batch; its row reports."""
        self.session.expire_all()  # a committed batch's rows are read afresh
        state = _Batch(now=utcnow(), reports=[None] * len(batch))
        keyed: list[Pending] = []
        for i, row in enumerate(batch):
            problems = row.problems or self._age_problems(row)
            if problems or row.record is None:
                state.reports[i] = RowReport(
                    row.number, row.source_record_id, RowOutcome.REJECTED, problems=problems
                )
            else:
                keyed.append((i, row, row.content_hash))
        known, state.applied = self._known_keys([(row.source_record_id, h) for _, row, h in keyed])
        fresh: list[Pending] = []
        for i, row, content_hash in keyed:
            key = (row.source_record_id, content_hash)
            if key in known:
                state.reports[i] = RowReport(row.number, row.source_record_id, RowOutcome.UNCHANGED)
            else:
                known.add(key)
                fresh.append((i, row, content_hash))
        pending, second_look = fresh, False
        while pending:
            pending = self._round(pending, state, second_look=second_look)
            second_look = True
        self._remember(fresh, state.reports)
        if state.touched:
            self._audit_batch(state.touched, created=state.created, updated=state.updated)
        self.session.flush()
        done = [r for r in state.reports if r is not None]
        assert len(done) == len(batch)
        self.counts.update(r.outcome.value for r in done)
        self.reports.extend(done)
        return done

    def _round(self, pending: list[Pending], state: _Batch, *, second_look: bool) -> list[Pending]:
        """Match and write the pending rows; the rows held back to be matched again once
        this round's are written (`feeds/repeats.py`)."""
        people = [person_of_record(_record(row)) for _, row, _ in pending]
        resolutions = resolve_batch(
            session=self.session, people=people, scope=self.scope, model=self.model
        )
        creates: list[tuple[int, FeedRow, Supplied]] = []
        updates: list[tuple[int, FeedRow, uuid.UUID, Supplied]] = []
        queued: list[FeedReview] = []
        held: list[Pending] = []
        this_round = Round()
        for entry, person, resolution in zip(pending, people, resolutions, strict=True):
            i, row, _ = entry
            supplied = Supplied(
                record=_record(row),
                groups=row.supplied,
                organisation=self.caller.organisation_code,
                feed_id=self.feed.id,
                at=state.now,
                nhs_number_status=nhs_number_status_of(row, traced=self.traced),
            )
            decision, why = self._decide(resolution, row, state, second_look)
            applied = decision in (RowOutcome.CREATED, RowOutcome.UPDATED)
            if applied and this_round.holds(
                row.source_record_id, person, creates=decision == RowOutcome.CREATED
            ):
                held.append(entry)
                continue
            if applied:
                this_round.applied(
                    row.source_record_id, person, created=decision == RowOutcome.CREATED
                )
            if decision == RowOutcome.CREATED:
                creates.append((i, row, supplied))
            elif decision == RowOutcome.UPDATED:
                child_id = resolution.candidates[0].child_id
                state.updated_ids.add(child_id)
                updates.append((i, row, child_id, supplied))
            elif decision == RowOutcome.REJECTED:
                state.reports[i] = RowReport(
                    row.number,
                    row.source_record_id,
                    RowOutcome.REJECTED,
                    problems=[Problem("responsible_authority", str(why))],
                )
            else:
                assert isinstance(why, tuple)
                queued.append(self._review(row, supplied, why))
                state.reports[i] = RowReport(
                    row.number, row.source_record_id, RowOutcome.QUEUED, gaps=gaps_of_row(row)
                )
        created = create_children(self.session, [s for _, _, s in creates])
        moves = update_children(self.session, [(child_id, s) for _, _, child_id, s in updates])
        alert_moves(session=self.session, caller=self.caller, moves=moves, timing=self.timing)
        for (i, row, _), child_id in zip(creates, created, strict=True):
            state.reports[i] = self._applied(row, RowOutcome.CREATED, child_id)
            state.applied[row.source_record_id] = child_id
        for i, row, child_id, _ in updates:
            state.reports[i] = self._applied(row, RowOutcome.UPDATED, child_id)
            state.applied[row.source_record_id] = child_id
        if queued:
            self.session.add_all(queued)
        state.touched += [*created, *(child_id for _, _, child_id, _ in updates)]
        state.created += len(created)
        state.updated += len(updates)
        return held

    def finish(self) -> FeedReport:
        counts = {outcome.value: self.counts.get(outcome.value, 0) for outcome in RowOutcome}
        counts["rows"] = sum(self.counts.values())
        self.feed.counts = counts
        self.feed.finished_at = utcnow()
        self.session.add(self.feed)
        self.session.flush()
        return FeedReport(self.feed.id, self.feed.format, counts, self.reports)

    # -----------------------------------------------------------------------------------

    def _age_problems(self, row: FeedRow) -> list[Problem]:
        if row.record is None:
            return []
        try:
            require_within_age_limit(
                row.record.date_of_birth,
                row.record.date_of_birth_precision.value,
                limit=self.age_limit,
                today=utcnow().date(),
            )
        except DomainError as exc:
            return [Problem("date_of_birth", str(exc))]
        return []

    def _known_keys(
        self, keys: list[tuple[str, str]]
    ) -> tuple[set[tuple[str, str]], dict[str, uuid.UUID]]:
        """The rows already taken (same row key, same content), and the child each row key
        of the batch already reached earlier in this feed (a row key is one child)."""
        if not keys:
            return set(), {}
        found = self.session.execute(
            _KNOWN_KEYS,
            {
                "organisation": self.caller.organisation_code,
                "ids": [s for s, _ in keys],
                "hashes": [h for _, h in keys],
                "feed": self.feed.id,
            },
        )
        taken: set[tuple[str, str]] = set()
        applied: dict[str, uuid.UUID] = {}
        for source_record_id, content_hash, same, child_id in found:
            if same:
                taken.add((source_record_id, content_hash))
            if child_id is not None:
                applied[source_record_id] = child_id
        return taken, applied

    def _decide(
        self, resolution: Resolution, row: FeedRow, state: _Batch, second_look: bool
    ) -> tuple[RowOutcome, Queue | str | None]:
        """The row's outcome, and for a review why, its candidates and who decides it, or
        for a refusal why. `second_look`: the row was held back for a child an earlier
        row of its batch created, and is now matched against the index holding it."""
        candidates = [c.child_id for c in resolution.candidates]
        earlier = state.applied.get(row.source_record_id)
        if earlier is not None and candidates[:1] != [earlier]:
            # The row key reached a child earlier in this feed, and this row is not
            # confidently that child: its data managers decide.
            return QUEUED, (ReviewReason.SEVERAL_ROWS_FOR_ONE_CHILD, [earlier, *candidates], None)
        if resolution.outcome == Match.NOT_FOUND:
            try:
                require_may_create(caller=self.caller, data=_record(row))
            except Forbidden as exc:
                return RowOutcome.REJECTED, str(exc)
            if second_look:
                # The duplicate guard's rule (`children/duplicates.py`), as for a record
                # made through the API, on a row an earlier one of its batch may have made.
                found = possible_duplicates(
                    session=self.session, data=_record(row), scope=self.scope, model=self.model
                )
                if found:
                    several = ReviewReason.SEVERAL_ROWS_FOR_ONE_CHILD
                    return QUEUED, (several, [f.child_id for f in found], None)
            return RowOutcome.CREATED, None
        if resolution.outcome == Match.POSSIBLE_MATCHES:
            return QUEUED, (ReviewReason.POSSIBLE_MATCH, candidates, None)
        child = resolution.candidates[0].stored.child
        # A confident match: only the child's responsible authority's data managers may
        # act on it (and only they may learn that it is shielded), so they decide it.
        keeper = child.responsible_authority
        allowed = may_feed_update(
            self.caller, shielded=child.shielded, responsible_authority=keeper
        )
        if not allowed:
            return QUEUED, (ReviewReason(allowed.reason), candidates, keeper)
        if child.id in state.updated_ids:
            return QUEUED, (ReviewReason.SEVERAL_ROWS_FOR_ONE_CHILD, candidates, keeper)
        return RowOutcome.UPDATED, None

    def _review(self, row: FeedRow, supplied: Supplied, why: Queue) -> FeedReview:
        reason, candidates, decided_by = why
        return FeedReview(
            feed_id=self.feed.id,
            organisation_code=self.caller.organisation_code,
            source_record_id=row.source_record_id,
            responsible_authority=decided_by or supplied.record.responsible_authority,
            record=review_record(supplied),
            candidate_ids=list(dict.fromkeys(candidates)),
            reason=reason.value,
        )

    def _applied(self, row: FeedRow, outcome: RowOutcome, child_id: uuid.UUID) -> RowReport:
        return RowReport(
            row.number,
            row.source_record_id,
            outcome,
            child_id=child_id,
            fields=sorted(row.supplied | {"names"}),
            gaps=gaps_of_row(row),
        )

    def _remember(
        self, fresh: list[tuple[int, FeedRow, str]], reports: list[RowReport | None]
    ) -> None:
        keys = []
        for i, row, content_hash in fresh:
            report = reports[i]
            assert report is not None
            if report.outcome == RowOutcome.REJECTED:
                continue  # sent again, it is reported again; nothing was kept
            keys.append(
                {
                    "organisation_code": self.caller.organisation_code,
                    "source_record_id": row.source_record_id,
                    "content_hash": content_hash,
                    "feed_id": self.feed.id,
                    "outcome": report.outcome.value,
                    "child_id": report.child_id,
                }
            )
        if keys:
            insert_rows(self.session, FeedRowKey.__table__, keys)  # type: ignore[attr-defined]

    def _audit_batch(self, touched: list[uuid.UUID], *, created: int, updated: int) -> None:
        draft = AuditDraft(
            action=APPLIED_ACTION,
            method=self.draft.method,
            route=self.draft.route,
            request_id=self.draft.request_id,
            instance=self.draft.instance,
            client_address=self.draft.client_address,
            user_agent=self.draft.user_agent,
            principal=self.caller,
            child_ids=touched,
            detail={"feed_id": str(self.feed.id), "created": created, "updated": updated},
        )
        record_event(session=self.session, draft=draft, status_code=200)


def review_record(supplied: Supplied) -> dict[str, Any]:
    return {
        "record": supplied.record.model_dump(mode="json", exclude={"confirmed_distinct_from"}),
        "groups": sorted(supplied.groups),
        "nhs_number_status": supplied.nhs_number_status,
    }


def _record(row: FeedRow) -> ChildCreate:
    assert row.record is not None
    return row.record
