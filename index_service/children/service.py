"""Child record service functions: keyword-only, given the session and the caller.

Updates are optimistic: the caller names the version they read (the ETag), the row is
locked, and a stale version is refused, so no update is silently lost."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from index_service.access.principal import Principal
from index_service.children.models import Carer, Child, ChildAddress, ChildName, ChildStatus
from index_service.children.schemas import (
    AddressIn,
    AddressPublic,
    CarerIn,
    CarersIn,
    ChildCreate,
    ChildPublic,
    ChildUpdate,
    EducationIn,
    GpPracticeIn,
    NameIn,
    NamePublic,
    Provenance,
    age_in_years,
    provenance_for,
)
from index_service.common import utcnow
from index_service.errors import NotFound, PreconditionFailed


@dataclass
class ChildRecord:
    """A child row with its names, addresses and carers loaded."""

    child: Child
    names: list[ChildName]
    addresses: list[ChildAddress]
    carers: list[Carer]


def create_child(*, session: Session, caller: Principal, data: ChildCreate) -> ChildRecord:
    now = utcnow()
    child = Child(
        status=ChildStatus.ACTIVE.value,
        date_of_birth=data.date_of_birth,
        date_of_birth_precision=data.date_of_birth_precision.value,
        responsible_authority=data.responsible_authority,
        created_by_organisation=caller.organisation_code,
        provenance=provenance_for(
            data.model_fields_set | {"names", "date_of_birth"}, caller.organisation_code, now
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
    _replace_names(session, child.id, data.names)
    _replace_addresses(session, child.id, data.addresses)
    _replace_carers(session, child.id, data.carers)
    return load_record(session=session, child_id=child.id)


def get_child(*, session: Session, caller: Principal, child_id: uuid.UUID) -> ChildRecord:
    return load_record(session=session, child_id=child_id)


def update_child(
    *,
    session: Session,
    caller: Principal,
    child_id: uuid.UUID,
    data: ChildUpdate,
    expected_version: int,
) -> tuple[ChildRecord, list[str]]:
    """Apply the fields given; return the record and the names of the fields that changed."""
    child = session.exec(select(Child).where(Child.id == child_id).with_for_update()).first()
    if child is None:
        raise NotFound("no such child")
    if child.version != expected_version:
        raise PreconditionFailed(
            f"you sent version {expected_version}; the record is now at version {child.version}. "
            "Read it again and reapply your change.",
            current_version=child.version,
        )
    given = data.model_fields_set
    _apply_scalars(child, data, given)
    if data.names is not None:
        _replace_names(session, child.id, data.names)
    if data.addresses is not None:
        _replace_addresses(session, child.id, data.addresses)
    if data.carers is not None:
        _replace_carers(session, child.id, data.carers)
    now = utcnow()
    child.provenance = {**child.provenance, **provenance_for(given, caller.organisation_code, now)}
    child.version += 1
    child.updated_at = now
    session.add(child)
    session.flush()
    return load_record(session=session, child_id=child.id), sorted(given)


def load_record(*, session: Session, child_id: uuid.UUID) -> ChildRecord:
    child = session.get(Child, child_id, populate_existing=True)
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
        child=child, names=list(names), addresses=list(addresses), carers=list(carers)
    )


def to_public(record: ChildRecord) -> ChildPublic:
    child = record.child
    return ChildPublic(
        id=child.id,
        status=ChildStatus(child.status),
        names=[NamePublic.model_validate(n, from_attributes=True) for n in record.names],
        date_of_birth=child.date_of_birth,
        date_of_birth_precision=child.date_of_birth_precision,
        age_years=age_in_years(child.date_of_birth, utcnow().date()),
        nhs_number=child.nhs_number,
        upn=child.upn,
        la_reference=child.la_reference,
        addresses=[
            AddressPublic(**_address_fields(a), current=a.to_date is None) for a in record.addresses
        ],
        carers=CarersIn(
            status=child.carers_status,
            people=[
                CarerIn(name=c.name, relationship=c.relationship, phone=c.phone)
                for c in record.carers
            ],
        ),
        gp_practice=GpPracticeIn(
            status=child.gp_status,
            ods_code=child.gp_ods_code,
            phone=child.gp_phone,
        ),
        education=EducationIn(
            status=child.education_status,
            urn=child.school_urn,
            phone=child.school_phone,
        ),
        responsible_authority=child.responsible_authority,
        provenance={k: Provenance.model_validate(v) for k, v in child.provenance.items()},
        version=child.version,
        created_at=child.created_at,
        updated_at=child.updated_at,
    )


def _address_fields(address: ChildAddress) -> dict[str, Any]:
    return {name: getattr(address, name) for name in AddressIn.model_fields}


def _apply_scalars(child: Child, data: ChildCreate | ChildUpdate, given: set[str]) -> None:
    simple = {"date_of_birth", "nhs_number", "upn", "la_reference", "responsible_authority"}
    for name in simple & given:
        setattr(child, name, getattr(data, name))
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


def _replace_names(session: Session, child_id: uuid.UUID, names: list[NameIn]) -> None:
    session.exec(delete(ChildName).where(col(ChildName.child_id) == child_id))
    for position, name in enumerate(names):
        session.add(
            ChildName(
                child_id=child_id,
                position=position,
                kind=name.kind.value,
                given_names=name.given_names,
                family_name=name.family_name,
            )
        )
    session.flush()


def _replace_addresses(session: Session, child_id: uuid.UUID, addresses: list[AddressIn]) -> None:
    session.exec(delete(ChildAddress).where(col(ChildAddress.child_id) == child_id))
    for address in addresses:
        session.add(ChildAddress(child_id=child_id, **address.model_dump()))
    session.flush()


def _replace_carers(session: Session, child_id: uuid.UUID, carers: CarersIn) -> None:
    session.exec(delete(Carer).where(col(Carer.child_id) == child_id))
    for position, carer in enumerate(carers.people):
        session.add(Carer(child_id=child_id, position=position, **carer.model_dump()))
    session.flush()
