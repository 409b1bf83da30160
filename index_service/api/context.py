"""Per-request unit of work: one database session and one audit draft.

On success the audit row is written in the work's own transaction and committed before
the response leaves; on refusal or failure the work is rolled back and the audit row is
written in a transaction of its own. If the audit row cannot be written, the request
fails and nothing is disclosed.
"""

from __future__ import annotations

import structlog
from sqlmodel import Session

from index_service.audit.service import AuditDraft, record_event
from index_service.database import Database

log = structlog.get_logger("index_service.request")


class RequestContext:
    def __init__(self, *, db: Database, draft: AuditDraft) -> None:
        self._db = db
        self._session: Session | None = None
        self.audit = draft

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._db.session()
        return self._session

    def succeed(self, status_code: int) -> None:
        """Write the audit row with the work, then commit both together."""
        try:
            record_event(session=self.session, draft=self.audit, status_code=status_code)
            self.session.commit()
        except BaseException:
            self._discard()
            raise
        finally:
            self._close()

    def refuse(self, status_code: int, reason: str) -> None:
        """Roll the work back, then record the refusal (or failure) on its own."""
        self._discard()
        self._close()
        with self._db.transaction() as session:
            record_event(session=session, draft=self.audit, status_code=status_code, reason=reason)

    def _discard(self) -> None:
        if self._session is not None:
            self._session.rollback()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
