"""A subject access report: for one child, everything the index holds (the entry with every
field's provenance, every involvement and flag, ended ones too, the alerts about the
child, the merges it took part in) and who looked at it and why (every audit row naming
it). An unborn child's report has the expectant mother's part apart (`MotherPart`): her
identity as held (table `child_mother`), where it came from, and the enquiries about her
that found the plan. Produced by the data managers of the responsible authority, who see
the record in full even when shielded; a sensitive service still shows only as the notice
(`access/sensitive.py`), as it does to them everywhere else: the service itself answers
for what it holds. The same report feeds the API's JSON and the data manager's page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, col, or_, select

from index_service.access.objects import keeps_record_of
from index_service.access.principal import Principal
from index_service.access.scope import children_in_scope
from index_service.access.sensitive import (
    WITHHELD_ORGANISATION,
    WITHHELD_PRACTITIONER,
    names_alert_recipient,
    names_enquirers_organisation,
)
from index_service.alerts.models import Alert
from index_service.alerts.reasons import reason_text
from index_service.audit import queries
from index_service.audit.models import AuditEvent
from index_service.children import service
from index_service.children.models import Child, ChildMerge
from index_service.children.public import ChildFacts, flag_shown, involvement_shown
from index_service.children.schemas import ChildPublic, MotherPublic, Provenance
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, NotFound
from index_service.flags.models import Flag
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation

MAX_ACCESSES = 5000  # more than this is a case for the auditors' export


class InvolvementLine(BaseModel):
    organisation: str
    service: str | None = None
    practitioner: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    key_worker: bool = False
    lead_professional: bool = False
    sensitive: bool = False
    notice: str | None = None


class FlagLine(BaseModel):
    kind: str
    organisation: str
    raised_at: datetime
    review_date: date | None = None
    ended_at: datetime | None = None
    details: dict[str, object] | None = None
    sensitive: bool = False
    notice: str | None = None


class AlertLine(BaseModel):
    rule: str
    reason: str
    reason_text: str
    raised_at: datetime
    recipient: str
    acknowledged_at: datetime | None = None


class MergeLine(BaseModel):
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_at: datetime
    unmerged_at: datetime | None = None


class AccessLine(BaseModel):
    occurred_at: datetime
    action: str
    outcome: str
    name: str | None = None
    organisation: str | None = None
    purpose: str | None = None
    purpose_text: str | None = None


class MotherPart(BaseModel):
    """What the index holds about an unborn child's expectant mother, apart from the
    child's record so that it can be given to her on its own: her identity as held (to
    find the plan by an enquiry about her), who supplied it and when, and the enquiries
    about her that found the plan (who asked, when, why)."""

    identity: MotherPublic
    supplied_by: Provenance | None = None
    enquiries: list[AccessLine]


class SubjectAccessReport(BaseModel):
    child_id: uuid.UUID
    produced_at: datetime
    status: str
    archived_at: datetime | None = None
    legal_hold: bool
    record: ChildPublic
    involvements: list[InvolvementLine]
    flags: list[FlagLine]
    alerts: list[AlertLine]
    merges: list[MergeLine]
    accesses: list[AccessLine]
    accesses_truncated: bool = False
    mother: MotherPart | None = None


def report(
    *, session: Session, caller: Principal, child_id: uuid.UUID, action: str, request_id: str
) -> SubjectAccessReport:
    child = session.exec(
        select(Child).where(col(Child.id) == child_id).where(children_in_scope(caller))
    ).first()
    if child is None:
        raise NotFound("no such child")
    if not keeps_record_of(caller, responsible_authority=child.responsible_authority):
        raise Forbidden(
            "only the data managers of the responsible authority produce a subject access report",
            code="not_responsible_authority",
        )
    if child.merged_into is not None:
        raise Conflict(
            "this entry was merged: the report of the entry it was merged into holds it all",
            code="child_merged",
            merged_into=str(child.merged_into),
        )
    loaded = service.load_record(session=session, child_id=child_id, child=child)
    record = service.present(
        session=session, caller=caller, record=loaded, action=action, request_id=request_id
    )
    involvements = _with_organisation(session, Involvement, child_id, Involvement.start_date)
    # The lines of involvements and flags as the entry shows each to this viewer.
    facts = ChildFacts(
        record=loaded,
        viewer_organisation_id=caller.organisation_id,
        involvements=list(involvements),
        flags=list(_with_organisation(session, Flag, child_id, Flag.raised_at)),
    )
    events = list(
        session.exec(
            select(AuditEvent)
            .where(queries.naming(child_id))
            .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
            .limit(MAX_ACCESSES + 1)
        ).all()
    )
    accesses = _accesses(session, events[:MAX_ACCESSES])
    return SubjectAccessReport(
        child_id=child_id,
        produced_at=utcnow(),
        status=child.status,
        archived_at=child.archived_at,
        legal_hold=child.legal_hold_reason is not None,
        record=record,
        involvements=_involvements(facts),
        flags=_flags(facts),
        alerts=_alerts(session, caller, child_id, involvements),
        merges=_merges(session, child_id),
        accesses=[line for _, line in accesses],
        accesses_truncated=len(events) > MAX_ACCESSES,
        mother=_mother(record, accesses),
    )


def _mother(
    record: ChildPublic, accesses: list[tuple[AuditEvent, AccessLine]]
) -> MotherPart | None:
    """The expectant mother's part, for an unborn child whose record holds her."""
    if record.mother is None:
        return None
    return MotherPart(
        identity=record.mother,
        supplied_by=(record.provenance or {}).get("mother"),
        enquiries=[line for e, line in accesses if e.detail.get("about") == "expectant_mother"],
    )


_Row = TypeVar("_Row", bound=SQLModel)


def _with_organisation(
    session: Session, model: type[_Row], child_id: uuid.UUID, first: Any
) -> Sequence[tuple[_Row, Organisation]]:
    """The child's rows of `model` (involvements, flags), each with the organisation
    that holds it, in time order (`first`, then id)."""
    columns = inspect(model).columns
    return session.exec(
        select(model, Organisation)
        .join(Organisation, col(Organisation.id) == columns["organisation_id"])
        .where(columns["child_id"] == child_id)
        .order_by(col(first), columns["id"])
    ).all()


def _involvements(facts: ChildFacts) -> list[InvolvementLine]:
    lines = []
    for involvement, organisation in facts.involvements:
        shown = involvement_shown(facts, involvement, organisation)
        if shown.notice is not None:  # a sensitive service of another organisation
            lines.append(
                InvolvementLine(
                    organisation=WITHHELD_ORGANISATION,
                    end_date=involvement.end_date,
                    sensitive=True,
                    notice=shown.notice,
                )
            )
            continue
        lines.append(
            InvolvementLine(
                organisation=shown.organisation_name or organisation.name,
                service=shown.service,
                practitioner=shown.practitioner_name,
                start_date=shown.start_date,
                end_date=involvement.end_date,
                key_worker=bool(shown.is_key_worker),
                lead_professional=bool(shown.is_lead_professional),
            )
        )
    return lines


def _flags(facts: ChildFacts) -> list[FlagLine]:
    lines = []
    for flag, organisation in facts.flags:
        shown = flag_shown(facts, flag, organisation)
        lines.append(
            FlagLine(
                kind=shown.kind,
                organisation=WITHHELD_ORGANISATION if shown.sensitive else organisation.name,
                raised_at=shown.raised_at,
                review_date=shown.review_date,
                ended_at=shown.ended_at,
                details=None if shown.sensitive else dict(shown.details),
                sensitive=shown.sensitive,
                notice=shown.notice,
            )
        )
    return lines


def _alerts(
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    involvements: Sequence[tuple[Involvement, Organisation]],
) -> list[AlertLine]:
    """The alerts about the child as stored: each already shows its actor as the
    sensitive-service rules decided when it was raised. A recipient practitioner is named
    only where their involvement would be (`access/sensitive.names_alert_recipient`):
    R4 reaches a sensitive service's worker too."""
    rows = session.exec(
        select(Alert, Organisation)
        .outerjoin(Organisation, col(Organisation.id) == col(Alert.recipient_organisation_id))
        .where(col(Alert.child_id) == child_id)
        .order_by(col(Alert.occurred_at), col(Alert.id))
    ).all()
    marked = {i.organisation_id for i, _ in involvements if i.sensitive}
    lines = []
    for alert, organisation in rows:
        recipient = alert.recipient_name or alert.recipient_team or "a team inbox"
        if alert.recipient_name and not names_alert_recipient(
            organisation_type=organisation.type if organisation else "",
            sensitive_with_child=alert.recipient_organisation_id in marked,
            owner_is_viewer=alert.recipient_organisation_id == caller.organisation_id,
        ):
            recipient = WITHHELD_PRACTITIONER
        lines.append(
            AlertLine(
                rule=alert.rule,
                reason=alert.reason,
                reason_text=reason_text(alert.reason, actor_sensitive=alert.actor_sensitive),
                raised_at=alert.occurred_at,
                recipient=recipient,
                acknowledged_at=alert.acknowledged_at,
            )
        )
    return lines


def _merges(session: Session, child_id: uuid.UUID) -> list[MergeLine]:
    rows = session.exec(
        select(ChildMerge)
        .where(or_(col(ChildMerge.survivor_id) == child_id, col(ChildMerge.merged_id) == child_id))
        .order_by(col(ChildMerge.merged_at))
    ).all()
    return [
        MergeLine(
            merge_id=m.id,
            survivor_id=m.survivor_id,
            merged_id=m.merged_id,
            merged_at=m.merged_at,
            unmerged_at=m.unmerged_at,
        )
        for m in rows
    ]


def _accesses(session: Session, events: list[AuditEvent]) -> list[tuple[AuditEvent, AccessLine]]:
    """Who looked and why. A sensitive service's organisation is not named, nor its own
    words of purpose (`access/sensitive.names_enquirers_organisation`)."""
    codes = sorted({e.organisation for e in events if e.organisation})
    kinds = (
        dict(
            session.exec(
                select(col(Organisation.code), col(Organisation.type)).where(
                    col(Organisation.code).in_(codes)
                )
            ).all()
        )
        if codes
        else {}
    )
    names = queries.organisation_names(session, set(codes))
    lines = []
    for e in events:
        named = names_enquirers_organisation(kinds.get(e.organisation or "", ""))
        lines.append(
            (
                e,
                AccessLine(
                    occurred_at=e.occurred_at,
                    action=e.action,
                    outcome=e.outcome,
                    name=e.actor_name,
                    organisation=(names.get(e.organisation or "") or e.organisation)
                    if named
                    else WITHHELD_ORGANISATION,
                    purpose=e.purpose,
                    purpose_text=e.purpose_text if named else None,
                ),
            )
        )
    return lines
