"""The auditors' reports, read from the audit trail (and, for shielded records and
alerts, from the records the requests kept): one child's accesses, one practitioner's
activity, and the misuse reports. Every query is narrowed by the same scope clause the
event search uses (`access/scope.py`)."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    any_,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from index_service.access.opening import opened_anything, opened_children_table, opened_in
from index_service.access.principal import Principal
from index_service.access.scope import (
    alerts_audited,
    audit_events_in_scope,
    children_of_authority,
)
from index_service.alerts.calendar import LONDON, bank_holidays_between, is_working_day
from index_service.alerts.models import Alert
from index_service.audit.models import AuditEvent, Outcome
from index_service.audit.schemas import MisuseCase, MisuseReportName, Practitioner
from index_service.children.models import Child, ShieldedAccess
from index_service.common import utcnow
from index_service.errors import InvalidInput
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation

ENQUIRY = "child:enquiry:create"
ENQUIRY_OPEN = "child:enquiry:open"
SUCCEEDED = col(AuditEvent.outcome) == Outcome.SUCCESS.value
# A successful request under the child scope that named children: a look.
ACCESSED = and_(
    SUCCEEDED,
    col(AuditEvent.action).like("child:%"),
    func.cardinality(col(AuditEvent.child_ids)) > 0,
)
# A look that showed a child's record (access/opening.py: the one definition).
OPENED = opened_anything()


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    def over(self, column: object) -> ColumnElement[bool]:
        return and_(col(column) >= self.since, col(column) < self.until)


DEFAULT_WINDOW = timedelta(days=30)
MAX_WINDOW = timedelta(days=366)


def window_between(since: datetime | None, until: datetime | None) -> Window:
    """A report's window: `until` (default now) back to `since` (default 30 days before),
    at most 366 days, in aware times."""
    if any(t is not None and t.tzinfo is None for t in (since, until)):
        raise InvalidInput("times must carry a time zone (e.g. Z)", code="naive_time")
    end = until or utcnow()
    start = since or end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput("since must be before until", code="empty_window")
    if end - start > MAX_WINDOW:
        raise InvalidInput("a report covers at most 366 days", code="window_too_long")
    return Window(since=start, until=end)


@dataclass(frozen=True)
class ReportRules:
    """The thresholds the reports apply (from settings)."""

    working_hours: tuple[int, int]
    distinct_children_per_hour: int
    now: datetime


def practitioner_of(event: AuditEvent) -> Practitioner:
    return Practitioner(
        issuer=event.issuer,
        subject=event.subject,
        name=event.actor_name,
        organisation=event.organisation,
    )


def _events(
    session: Session, principal: Principal, *where: ColumnElement[bool]
) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(audit_events_in_scope(principal), *where)
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.seq))
    )
    return list(session.execute(query).scalars())


def _case(event: AuditEvent, note: str, children: Iterable[uuid.UUID] | None = None) -> MisuseCase:
    return MisuseCase(
        occurred_at=event.occurred_at,
        practitioner=practitioner_of(event),
        child_ids=list(event.child_ids if children is None else children),
        event_id=event.id,
        action=event.action,
        note=note,
    )


def misuse_report(
    *,
    session: Session,
    principal: Principal,
    report: MisuseReportName,
    window: Window,
    rules: ReportRules,
) -> list[MisuseCase]:
    finders = {
        MisuseReportName.SHIELDED_ACCESSES: shielded_accesses,
        MisuseReportName.FRUITLESS_SEARCHES: fruitless_searches,
        MisuseReportName.OUT_OF_HOURS: out_of_hours,
        MisuseReportName.OUT_OF_AREA: out_of_area,
        MisuseReportName.MANY_CHILDREN: many_children,
        MisuseReportName.OVERDUE_ALERTS: overdue_alerts,
    }
    return finders[report](session=session, principal=principal, window=window, rules=rules)


def shielded_accesses(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Looks at shielded records by anyone but their authority's data managers, as the
    request recorded them (`shielded_access`), with the audit event of that request."""
    query = (
        select(ShieldedAccess, AuditEvent)
        .join(
            AuditEvent,
            and_(
                col(AuditEvent.request_id) == col(ShieldedAccess.request_id),
                col(ShieldedAccess.child_id) == any_(col(AuditEvent.child_ids)),
            ),
        )
        .where(window.over(ShieldedAccess.accessed_at), audit_events_in_scope(principal))
        .order_by(col(ShieldedAccess.accessed_at))
    )
    return [
        _case(
            event,
            f"shielded record of {access.responsible_authority} reached by {access.action}",
            [access.child_id],
        )
        for access, event in session.execute(query)
    ]


def fruitless_searches(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Enquiries that led nowhere: nobody found, or possible matches none of which the
    enquirer went on to open."""
    outcome = AuditEvent.detail["outcome"].astext
    later = aliased(AuditEvent)
    opened = exists().where(
        col(later.action) == ENQUIRY_OPEN,
        col(later.outcome) == Outcome.SUCCESS.value,
        later.detail["enquiry_id"].astext == AuditEvent.detail["enquiry_id"].astext,
    )
    events = _events(
        session,
        principal,
        window.over(AuditEvent.occurred_at),
        col(AuditEvent.action) == ENQUIRY,
        SUCCEEDED,
        or_(outcome == "not_found", and_(outcome == "possible_matches", not_(opened))),
    )
    return [
        _case(
            e,
            "nobody found"
            if e.detail.get("outcome") == "not_found"
            else "possible matches shown, none opened",
        )
        for e in events
    ]


def out_of_hours(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Looks outside working hours on the London clock: before the start, from the end,
    at weekends and on England's bank holidays."""
    start, end = rules.working_hours
    london = func.timezone("Europe/London", col(AuditEvent.occurred_at))
    holidays = bank_holidays_between(window.since.date(), window.until.date())
    outside = or_(
        func.extract("isodow", london) >= 6,
        func.extract("hour", london) < start,
        func.extract("hour", london) >= end,
        func.date(london).in_(holidays) if holidays else false(),
    )
    cases = []
    found = _events(session, principal, window.over(AuditEvent.occurred_at), ACCESSED, outside)
    for event in found:
        local = event.occurred_at.astimezone(LONDON)
        if not is_working_day(local.date()):
            cases.append(_case(event, f"{local:%A %d %B %H:%M} London time, not a working day"))
        elif not start <= local.hour < end:
            cases.append(_case(event, f"{local:%H:%M} London time, outside {start}:00-{end}:00"))
    return cases


def out_of_area(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Children opened by someone whose organisation's authority neither is responsible
    for them nor is where they live, when that organisation has recorded no involvement
    with them (before or since)."""
    named = opened_children_table()
    child_id = cast(named.c.child_id, PG_UUID)
    # Each subquery correlates with the outer query explicitly: nested, it would not.
    belongs = (
        exists()
        .where(col(Child.id) == child_id, children_of_authority(col(Organisation.local_authority)))
        .correlate_except(Child)
    )
    involved = (
        exists()
        .where(
            col(Involvement.child_id) == child_id,
            col(Involvement.organisation_id) == col(Organisation.id),
        )
        .correlate_except(Involvement)
    )
    query = (
        select(AuditEvent, child_id, col(Organisation.local_authority))
        .select_from(AuditEvent)
        .join(named, true())
        .join(Organisation, col(Organisation.code) == col(AuditEvent.organisation))
        .where(
            audit_events_in_scope(principal),
            window.over(AuditEvent.occurred_at),
            OPENED,
            not_(belongs),
            not_(involved),
        )
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.seq))
    )
    unexplained: dict[uuid.UUID, tuple[AuditEvent, str, list[uuid.UUID]]] = {}
    for event, child, home in session.execute(query).all():
        unexplained.setdefault(event.id, (event, home, []))[2].append(child)
    return [
        _case(event, f"outside {home}, no involvement recorded", children)
        for event, home, children in unexplained.values()
    ]


def many_children(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Users who opened more distinct children than the threshold inside any one hour:
    one case per user, at the hour their count peaked."""
    threshold = rules.distinct_children_per_hour
    looks = (audit_events_in_scope(principal), window.over(AuditEvent.occurred_at), OPENED)
    # Only a user with more distinct children than the threshold in the whole window can
    # have had that many in one hour: the database narrows to them before any is loaded.
    named = opened_children_table()
    heavy = (
        select(col(AuditEvent.issuer), col(AuditEvent.subject))
        .select_from(AuditEvent)
        .join(named, true())
        .where(*looks)
        .group_by(col(AuditEvent.issuer), col(AuditEvent.subject))
        .having(func.count(func.distinct(named.c.child_id)) > threshold)
    )
    users = tuple_(col(AuditEvent.issuer), col(AuditEvent.subject)).in_(heavy)
    by_user: dict[tuple[str | None, str | None], list[AuditEvent]] = {}
    for event in _events(session, principal, *looks[1:], users):
        by_user.setdefault((event.issuer, event.subject), []).append(event)
    cases = []
    for events in by_user.values():
        peak, at = _peak_hour(events)
        if peak > threshold:
            cases.append(
                _case(
                    at,
                    f"{peak} distinct children opened in the hour to {at.occurred_at:%H:%M} "
                    f"UTC (threshold {threshold})",
                    [],
                )
            )
    return sorted(cases, key=lambda c: c.occurred_at)


def _peak_hour(events: list[AuditEvent]) -> tuple[int, AuditEvent]:
    """The most distinct children in any hour ending at one of `events` (in time order)."""
    hour = timedelta(hours=1)
    inside: deque[AuditEvent] = deque()
    counts: Counter[uuid.UUID] = Counter()
    best, best_at = 0, events[0]
    for event in events:
        inside.append(event)
        counts.update(opened_in(event))
        while inside[0].occurred_at <= event.occurred_at - hour:
            counts.subtract(opened_in(inside.popleft()))
        distinct = sum(1 for n in counts.values() if n > 0)
        if distinct > best:
            best, best_at = distinct, event
    return best, best_at


def overdue_alerts(
    *, session: Session, principal: Principal, window: Window, rules: ReportRules
) -> list[MisuseCase]:
    """Alerts not acknowledged by the time they were due (whether or not since)."""
    late = or_(
        col(Alert.acknowledged_at).is_(None) & (col(Alert.due_at) < rules.now),
        col(Alert.acknowledged_at) > col(Alert.due_at),
    )
    query = (
        select(Alert)
        .where(col(Alert.due_at).is_not(None), window.over(Alert.due_at), late)
        .where(alerts_audited(principal))
        .order_by(col(Alert.due_at))
    )
    cases = []
    for alert in session.execute(query).scalars():
        assert alert.due_at is not None
        when = (
            "not acknowledged"
            if alert.acknowledged_at is None
            else f"acknowledged {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC"
        )
        cases.append(
            MisuseCase(
                occurred_at=alert.due_at,
                practitioner=Practitioner(
                    issuer=alert.recipient_issuer,
                    subject=alert.recipient_subject,
                    name=alert.recipient_name or alert.recipient_team,
                    organisation=None,
                ),
                child_ids=[alert.child_id] if alert.child_id else [],
                alert_id=alert.id,
                note=f"{alert.rule} alert due {alert.due_at:%Y-%m-%d %H:%M} UTC, {when}",
            )
        )
    return cases
