"""The directory: what every request reads and what rarely changes (the participating
organisations, a deactivated one being as one never added, and the active suspensions),
kept in the process so that checking a caller costs no round trip to the database.

Correct, not merely fresh: migration 0015 keeps one `directory_version` row whose number
moves in the same transaction as any change to organisations, suspensions or trusted
issuers. Each request's unit of work reads that number in its first statement (the rate
count's upsert returns it; see `version_and_count`); when it has moved, the cache is
emptied, the registered issuers are re-read, and the caller is checked again inside the
same transaction before anything is done. So a suspension made on any instance stops the
user's very next request everywhere, and the common request reads nothing but the number.

Entries are loaded on first use. A load that overlaps an emptying is not kept (the
generation check), so a row read before a change is never cached under the number after it.

A unit of work that has read the number carries the directory (`attach`, on its
session's `info`): what it then reads of the directory (an authority's front door,
`organisations/front_door.py`) comes from the cache, current for that number. A session
that never read it (a command, the worker) reads the tables instead (`of_session`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar, cast

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, text
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from index_service.organisations.models import Organisation
from index_service.suspensions.models import Suspension


class DirectoryVersion(SQLModel, table=True):
    """One row (migration 0015): its number moves with every change to the directory."""

    __tablename__ = "directory_version"
    __table_args__ = (CheckConstraint("id", name="directory_version_id_check"),)

    id: bool = Field(sa_column=Column(Boolean, primary_key=True, server_default=text("true")))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


# The directory's number as a scalar subquery, to ride along in a statement of the work.
VERSION = sa_select(col(DirectoryVersion.version)).scalar_subquery()


@dataclass(frozen=True)
class OrganisationEntry:
    """What a request needs of the caller's organisation."""

    id: uuid.UUID
    code: str
    type: str
    local_authority: str


@dataclass(frozen=True)
class SuspensionEntry:
    kind: str
    issuer: str | None
    subject: str | None
    organisation_code: str | None


ORGANISATIONS_KEPT = 100_000  # England has some 40,000 participating organisations
KEPT = 10_000  # other entries (`Directory.kept`): one per local authority, some 400

T = TypeVar("T")
_SESSION_KEY = "index_service.directory"


class Directory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._generation = 0
        self._organisations: dict[str, OrganisationEntry | None] = {}
        self._suspensions: list[SuspensionEntry] | None = None
        self._kept: dict[Hashable, object] = {}

    @property
    def version(self) -> int | None:
        return self._version

    def observe(self, version: int) -> bool:
        """The directory's number as a unit of work read it. True if it moved since the
        cache was filled, or if it had none (the cache is then empty, and the caller must
        be checked again: what was read before this number is not known to be current)."""
        with self._lock:
            if self._version is not None and version <= self._version:
                return False  # the same, or an older read finishing late
            self._version = version
            self._generation += 1
            self._organisations.clear()
            self._suspensions = None
            self._kept.clear()
            return True

    def organisation(self, session: Session, code: str) -> OrganisationEntry | None:
        code = code.upper()
        with self._lock:
            if code in self._organisations:
                return self._organisations[code]
            generation = self._generation
        row = session.exec(select(Organisation).where(col(Organisation.code) == code)).first()
        # A deactivated organisation (migration 0016) is one that does not take part.
        entry = (
            OrganisationEntry(
                id=row.id, code=row.code, type=row.type, local_authority=row.local_authority
            )
            if row is not None and row.deactivated_at is None
            else None
        )
        with self._lock:
            if generation == self._generation:
                if len(self._organisations) >= ORGANISATIONS_KEPT:
                    self._organisations.clear()  # codes no token of ours would send, say
                self._organisations[code] = entry
        return entry

    def suspension(
        self, session: Session, *, issuer: str, subject: str, organisation_code: str
    ) -> SuspensionEntry | None:
        """The suspension that stops this user or their organisation, if any."""
        with self._lock:
            suspensions = self._suspensions
            generation = self._generation
        if suspensions is None:
            rows = session.exec(select(Suspension).where(col(Suspension.lifted_at).is_(None)))
            suspensions = [
                SuspensionEntry(
                    kind=r.kind,
                    issuer=r.issuer,
                    subject=r.subject,
                    organisation_code=r.organisation_code,
                )
                for r in rows
            ]
            with self._lock:
                if generation == self._generation:
                    self._suspensions = suspensions
        for s in suspensions:
            user = (s.issuer, s.subject) == (issuer, subject)
            if user or s.organisation_code == organisation_code:
                return s
        return None

    def kept(self, session: Session, key: Hashable, load: Callable[[Session], T]) -> T:
        """What `load` reads of the directory's tables on `session`, kept under `key`
        until the directory moves (a change to any organisation, suspension or issuer):
        the same generation check as the organisations'."""
        with self._lock:
            if key in self._kept:
                return cast(T, self._kept[key])
            generation = self._generation
        value = load(session)
        with self._lock:
            if generation == self._generation:
                if len(self._kept) >= KEPT:
                    self._kept.clear()
                self._kept[key] = value
        return value


def attach(session: Session, directory: Directory) -> None:
    """`session`'s unit of work has read the directory's number and `directory` has
    observed it: the cache is current for this work."""
    session.info[_SESSION_KEY] = directory


def of_session(session: Session) -> Directory | None:
    """The directory current for `session`'s work (`attach`), if any."""
    directory = session.info.get(_SESSION_KEY)
    return directory if isinstance(directory, Directory) else None


def current_version(session: Session) -> int:
    """The directory's number, for a unit of work whose route counts nothing."""
    return int(session.execute(sa_select(VERSION)).scalar_one())
