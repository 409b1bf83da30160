"""Per-request unit of work: one database session and one audit draft.

On success the audit row is written in the work's own transaction and committed before
the response leaves; on refusal or failure the work is rolled back and the audit row is
written in a transaction of its own. If the audit row cannot be written, the request
fails and nothing is disclosed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from sqlmodel import Session

from index_service.access.policy import RateBucket
from index_service.access.purpose import Purpose
from index_service.access.ratelimit import Tally, tally
from index_service.alerts.models import Alert
from index_service.audit.service import AuditDraft, record_event
from index_service.common import utcnow
from index_service.database import Database

log = structlog.get_logger("index_service.request")

# What is done with a count's total, in the work's session (a refusal, an anomaly).
Counted = Callable[[Session, int], object]


class RequestContext:
    def __init__(self, *, db: Database, draft: AuditDraft) -> None:
        self._db = db
        self._session: Session | None = None
        self.audit = draft
        self.purpose: Purpose | None = None  # set by api/security.py on child-data routes
        self.rate_bucket: RateBucket | None = None  # set by api/security.py
        self.directory_version: int | None = None  # the directory the caller was checked on
        self._before_audit: dict[str, tuple[Callable[[], Tally | None], Counted]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._on_refusal: list[Callable[[Session], object]] = []

    @property
    def db(self) -> Database:
        return self._db

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._db.session()
        return self._session

    def note_alerts(self, alerts: Sequence[Alert]) -> None:
        """The alerts this request raised, by id, in its audit row."""
        if alerts:
            raised = self.audit.detail.setdefault("alerts_raised", [])
            raised.extend(str(a.id) for a in alerts)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the work and its audit row are committed (never if not)."""
        self._after_commit.append(action)

    def on_refusal(self, action: Callable[[Session], object]) -> None:
        """Run `action` in the refusal's transaction if the work is rolled back (after
        the refusal's audit row, in a savepoint: it can never cost the row)."""
        self._on_refusal.append(action)

    def before_audit(self, key: str, count: Callable[[], Tally | None], then: Counted) -> None:
        """At the end of the work, just before its audit row (once per `key`): add what
        `count` gives then (nothing if None) to its row, with the request's other counts
        in one statement (`ratelimit.tally`: their rows are locked until the commit), and
        pass the total to `then`. A `DomainError` it raises refuses the request and rolls
        the work back."""
        self._before_audit.setdefault(key, (count, then))

    def _count(self) -> None:
        pending = [(count(), then) for count, then in self._before_audit.values()]
        asked = [(tallied, then) for tallied, then in pending if tallied is not None]
        if not asked:
            return
        totals = tally(session=self.session, tallies=[t for t, _ in asked], now=utcnow())
        for (_, then), total in zip(asked, totals, strict=True):
            then(self.session, total)

    def succeed(self, status_code: int) -> None:
        """Write the audit row with the work, then commit both together."""
        try:
            self._count()
            record_event(session=self.session, draft=self.audit, status_code=status_code)
            self.session.commit()
        finally:
            self.close()
        for action in self._after_commit:
            try:
                action()
            except Exception as exc:  # the work is committed: the answer stands
                log.error("after_commit_failed", error_type=type(exc).__name__)

    def refuse(self, status_code: int, reason: str) -> None:
        """Roll the work back, then record the refusal (or failure) on its own."""
        self.close()
        with self._db.transaction() as session:
            record_event(session=session, draft=self.audit, status_code=status_code, reason=reason)
            for recount in self._on_refusal:
                try:
                    with session.begin_nested():
                        recount(session)
                except Exception as exc:  # the refusal's row stands without it
                    log.warning("refusal_hook_failed", error_type=type(exc).__name__)

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back: safe to call
        twice, and the connection goes back to the pool even if the rollback fails."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.rollback()
        except Exception as exc:  # a broken connection: the pool discards it on close
            log.warning("rollback_failed", error_type=type(exc).__name__)
        finally:
            session.close()
