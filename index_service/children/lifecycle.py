"""Merging two entries found to be one child, undoing it, and legal holds.

A merge moves everything about the child onto the survivor (names, addresses, carers,
missing identifiers, involvements, flags, alerts, the enquiries that found the other
entry) and leaves the other entry `merged`, pointing at the survivor. Before it moves
anything it stores both entries as they were, row by row with their ids, in a
`child_merge` row: an unmerge puts exactly those rows back, so undoing is not a guess
about which name came from where. Both are optimistic (If-Match), and both return the
field diff for the audit row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, update
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlmodel import Session, col, delete, select

from index_service.access.objects import keeps_record_of, may_hold
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.access.scope import children_held, children_in_scope
from index_service.alerts import flows as alert_flows
from index_service.alerts.models import Alert
from index_service.alerts.service import AlertTiming
from index_service.children import service
from index_service.children.holds import HOLD_FIELDS, carry_hold, hold_changed, hold_of
from index_service.children.models import (
    DIFF_FIELDS,
    Carer,
    Child,
    ChildAddress,
    ChildMerge,
    ChildMother,
    ChildName,
    ChildStatus,
    NameKind,
    NhsNumberStatus,
    ShieldedAccess,
)
from index_service.children.service import ChildRecord, is_unborn, load_record
from index_service.common import utcnow
from index_service.enquiries.models import Enquiry
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from index_service.flags.models import Flag
from index_service.involvements.models import Involvement
from index_service.matching.frequencies import record_change, tokens_of

# The rows that follow the child to the survivor, and back on an unmerge.
_FOLLOWERS: dict[str, Any] = {
    "involvements": Involvement,
    "flags": Flag,
    "alerts": Alert,
    "shielded_access": ShieldedAccess,
}
# Identifiers the survivor takes when it has none; two different values are two children.
_IDENTIFIERS = ("nhs_number", "upn", "la_reference")


@dataclass
class MergeOutcome:
    merge: ChildMerge
    survivor: ChildRecord
    merged: ChildRecord
    changes: dict[str, dict[str, dict[str, Any]]]  # entry id -> field -> before/after


def fields_of(record: ChildRecord) -> dict[str, Any]:
    """The entry's compared fields as JSON values (the diff's and the tests' view)."""
    return service.fields_of(record, DIFF_FIELDS)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before[name], "after": after[name]}
        for name in sorted(before)
        if before[name] != after[name]
    }


def locked(
    session: Session, caller: Principal, child_id: uuid.UUID, expected_version: int | None
) -> Child:
    """The child, in the caller's scope, locked; a stale version is 412."""
    child = session.exec(
        select(Child)
        .where(col(Child.id) == child_id)
        .where(children_in_scope(caller))
        .with_for_update(of=Child)
    ).first()
    if child is None:
        raise NotFound("no such child")
    if expected_version is not None and child.version != expected_version:
        raise PreconditionFailed(
            f"you sent version {expected_version}; the record is now at version "
            f"{child.version}. Read it again.",
            current_version=child.version,
        )
    return child


def _require_keeps(caller: Principal, *children: Child) -> None:
    for child in children:
        if not keeps_record_of(caller, responsible_authority=child.responsible_authority):
            raise Forbidden(
                "only the data managers of the responsible authority merge and unmerge its entries",
                code="not_responsible_authority",
            )


def _dump(record: ChildRecord) -> dict[str, Any]:
    return {
        "child": record.child.model_dump(mode="json"),
        "names": [r.model_dump(mode="json") for r in record.names],
        "addresses": [r.model_dump(mode="json") for r in record.addresses],
        "carers": [r.model_dump(mode="json") for r in record.carers],
        "mother": record.mother.model_dump(mode="json") if record.mother else None,
    }


def _follower_ids(session: Session, child_id: uuid.UUID) -> dict[str, list[str]]:
    return {
        name: [
            str(i) for i in session.exec(select(model.id).where(model.child_id == child_id)).all()
        ]
        for name, model in _FOLLOWERS.items()
    }


def _enquiries_naming(session: Session, child_id: uuid.UUID) -> list[Enquiry]:
    """The enquiries that showed the entry (`@>`, answered by the GIN index)."""
    shown = col(Enquiry.candidate_ids).op("@>")(pg_array([child_id], type_=Uuid))
    return list(session.exec(select(Enquiry).where(shown).with_for_update(of=Enquiry)).all())


def merge(
    *,
    session: Session,
    caller: Principal,
    survivor_id: uuid.UUID,
    survivor_version: int,
    merged_id: uuid.UUID,
    merged_version: int,
) -> MergeOutcome:
    """Merge `merged_id` into `survivor_id` (see the module's docstring)."""
    if survivor_id == merged_id:
        raise InvalidInput("an entry cannot be merged into itself", code="same_entry")
    # Lock in id order, so two merges of the same pair never deadlock.
    versions = {survivor_id: survivor_version, merged_id: merged_version}
    rows = {i: locked(session, caller, i, versions[i]) for i in sorted(versions, key=str)}
    survivor, other = rows[survivor_id], rows[merged_id]
    _require_keeps(caller, survivor, other)
    for child in (survivor, other):
        if child.status != ChildStatus.ACTIVE.value:
            raise Conflict(
                f"only active entries are merged; {child.id} is {child.status}",
                code="not_active",
            )
    for name in _IDENTIFIERS:
        mine, theirs = getattr(survivor, name), getattr(other, name)
        if mine is not None and theirs is not None and mine != theirs:
            raise Conflict(
                f"the entries have different {name} values: they are not one child as "
                "recorded; correct the wrong one first",
                code="identifiers_conflict",
                field=name,
            )
    kept = load_record(session=session, child_id=survivor.id)
    gone = load_record(session=session, child_id=other.id)
    before = {survivor.id: fields_of(kept), other.id: fields_of(gone)}
    enquiries = _enquiries_naming(session, other.id)
    snapshot = {
        "survivor": _dump(kept),
        "merged": _dump(gone),
        "moved": _follower_ids(session, other.id),
        "enquiries": {str(e.id): [str(c) for c in e.candidate_ids] for e in enquiries},
    }
    now = utcnow()
    counted = tokens_of(session, [survivor.id, other.id])
    _take_over(session, kept, gone, now)
    # The names and addresses the survivor held already are deleted from the other.
    record_change(session, removed=counted, added=tokens_of(session, [survivor.id, other.id]))
    # The survivor's hold as the merge left it: an undo gives each entry back its own
    # hold unless this one was set or lifted since (`unmerge`).
    snapshot["survivor_hold"] = hold_of(survivor)
    for model in _FOLLOWERS.values():
        session.execute(
            update(model).where(model.child_id == other.id).values(child_id=survivor.id)
        )
    for enquiry in enquiries:
        replaced = [survivor.id if c == other.id else c for c in enquiry.candidate_ids]
        enquiry.candidate_ids = list(dict.fromkeys(replaced))
        session.add(enquiry)
    other.status = ChildStatus.MERGED.value
    other.merged_into = survivor.id
    for child in (survivor, other):
        child.version += 1
        child.updated_at = now
        session.add(child)
    session.flush()
    record = ChildMerge(
        survivor_id=survivor.id,
        merged_id=other.id,
        snapshot=snapshot,
        survivor_version=survivor.version,
        merged_at=now,
        merged_by=caller.actor,
    )
    session.add(record)
    session.flush()
    return _outcome(session, record, before)


def _outcome(
    session: Session, record: ChildMerge, before: dict[uuid.UUID, dict[str, Any]]
) -> MergeOutcome:
    """Both entries as the merge or unmerge left them, and each one's field diff."""
    kept = load_record(session=session, child_id=record.survivor_id)
    other = load_record(session=session, child_id=record.merged_id)
    changes = {
        str(kept.child.id): _diff(before[kept.child.id], fields_of(kept)),
        str(other.child.id): _diff(before[other.child.id], fields_of(other)),
    }
    return MergeOutcome(merge=record, survivor=kept, merged=other, changes=changes)


def _same_name(a: ChildName, b: ChildName) -> bool:
    return (a.given_key, a.family_key) == (b.given_key, b.family_key)


def _same_address(a: ChildAddress, b: ChildAddress) -> bool:
    keys = ("line1", "line2", "postcode", "uprn", "from_date", "to_date")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _take_over(session: Session, kept: ChildRecord, gone: ChildRecord, now: datetime) -> None:
    """The survivor takes the other entry's names (its legal name becomes an alias: the
    survivor's stays the legal one), addresses and carers, each unless it holds the same
    already; its missing identifiers, GP and school; and the shield, if either had it.
    Provenance follows each field taken. A legal hold on the other entry moves to the
    survivor (`children/holds.py`)."""
    survivor, other = kept.child, gone.child
    position = len(kept.names)
    for row in gone.names:
        if any(_same_name(row, mine) for mine in kept.names):
            session.delete(row)
            continue
        row.child_id, row.position = survivor.id, position
        row.date_of_birth = survivor.date_of_birth
        if row.kind == NameKind.LEGAL.value:
            row.kind = NameKind.ALIAS.value
        position += 1
        session.add(row)
    for address in gone.addresses:
        if any(_same_address(address, mine) for mine in kept.addresses):
            session.delete(address)
        else:
            address.child_id = survivor.id
            session.add(address)
    position = len(kept.carers)
    for carer in gone.carers:
        if any((carer.name, carer.relationship) == (c.name, c.relationship) for c in kept.carers):
            session.delete(carer)
        else:
            carer.child_id, carer.position = survivor.id, position
            position += 1
            session.add(carer)
    taken: list[str] = ["names", "addresses", "carers"]
    if gone.mother is not None and kept.mother is None and is_unborn(survivor):
        # An unborn child's expectant mother: how an enquiry finds the plan.
        gone.mother.child_id = survivor.id
        session.add(gone.mother)
        taken.append("mother")
    for name in _IDENTIFIERS:
        if getattr(survivor, name) is None and getattr(other, name) is not None:
            setattr(survivor, name, getattr(other, name))
            taken.append(name)
    # The number's verification goes with it: one entry's trace holds for the other's
    # same number (a verified number decides a match; an unverified one does not).
    if (
        other.nhs_number is not None
        and survivor.nhs_number == other.nhs_number
        and survivor.nhs_number_status == NhsNumberStatus.UNVERIFIED.value
        and other.nhs_number_status != NhsNumberStatus.UNVERIFIED.value
    ):
        survivor.nhs_number_status = other.nhs_number_status
        taken.append("nhs_number_status")
    if survivor.carers_status == "unknown" and other.carers_status != "unknown":
        survivor.carers_status = other.carers_status
    if survivor.gp_status == "unknown" and other.gp_status != "unknown":
        survivor.gp_status, survivor.gp_ods_code, survivor.gp_phone = (
            other.gp_status,
            other.gp_ods_code,
            other.gp_phone,
        )
        taken.append("gp_practice")
    if survivor.education_status == "unknown" and other.education_status != "unknown":
        survivor.education_status, survivor.school_urn, survivor.school_phone = (
            other.education_status,
            other.school_urn,
            other.school_phone,
        )
        taken.append("education")
    survivor.shielded = survivor.shielded or other.shielded
    carry_hold(to=survivor, source=other)  # destroyed together: held together
    provenance = dict(survivor.provenance)
    for name in taken:
        if name in other.provenance and (name not in provenance or name in _IDENTIFIERS):
            provenance[name] = other.provenance[name]
    survivor.provenance = provenance
    session.flush()


def unmerge(
    *,
    session: Session,
    caller: Principal,
    survivor_id: uuid.UUID,
    merge_id: uuid.UUID,
    survivor_version: int,
) -> MergeOutcome:
    """Put both entries back exactly as the merge found them, from its stored record:
    their rows (with their ids), and the involvements, flags, alerts and enquiries that
    moved. Refused if the survivor was changed after the merge (409
    `changed_since_merge`), as the restore would silently drop that change. The merged
    entry gets back the legal hold it had; the survivor too, unless its hold was set or
    lifted since the merge (then it keeps it as it is)."""
    record = session.exec(
        select(ChildMerge)
        .where(col(ChildMerge.id) == merge_id, col(ChildMerge.survivor_id) == survivor_id)
        .with_for_update()
    ).first()
    survivor = locked(session, caller, survivor_id, survivor_version)
    if record is None or record.unmerged_at is not None:
        raise NotFound("no such merge of this entry to undo")
    other = session.exec(
        select(Child).where(col(Child.id) == record.merged_id).with_for_update()
    ).one()
    _require_keeps(caller, survivor, other)
    if survivor.version != record.survivor_version or other.merged_into != survivor.id:
        raise Conflict(
            "the entry was changed after the merge; undo those changes first, so that "
            "nothing is lost when both entries are put back as they were",
            code="changed_since_merge",
        )
    snapshot = record.snapshot
    before = {
        survivor.id: fields_of(load_record(session=session, child_id=survivor.id)),
        other.id: fields_of(load_record(session=session, child_id=other.id)),
    }
    # A merge taken before merges carried holds has no `survivor_hold`: the survivor's
    # hold is kept as it is, and the merged entry's was never moved.
    survivor_hold_as_merged = snapshot.get("survivor_hold") == hold_of(survivor)
    counted = tokens_of(session, [survivor.id, other.id])
    for child in (survivor, other):
        for model in (ChildName, ChildAddress, Carer, ChildMother):
            session.exec(delete(model).where(col(model.child_id) == child.id))
    session.flush()
    now = utcnow()
    for key, child, with_hold in (
        ("survivor", survivor, survivor_hold_as_merged),
        ("merged", other, True),
    ):
        _restore(session, child, snapshot[key], now, with_hold=with_hold)
    # The names and addresses the merge deleted as repeated are back.
    record_change(session, removed=counted, added=tokens_of(session, [survivor.id, other.id]))
    for name, model in _FOLLOWERS.items():
        ids = [uuid.UUID(i) for i in snapshot["moved"][name]]
        if ids:
            session.execute(update(model).where(col(model.id).in_(ids)).values(child_id=other.id))
    for enquiry_id, candidates in snapshot["enquiries"].items():
        session.execute(
            update(Enquiry)
            .where(col(Enquiry.id) == uuid.UUID(enquiry_id))
            .values(candidate_ids=[uuid.UUID(c) for c in candidates])
        )
    record.unmerged_at, record.unmerged_by = now, caller.actor
    record.snapshot = {}  # no second copy of the child's data is kept once it is back
    session.add(record)
    session.flush()
    return _outcome(session, record, before)


# Not put back: the row's identity and version.
_KEPT_ON_RESTORE = frozenset({"id", "version", "updated_at", "created_at"})


def _restore(
    session: Session, child: Child, saved: dict[str, Any], now: datetime, *, with_hold: bool
) -> None:
    """The entry's row as saved (but a newer version, so every earlier ETag is stale),
    and its names, addresses and carers as they were, with their ids; its legal hold as
    saved too if `with_hold`, else as it is now."""
    row = Child.model_validate(saved["child"])
    kept = _KEPT_ON_RESTORE if with_hold else _KEPT_ON_RESTORE | HOLD_FIELDS
    for name in Child.model_fields:
        if name not in kept:
            setattr(child, name, getattr(row, name))
    child.version += 1
    child.updated_at = now
    session.add(child)
    session.flush()
    for model, key in ((ChildName, "names"), (ChildAddress, "addresses"), (Carer, "carers")):
        for data in saved[key]:
            session.add(model.model_validate(data))
    if saved.get("mother"):  # snapshots taken before mothers were kept have none
        session.add(ChildMother.model_validate(saved["mother"]))
    session.flush()


def merge_telling_workers(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose | None,
    timing: AlertTiming,
    survivor_id: uuid.UUID,
    survivor_version: int,
    merged_id: uuid.UUID,
    merged_version: int,
) -> tuple[MergeOutcome, list[Alert]]:
    """`merge`, then R4 to every current worker of the child: what the API's POST
    `.../merges` and the data manager's merge page both do."""
    outcome = merge(
        session=session,
        caller=caller,
        survivor_id=survivor_id,
        survivor_version=survivor_version,
        merged_id=merged_id,
        merged_version=merged_version,
    )
    raised = alert_flows.after_lifecycle(
        session=session,
        occasion=alert_flows.occasion_of(caller=caller, purpose=purpose),
        child_id=survivor_id,
        reason="records_merged",
        about=outcome.merge.id,
        timing=timing,
    )
    return outcome, raised


def unmerge_telling_workers(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose | None,
    timing: AlertTiming,
    survivor_id: uuid.UUID,
    merge_id: uuid.UUID,
    survivor_version: int,
) -> tuple[MergeOutcome, list[Alert]]:
    """`unmerge`, then R4 to both entries' current workers: what the API's POST
    `.../undo` and the data manager's page both do."""
    outcome = unmerge(
        session=session,
        caller=caller,
        survivor_id=survivor_id,
        merge_id=merge_id,
        survivor_version=survivor_version,
    )
    occasion = alert_flows.occasion_of(caller=caller, purpose=purpose)
    raised: list[Alert] = []
    for entry in (outcome.survivor.child.id, outcome.merged.child.id):
        raised += alert_flows.after_lifecycle(
            session=session,
            occasion=occasion,
            child_id=entry,
            reason="records_unmerged",
            about=merge_id,
            timing=timing,
        )
    return outcome, raised


def merges_into(*, session: Session, caller: Principal, survivor_id: uuid.UUID) -> list[ChildMerge]:
    """The merges into this entry, newest first, as the data manager's record page lists
    them (each can be undone from there). Nothing of another authority's entry."""
    return list(
        session.exec(
            select(ChildMerge)
            .join(Child, col(Child.id) == col(ChildMerge.survivor_id))
            .where(col(ChildMerge.survivor_id) == survivor_id)
            .where(children_in_scope(caller))
            .order_by(col(ChildMerge.merged_at).desc())
        ).all()
    )


def merge_of(
    *, session: Session, caller: Principal, survivor_id: uuid.UUID, merge_id: uuid.UUID
) -> ChildMerge:
    """One merge into this entry (404 if it is none, or not in the caller's scope)."""
    found = session.exec(
        select(ChildMerge)
        .join(Child, col(Child.id) == col(ChildMerge.survivor_id))
        .where(col(ChildMerge.id) == merge_id, col(ChildMerge.survivor_id) == survivor_id)
        .where(children_in_scope(caller))
    ).first()
    if found is None:
        raise NotFound("no such merge of this entry")
    return found


def held_child(
    *, session: Session, caller: Principal, child_id: uuid.UUID, lock: bool = False
) -> Child:
    """The entry whose legal hold the caller may read, set or lift (404 outside their
    reach, 403 if not theirs to hold, 409 if merged: hold the survivor)."""
    query = select(Child).where(col(Child.id) == child_id).where(children_held(caller))
    child = session.exec(query.with_for_update(of=Child) if lock else query).first()
    if child is None:
        raise NotFound("no such child")
    if not may_hold(caller, responsible_authority=child.responsible_authority):
        raise Forbidden(
            "only the responsible authority's data managers and auditors, or a national "
            "auditor, set or lift a legal hold",
            code="not_responsible_authority",
        )
    if child.status == ChildStatus.MERGED.value:
        raise Conflict(
            "this entry was merged: hold the entry it was merged into",
            code="child_merged",
            merged_into=str(child.merged_into),
        )
    return child


def set_legal_hold(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    reason: str | None,
    expected_version: int | None = None,
) -> Child:
    """Set (with its reason) or lift (`reason` None) a legal hold: while it holds, the
    entry is not destroyed, whatever its age. Setting it again replaces the reason. A
    change of the entry like any other: `expected_version` (the If-Match of a request;
    a stale one is 412, so a concurrent change is not lost) and a new version."""
    child = held_child(session=session, caller=caller, child_id=child_id, lock=True)
    if expected_version is not None and child.version != expected_version:
        raise PreconditionFailed(
            f"you sent version {expected_version}; the record is now at version "
            f"{child.version}. Read it again.",
            current_version=child.version,
        )
    now = utcnow()
    if reason is None:
        child.legal_hold_reason = child.legal_hold_by = child.legal_hold_at = None
    else:
        child.legal_hold_reason, child.legal_hold_by = reason, caller.actor
        child.legal_hold_at = now
    hold_changed(session, child, now)
    session.flush()
    return child
