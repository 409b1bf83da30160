"""Child record service functions: keyword-only, given the session and the caller.

Updates are optimistic: the caller names the version they read (the ETag), the row is
locked, and a stale version is refused, so no update is silently lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from index_service.access.objects import may_change_child, may_verify_nhs_number
from index_service.access.policy import SERVICE_ACCOUNT, holds
from index_service.access.principal import Principal
from index_service.access.scope import (
    children_in_scope,
    children_reached,
    in_authority,
    sees_shielded_record,
)
from index_service.access.views import child_fields
from index_service.children.entry import Entry
from index_service.children.models import (
    Carer,
    Child,
    ChildAddress,
    ChildMother,
    ChildName,
    ChildStatus,
    NhsNumberStatus,
    ShieldedAccess,
)
from index_service.children.public import ChildFacts, build_child, contact_of
from index_service.children.schemas import (
    AddressIn,
    CarersIn,
    ChildCreate,
    ChildPublic,
    ChildUpdate,
    MotherIn,
    NameIn,
    provenance_for,
)
from index_service.common import utcnow
from index_service.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from index_service.flags.queries import active_flags
from index_service.involvements.models import Involvement
from index_service.involvements.queries import current_involvements
from index_service.matching.frequencies import name_tokens, postcode_tokens, record_change
from index_service.matching.keys import name_keys
from index_service.organisations import service as organisations
from index_service.organisations.models import Organisation


@dataclass
class ChildRecord:
    """A child row with its names, addresses and carers loaded."""

    child: Child
    names: list[ChildName]
    addresses: list[ChildAddress]
    carers: list[Carer]
    mother: ChildMother | None = None  # an unborn child's expectant mother


def require_may_verify(*, caller: Principal, data: ChildCreate | ChildUpdate) -> None:
    """Only a data manager, or the agency system that traced it, may say an NHS number
    is verified (`access.objects.may_verify_nhs_number`)."""
    status = data.nhs_number_status
    if status not in (None, NhsNumberStatus.UNVERIFIED) and not may_verify_nhs_number(caller):
        raise Forbidden(
            "only a data manager, or the agency system that traced it, may record that an "
            "NHS number is verified",
            code="nhs_number_verification_needs_a_data_manager",
        )


def require_may_create(*, caller: Principal, data: ChildCreate) -> None:
    """Agency systems feed records for any child; people keep their own authority's."""
    require_may_verify(caller=caller, data=data)
    current = next((a.local_authority for a in data.addresses if a.to_date is None), None)
    if not holds(caller, SERVICE_ACCOUNT) and not in_authority(
        caller, responsible_authority=data.responsible_authority, current_authority=current
    ):
        raise Forbidden(
            "you may create records only for your own local authority's children "
            "(responsible for them, or where they live now)",
            code="outside_your_authority",
        )


def create_child(*, session: Session, caller: Principal, data: ChildCreate) -> ChildRecord:
    """The record as given (the duplicate guard is in `flows.register_child`)."""
    require_may_create(caller=caller, data=data)
    now = utcnow()
    child = Child(
        status=ChildStatus.ACTIVE.value,
        date_of_birth=data.date_of_birth,
        date_of_birth_precision=data.date_of_birth_precision.value,
        responsible_authority=data.responsible_authority,
        created_by_organisation=caller.organisation_code,
        provenance=provenance_for(
            (data.model_fields_set | {"names", "date_of_birth"}) - {"confirmed_distinct_from"},
            caller.organisation_code,
            now,
        ),
        created_at=now,
        updated_at=now,
        carers_status=data.carers.status.value,
        gp_status=data.gp_practice.status.value,
        education_status=data.education.status.value,
    )
    _apply_scalars(child, data, set(ChildCreate.model_fields))
    session.add(child)
    session.flush()
    _replace_names(session, child.id, data.names, child.date_of_birth)
    _replace_addresses(session, child.id, data.addresses)
    _replace_carers(session, child.id, data.carers)
    if data.mother is not None:
        _replace_mother(session, child, data.mother)
    return load_record(session=session, child_id=child.id)


def get_child(*, session: Session, caller: Principal, child_id: uuid.UUID) -> ChildRecord:
    """A child in the caller's scope; anything else is the same 404 as no child at all."""
    found = session.exec(
        select(Child.id).where(Child.id == child_id).where(children_in_scope(caller))
    ).first()
    if found is None:
        raise NotFound("no such child")
    return load_record(session=session, child_id=child_id)


def set_shielded(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    shielded: bool,
    expected_version: int,
) -> ChildRecord:
    """Shield a child (refuge, new identity) or lift it: the responsible authority's data
    managers only, since only they go on seeing the record in full."""
    child = _locked_in_scope(session, caller, child_id, expected_version)
    if not sees_shielded_record(caller, responsible_authority=child.responsible_authority):
        raise Forbidden(
            "only the data managers of the responsible authority may shield or unshield",
            code="not_responsible_authority",
        )
    child.shielded = shielded
    child.version += 1
    child.updated_at = utcnow()
    session.add(child)
    session.flush()
    return load_record(session=session, child_id=child.id)


def _locked_in_scope(
    session: Session, caller: Principal, child_id: uuid.UUID, expected_version: int
) -> Child:
    child = session.exec(
        select(Child)
        .where(Child.id == child_id)
        .where(children_in_scope(caller))
        .with_for_update(of=Child)
    ).first()
    if child is None:
        raise NotFound("no such child")
    if child.merged_into is not None:
        raise Conflict(
            "this entry was merged into another, which answers for the child now: change that one",
            code="child_merged",
            merged_into=str(child.merged_into),
        )
    if child.version != expected_version:
        raise PreconditionFailed(
            f"you sent version {expected_version}; the record is now at version {child.version}. "
            "Read it again and reapply your change.",
            current_version=child.version,
        )
    return child


REFUSALS = {
    "record_shielded": "this record is shielded: only the responsible authority's data "
    "managers change it",
    "not_responsible_authority": "only the responsible authority can hand responsibility "
    "for a child over",
}


def update_child(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    data: ChildUpdate,
    expected_version: int,
) -> tuple[ChildRecord, dict[str, dict[str, Any]]]:
    """Apply the fields given; return the record and, for the audit trail, a diff of the
    fields given: `{field: {"before": ..., "after": ...}}` for each that changed."""
    child = _locked_in_scope(session, caller, child_id, expected_version)
    given = data.model_fields_set
    before = fields_of(load_record(session=session, child_id=child.id), given)
    decision = may_change_child(
        caller,
        shielded=child.shielded,
        responsible_authority=child.responsible_authority,
        new_responsible_authority=data.responsible_authority
        if "responsible_authority" in given
        else None,
    )
    if not decision:
        raise Forbidden(REFUSALS[decision.reason], code=decision.reason)
    require_may_verify(caller=caller, data=data)
    _apply_scalars(child, data, given)
    if data.names is not None:
        _replace_names(session, child.id, data.names, child.date_of_birth)
    elif "date_of_birth" in given:  # the copy the blocking indexes use
        session.execute(
            update(ChildName)
            .where(col(ChildName.child_id) == child.id)
            .values(date_of_birth=child.date_of_birth)
        )
    if data.addresses is not None:
        _replace_addresses(session, child.id, data.addresses)
    if data.carers is not None:
        _replace_carers(session, child.id, data.carers)
    if "mother" in given:
        _replace_mother(session, child, data.mother)
    now = utcnow()
    child.provenance = {**child.provenance, **provenance_for(given, caller.organisation_code, now)}
    child.version += 1
    child.updated_at = now
    session.add(child)
    session.flush()
    record = load_record(session=session, child_id=child.id)
    after = fields_of(record, given)
    diff = {
        name: {"before": before[name], "after": after[name]}
        for name in sorted(given)
        if before[name] != after[name]
    }
    return record, diff


# Not compared in a row of a list: its identity, place and bookkeeping (the list's order
# is the place).
_NOT_COMPARED = frozenset(
    {"id", "child_id", "position", "provenance", "version", "updated_at", "created_at"}
)


def fields_of(record: ChildRecord, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a record as JSON values, lists without their row ids: what a
    correction's and a merge's audit diffs compare (`children/lifecycle.py`)."""
    lists: dict[str, list[ChildName] | list[ChildAddress] | list[Carer]] = {
        "names": record.names,
        "addresses": record.addresses,
        "carers": record.carers,
    }
    child = record.child
    # The groups the API gives as one object are stored as the child's columns.
    groups: dict[str, dict[str, Any]] = {
        "gp_practice": {
            "status": child.gp_status,
            "ods_code": child.gp_ods_code,
            "phone": child.gp_phone,
        },
        "education": {
            "status": child.education_status,
            "urn": child.school_urn,
            "phone": child.school_phone,
        },
    }
    found: dict[str, Any] = {}
    for name in names:
        if name in lists:
            found[name] = [
                {k: v for k, v in row.model_dump(mode="json").items() if k not in _NOT_COMPARED}
                for row in lists[name]
            ]
            if name == "carers":  # "none" and "unknown" differ with nobody listed
                found[name] = {"status": child.carers_status, "people": found[name]}
        elif name == "mother":
            mother = record.mother
            found[name] = (
                None
                if mother is None
                else {k: v for k, v in mother.model_dump(mode="json").items() if k != "child_id"}
            )
        elif name in groups:
            found[name] = groups[name]
        else:
            found[name] = child.model_dump(mode="json").get(name)
    return found


def load_record(
    *, session: Session, child_id: uuid.UUID, child: Child | None = None
) -> ChildRecord:
    """The child's record as stored now. `child`: its row, when this unit of work has
    just read it (an enquiry's matched candidate), so that it is not read twice."""
    child = child if child is not None else session.get(Child, child_id, populate_existing=True)
    if child is None:
        raise NotFound("no such child")
    names = session.exec(
        select(ChildName).where(ChildName.child_id == child_id).order_by(col(ChildName.position))
    ).all()
    addresses = session.exec(
        select(ChildAddress)
        .where(ChildAddress.child_id == child_id)
        .order_by(
            col(ChildAddress.to_date).desc().nulls_first(), col(ChildAddress.from_date).desc()
        )
    ).all()
    carers = session.exec(
        select(Carer).where(Carer.child_id == child_id).order_by(col(Carer.position))
    ).all()
    return ChildRecord(
        child=child,
        names=list(names),
        addresses=list(addresses),
        carers=list(carers),
        mother=session.get(ChildMother, child_id, populate_existing=True),
    )


def record_of(entry: Entry) -> ChildRecord:
    """The record part of an entry read in one statement (`children/entry.py`)."""
    return ChildRecord(
        child=entry.child,
        names=entry.names,
        addresses=entry.addresses,
        carers=entry.carers,
        mother=entry.mother,
    )


def present(
    *,
    session: Session,
    caller: Principal,
    record: ChildRecord,
    action: str,
    request_id: str,
    involvements: list[tuple[Involvement, Organisation]] | None = None,
    entry: Entry | None = None,
) -> ChildPublic:
    """The child as this caller may see it (fields per role, shielding, sensitive
    services). Reaching a shielded record is kept for its data manager's alert (R7).
    `involvements`: the child's current involvements, if the caller already read them
    in this unit of work (the enquiry's alert rules need them too); `entry`: everything
    the view draws on, read in one statement (`children/entry.py`), so nothing more is
    read here."""
    if entry is not None:
        involvements = entry.involvements
    child = record.child
    current = next((a.local_authority for a in record.addresses if a.to_date is None), None)
    fields = child_fields(
        caller,
        shielded=child.shielded,
        responsible_authority=child.responsible_authority,
        keeps_record=in_authority(
            caller,
            responsible_authority=child.responsible_authority,
            current_authority=current,
            shielded=child.shielded,
        ),
    )
    facts = ChildFacts(record=record, viewer_organisation_id=caller.organisation_id)
    if "involvements" in fields:
        facts.involvements = (
            involvements
            if involvements is not None
            else current_involvements(session=session, child_id=child.id)
        )
    if "flags" in fields:
        facts.flags = (
            entry.flags if entry is not None else active_flags(session=session, child_id=child.id)
        )
    named = {"contact", "involvements", "responsible_authority_contact", "gp_practice", "education"}
    if named & fields:
        if entry is not None:
            authority = entry.authority_office(child.responsible_authority)
            facts.named = entry.named
        else:
            codes = {c for c in (child.gp_ods_code, child.school_urn) if c}
            authority, facts.named = organisations.named_organisations(
                session=session, local_authority=child.responsible_authority, codes=codes
            )
        facts.authority_contact = contact_of(authority)
    note_shielded_access(
        session=session, caller=caller, child=child, action=action, request_id=request_id
    )
    return build_child(facts, fields)


def note_shielded_access(
    *, session: Session, caller: Principal, child: Child, action: str, request_id: str
) -> None:
    """Someone other than its data managers reached a shielded record: keep it, for the
    data manager's alert (R7). Reaching it in a search summary counts too."""
    if not child.shielded or sees_shielded_record(
        caller, responsible_authority=child.responsible_authority
    ):
        return
    noted: set[uuid.UUID] = session.info.setdefault("shielded_access_noted", set())
    if child.id in noted:
        return  # once per child per request, however many times it is shown
    noted.add(child.id)
    session.add(
        ShieldedAccess(
            child_id=child.id,
            responsible_authority=child.responsible_authority,
            issuer=caller.issuer,
            subject=caller.subject,
            name=caller.name,
            email=caller.email or None,
            organisation_code=caller.organisation_code,
            action=action,
            request_id=request_id,
        )
    )
    session.flush()


def _apply_scalars(child: Child, data: ChildCreate | ChildUpdate, given: set[str]) -> None:
    simple = {"date_of_birth", "nhs_number", "upn", "la_reference", "responsible_authority"}
    for name in simple & given:
        setattr(child, name, getattr(data, name))
    if data.nhs_number_status is not None and "nhs_number_status" in given:
        child.nhs_number_status = data.nhs_number_status.value
    elif "nhs_number" in given:  # a new number is not verified until someone says so
        child.nhs_number_status = NhsNumberStatus.UNVERIFIED.value
    if "date_of_birth_precision" in given and data.date_of_birth_precision is not None:
        child.date_of_birth_precision = data.date_of_birth_precision.value
    if "carers" in given and data.carers is not None:
        child.carers_status = data.carers.status.value
    if "gp_practice" in given and data.gp_practice is not None:
        gp = data.gp_practice
        child.gp_status, child.gp_ods_code, child.gp_phone = gp.status.value, gp.ods_code, gp.phone
    if "education" in given and data.education is not None:
        ed = data.education
        child.education_status, child.school_urn, child.school_phone = (
            ed.status.value,
            ed.urn,
            ed.phone,
        )


def _replace_names(
    session: Session, child_id: uuid.UUID, names: list[NameIn], date_of_birth: date
) -> None:
    held = session.execute(
        select(col(ChildName.given_key), col(ChildName.family_key)).where(
            col(ChildName.child_id) == child_id
        )
    ).all()
    record_change(
        session,
        removed=name_tokens((given, family) for given, family in held),
        added=name_tokens((n.given_names, n.family_name) for n in names),
    )
    session.exec(delete(ChildName).where(col(ChildName.child_id) == child_id))
    for position, name in enumerate(names):
        session.add(
            ChildName(
                child_id=child_id,
                date_of_birth=date_of_birth,
                position=position,
                kind=name.kind.value,
                given_names=name.given_names,
                family_name=name.family_name,
                **vars(name_keys(name.given_names, name.family_name)),
            )
        )
    session.flush()


def _replace_addresses(session: Session, child_id: uuid.UUID, addresses: list[AddressIn]) -> None:
    held = session.execute(
        select(col(ChildAddress.postcode)).where(col(ChildAddress.child_id) == child_id)
    ).scalars()
    record_change(
        session,
        removed=postcode_tokens(held),
        added=postcode_tokens(a.postcode for a in addresses),
    )
    session.exec(delete(ChildAddress).where(col(ChildAddress.child_id) == child_id))
    for address in addresses:
        session.add(ChildAddress(child_id=child_id, **address.model_dump()))
    session.flush()


def is_unborn(child: Child) -> bool:
    """An unborn child's date of birth is the expected date of delivery, in the future
    (`children/age.py`)."""
    return child.date_of_birth > utcnow().date()


def _replace_mother(session: Session, child: Child, mother: MotherIn | None) -> None:
    """Record (or, with None, remove) the expectant mother. Only an unborn child has one:
    a born child's mother is a carer, not the way to find them."""
    if mother is not None and not is_unborn(child):
        raise InvalidInput(
            "a mother's identity is recorded only for an unborn child on a pre-birth plan "
            "(a date of birth in the future, the expected date of delivery)",
            code="mother_only_for_unborn_child",
        )
    session.exec(delete(ChildMother).where(col(ChildMother.child_id) == child.id))
    if mother is not None:
        session.add(ChildMother(child_id=child.id, **mother.model_dump()))
    session.flush()


def _replace_carers(session: Session, child_id: uuid.UUID, carers: CarersIn) -> None:
    session.exec(delete(Carer).where(col(Carer.child_id) == child_id))
    for position, carer in enumerate(carers.people):
        session.add(Carer(child_id=child_id, position=position, **carer.model_dump()))
    session.flush()


def require_reached(
    *, session: Session, caller: Principal, child_id: uuid.UUID, enquiry_since: datetime
) -> Child:
    """The child, if the caller may record an involvement or raise a flag on it
    (`access/scope.children_reached`); else 404, as for a child that does not exist."""
    child = session.exec(
        select(Child)
        .where(col(Child.id) == child_id)
        .where(children_reached(caller, enquiry_since=enquiry_since))
    ).first()
    if child is None:
        raise NotFound("no such child among those you can reach (search for the child first)")
    if child.merged_into is not None:  # work goes on the entry that answers for the child
        raise Conflict(
            "this entry was merged into another: record work on that one",
            code="child_merged",
            merged_into=str(child.merged_into),
        )
    return child


def current_authority(*, session: Session, child_id: uuid.UUID) -> str | None:
    """The local authority of the child's current address, if one is recorded."""
    return session.exec(
        select(ChildAddress.local_authority).where(
            col(ChildAddress.child_id) == child_id, col(ChildAddress.to_date).is_(None)
        )
    ).first()
