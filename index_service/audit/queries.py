"""Finding audit events for auditors: one filter, one scope clause (`access/scope.py`),
newest first, with an opaque keyset cursor."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Uuid, and_, exists, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlmodel import Session, col

from index_service.access.principal import Principal
from index_service.access.scope import audit_events_in_scope, children_audited
from index_service.audit.models import AuditEvent
from index_service.audit.schemas import (
    ActionCount,
    AuditEventPage,
    AuditEventPublic,
    ChildAccess,
    ChildAccessReport,
    Practitioner,
    PractitionerActivity,
)
from index_service.children.models import Child
from index_service.errors import InvalidInput, NotFound
from index_service.organisations.models import Organisation

MAX_PAGE = 500


@dataclass(frozen=True)
class EventFilter:
    child_id: uuid.UUID | None = None
    issuer: str | None = None
    subject: str | None = None
    organisation: str | None = None
    action: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        wanted: list[ColumnElement[bool]] = []
        if self.child_id is not None:
            wanted.append(naming(self.child_id))
        for column, value in (
            (AuditEvent.issuer, self.issuer),
            (AuditEvent.subject, self.subject),
            (AuditEvent.organisation, self.organisation),
            (AuditEvent.purpose, self.purpose),
            (AuditEvent.outcome, self.outcome),
        ):
            if value is not None:
                wanted.append(col(column) == value)
        if self.action is not None:
            wanted.append(_action_clause(self.action))
        if self.since is not None:
            wanted.append(col(AuditEvent.occurred_at) >= self.since)
        if self.until is not None:
            wanted.append(col(AuditEvent.occurred_at) < self.until)
        return wanted

    def as_detail(self) -> dict[str, str]:
        """The filter as the auditor's own audit event records it."""
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}


def naming(child_id: uuid.UUID) -> ColumnElement[bool]:
    """Events that name the child (the GIN index on child_ids answers `@>`)."""
    return col(AuditEvent.child_ids).op("@>")(pg_array([child_id], type_=Uuid))


def _action_clause(action: str) -> ColumnElement[bool]:
    """An exact action, or every action under a prefix ending in `*` (`child:*`)."""
    if action.endswith("*"):
        prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return col(AuditEvent.action).like(prefix + "%", escape="\\")
    return col(AuditEvent.action) == action


def selection(principal: Principal, wanted: EventFilter) -> Select[AuditEvent]:
    """The events `principal` may read that match `wanted`, newest first."""
    return (
        select(AuditEvent)
        .where(audit_events_in_scope(principal), *wanted.clauses())
        .order_by(col(AuditEvent.occurred_at).desc(), col(AuditEvent.id).desc())
    )


def encode_cursor(event: AuditEvent) -> str:
    raw = f"{event.occurred_at.isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, event_id = raw.split("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, uuid.UUID(event_id)
    except ValueError:
        raise InvalidInput("cursor is not one this service gave out", code="bad_cursor") from None


def page(
    *,
    session: Session,
    principal: Principal,
    wanted: EventFilter,
    limit: int,
    cursor: str | None,
) -> tuple[list[AuditEvent], str | None]:
    """One page of the selection and the cursor for the next, if there is one."""
    query = selection(principal, wanted)
    if cursor is not None:
        at, event_id = _decode_cursor(cursor)
        query = query.where(
            tuple_(col(AuditEvent.occurred_at), col(AuditEvent.id)) < tuple_(at, event_id)
        )
    rows = list(session.execute(query.limit(min(limit, MAX_PAGE) + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def stream(*, session: Session, principal: Principal, wanted: EventFilter) -> Iterator[AuditEvent]:
    """Every event of the selection, read through a server-side cursor in batches, so a
    large export never sits in memory."""
    options = {"stream_results": True, "yield_per": 1000}
    result = session.execute(selection(principal, wanted), execution_options=options)
    for event in result.scalars():
        yield event
        session.expunge(event)


def child_accesses(
    *,
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> ChildAccessReport:
    """Every request that named the child, newest first: who, when, from where, why, and
    what they were told. A child the auditor may not report on is not found (404)."""
    known = select(exists().where(col(Child.id) == child_id, children_audited(principal)))
    if not session.execute(known).scalar():
        raise NotFound("no such child in your audit scope", code="not_found")
    events, next_cursor = page(
        session=session,
        principal=principal,
        wanted=EventFilter(child_id=child_id),
        limit=limit,
        cursor=cursor,
    )
    names = organisation_names(session, {e.organisation for e in events if e.organisation})
    return ChildAccessReport(
        child_id=child_id,
        accesses=[
            ChildAccess(
                event_id=e.id,
                occurred_at=e.occurred_at,
                action=e.action,
                outcome=e.outcome,
                practitioner=Practitioner(
                    issuer=e.issuer,
                    subject=e.subject,
                    name=e.actor_name,
                    organisation=e.organisation,
                    organisation_name=names.get(e.organisation or ""),
                ),
                roles=e.roles,
                purpose=e.purpose,
                purpose_text=e.purpose_text,
                client_address=e.client_address,
                user_agent=e.user_agent,
                request_id=e.request_id,
            )
            for e in events
        ],
        next_cursor=next_cursor,
    )


def organisation_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    query = select(col(Organisation.code), col(Organisation.name)).where(
        col(Organisation.code).in_(sorted(codes))
    )
    return dict(session.execute(query).all())  # (a Result has keys(): not dict(result))


def practitioner_activity(
    *,
    session: Session,
    principal: Principal,
    wanted: EventFilter,
    limit: int,
    cursor: str | None,
) -> PractitionerActivity:
    """What one practitioner (issuer and subject) did in the window: counts by action and
    outcome, how many distinct children they named, and their events page by page."""
    scoped = and_(audit_events_in_scope(principal), *wanted.clauses())
    counts = session.execute(
        select(col(AuditEvent.action), col(AuditEvent.outcome), func.count())
        .where(scoped)
        .group_by(col(AuditEvent.action), col(AuditEvent.outcome))
        .order_by(col(AuditEvent.action), col(AuditEvent.outcome))
    )
    children = func.unnest(col(AuditEvent.child_ids)).label("child_id")
    named = select(children).where(scoped).subquery()
    distinct = session.execute(select(func.count(func.distinct(named.c.child_id)))).scalar_one()
    events, next_cursor = page(
        session=session, principal=principal, wanted=wanted, limit=limit, cursor=cursor
    )
    latest = events[0] if events else None
    assert wanted.since is not None
    assert wanted.until is not None
    return PractitionerActivity(
        practitioner=Practitioner(
            issuer=wanted.issuer,
            subject=wanted.subject,
            name=latest.actor_name if latest else None,
            organisation=latest.organisation if latest else None,
        ),
        since=wanted.since,
        until=wanted.until,
        counts=[ActionCount(action=a, outcome=o, count=n) for a, o, n in counts],
        distinct_children=int(distinct),
        events=AuditEventPage(
            items=[AuditEventPublic.model_validate(e) for e in events], next_cursor=next_cursor
        ),
    )


@dataclass(frozen=True)
class PersonFound:
    """Someone the trail shows acting: the identity (issuer, subject) the activity report
    takes, with the words an auditor knows them by."""

    issuer: str
    subject: str
    name: str | None
    organisation: str | None
    organisation_name: str | None
    events: int
    last_seen: datetime


PEOPLE_LISTED = 50


def _like(text_: str) -> str:
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_people(*, session: Session, principal: Principal, words: str) -> list[PersonFound]:
    """The people whose acts the auditor may read, found by what an auditor knows: part of
    their name, their organisation (code or name), or their email (the `email` claim of
    their token or sign-in, which `service.record_event` keeps with each of their events:
    an API user is found by it as well as a person who signed in to the pages). Never by
    the identity provider's URN. Within the same scope clause as every audit query; most
    recently seen first."""
    pattern = _like(words.strip())
    orgs = select(col(Organisation.code)).where(col(Organisation.name).ilike(pattern, escape="\\"))
    by_email = (
        select(col(AuditEvent.issuer), col(AuditEvent.subject))
        .where(AuditEvent.detail["email"].astext.ilike(pattern, escape="\\"))
        .distinct()
    )
    matched = or_(
        col(AuditEvent.actor_name).ilike(pattern, escape="\\"),
        col(AuditEvent.organisation).ilike(pattern, escape="\\"),
        col(AuditEvent.organisation).in_(orgs),
        tuple_(col(AuditEvent.issuer), col(AuditEvent.subject)).in_(by_email),
    )
    rows = session.execute(
        select(
            col(AuditEvent.issuer),
            col(AuditEvent.subject),
            func.max(col(AuditEvent.actor_name)),
            func.max(col(AuditEvent.organisation)),
            func.count(),
            func.max(col(AuditEvent.occurred_at)),
        )
        .where(
            audit_events_in_scope(principal),
            col(AuditEvent.issuer).is_not(None),
            col(AuditEvent.subject).is_not(None),
            matched,
        )
        .group_by(col(AuditEvent.issuer), col(AuditEvent.subject))
        .order_by(func.max(col(AuditEvent.occurred_at)).desc())
        .limit(PEOPLE_LISTED)
    ).all()
    names = organisation_names(session, {r[3] for r in rows if r[3]})
    return [
        PersonFound(
            issuer=issuer,
            subject=subject,
            name=name,
            organisation=organisation,
            organisation_name=names.get(organisation or ""),
            events=int(count),
            last_seen=last,
        )
        for issuer, subject, name, organisation, count, last in rows
    ]
