"""The registered issuers as the token verifier sees them: read from the database and
kept (their keys fetched only from public addresses, checked at every fetch:
`outbound.py`). A registration or withdrawal moves the directory's number (migration
0015), and the next request on every instance sees it move and invalidates this cache
before it acts (`api/security.py` `open_work`); `ttl` is only a fallback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlmodel import Session

from index_service.access.tokens import IssuerKeys
from index_service.database import Database
from index_service.issuers.models import TrustedIssuerRecord
from index_service.issuers.service import active_issuers

REFRESH_SECONDS = 300.0


class RegisteredIssuers:
    def __init__(
        self,
        database: Callable[[], Database | None],
        ttl: float = REFRESH_SECONDS,
        *,
        allow_private: bool = False,
    ):
        self._database = database
        self._allow_private = allow_private
        self._ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._generation = 0
        self._keys: dict[str, IssuerKeys] = {}

    def __call__(self, issuer: str) -> IssuerKeys | None:
        for _ in range(3):  # a read overtaken by an invalidation is read again
            with self._lock:
                if time.monotonic() - self._loaded_at <= self._ttl:
                    return self._keys.get(issuer)
                generation = self._generation
            # Read with no lock held: a thread that waits for this lock may hold a pooled
            # connection, and this read needs one.
            db = self._database()
            if db is None:
                break
            with db.transaction() as session:
                rows = active_issuers(session=session)
            self._replace(rows, generation)
        with self._lock:
            return self._keys.get(issuer)

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")
            self._generation += 1

    def reload(self, session: Session) -> None:
        """Read the registered issuers now, on `session` (a unit of work that holds its
        connection: no second one is taken). Keys are fetched later, as needed."""
        with self._lock:
            self._generation += 1  # what anyone read before this is older than this read
            generation = self._generation
        self._replace(active_issuers(session=session), generation)

    def _replace(self, rows: list[TrustedIssuerRecord], generation: int) -> None:
        """Keep `rows` unless the cache was invalidated or reloaded since they were read
        (an older read finishing last must not bring back a withdrawn issuer)."""
        with self._lock:
            if generation != self._generation:
                return
            self._replace_locked(rows)

    def _replace_locked(self, rows: list[TrustedIssuerRecord]) -> None:
        fresh: dict[str, IssuerKeys] = {}
        for row in rows:
            kept = self._keys.get(row.issuer)
            unchanged = kept is not None and kept.source == (row.jwks_url, row.organisations)
            fresh[row.issuer] = (
                kept
                if kept is not None and unchanged
                else IssuerKeys(
                    row.issuer,
                    url=row.jwks_url,
                    organisations=row.organisations,
                    vetted=not self._allow_private,
                )
            )
        self._keys = fresh
        self._loaded_at = time.monotonic()
