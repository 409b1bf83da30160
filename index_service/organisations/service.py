"""Organisation service functions: keyword-only, given the session and the caller."""

from __future__ import annotations

import uuid

from sqlalchemy import or_
from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.common import utcnow
from index_service.errors import Conflict, InvalidInput, NotFound
from index_service.organisations.models import (
    Organisation,
    OrganisationContacts,
    OrganisationCreate,
    OrganisationDeactivation,
    OrganisationType,
)


def find_by_code(*, session: Session, code: str) -> Organisation | None:
    return session.exec(select(Organisation).where(Organisation.code == code.upper())).first()


def create_organisation(
    *, session: Session, caller: Principal | None, data: OrganisationCreate
) -> Organisation:
    """`caller` is None only for the command line's bootstrap of the first organisation."""
    if find_by_code(session=session, code=data.code) is not None:
        raise Conflict(f"an organisation with code {data.code} exists", code="organisation_exists")
    organisation = Organisation(**data.model_dump(mode="json"))
    session.add(organisation)
    session.flush()
    return organisation


def list_organisations(
    *, session: Session, caller: Principal, limit: int, after: str | None
) -> list[Organisation]:
    query = select(Organisation).order_by(col(Organisation.code)).limit(limit)
    if after is not None:
        query = query.where(col(Organisation.code) > after.upper())
    return list(session.exec(query))


def get_organisation(
    *, session: Session, caller: Principal, organisation_id: uuid.UUID
) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def authority_contact(*, session: Session, local_authority: str) -> Organisation | None:
    """The children's social care of a local authority: whom to contact about its
    children (its data managers and designated managers work there). One that was
    deactivated (it no longer takes part: a reorganised service under a new code, say)
    is never given as the front door."""
    return session.exec(
        select(Organisation)
        .where(Organisation.local_authority == local_authority)
        .where(_ACTIVE_CHILDRENS_SOCIAL_CARE)
        .order_by(col(Organisation.code))
    ).first()


_ACTIVE_CHILDRENS_SOCIAL_CARE = (
    col(Organisation.type) == OrganisationType.CHILDRENS_SOCIAL_CARE.value
) & col(Organisation.deactivated_at).is_(None)


def named_organisations(
    *, session: Session, local_authority: str, codes: set[str]
) -> tuple[Organisation | None, dict[str, Organisation]]:
    """In one query: the authority's children's social care (`authority_contact`'s) and
    the organisations with these codes (a GP practice's ODS code, a school's URN)."""
    found = session.exec(
        select(Organisation)
        .where(
            or_(
                col(Organisation.code).in_({c.upper() for c in codes}),
                (col(Organisation.local_authority) == local_authority)
                & _ACTIVE_CHILDRENS_SOCIAL_CARE,
            )
        )
        .order_by(col(Organisation.code))
    ).all()
    authority = next(
        (
            o
            for o in found
            if o.local_authority == local_authority
            and o.type == OrganisationType.CHILDRENS_SOCIAL_CARE.value
            and o.deactivated_at is None
        ),
        None,
    )
    return authority, {o.code: o for o in found}


def update_contacts(
    *, session: Session, caller: Principal, organisation_id: uuid.UUID, data: OrganisationContacts
) -> Organisation:
    """Correct how to reach an organisation (in hours, email, out of hours). A children's
    social care organisation is every `not_found` answer's front door: it keeps both
    numbers, as `OrganisationCreate` requires."""
    organisation = _locked(session, organisation_id)
    if organisation.type == OrganisationType.CHILDRENS_SOCIAL_CARE.value and not (
        data.contact_phone and data.out_of_hours_phone
    ):
        raise InvalidInput(
            "children's social care needs an in-hours phone and an out-of-hours phone "
            "(its emergency duty team)",
            code="front_door_unreachable",
        )
    organisation.contact_phone = data.contact_phone
    organisation.contact_email = str(data.contact_email) if data.contact_email else None
    organisation.out_of_hours_phone = data.out_of_hours_phone
    session.add(organisation)
    session.flush()
    return organisation


def _locked(session: Session, organisation_id: uuid.UUID) -> Organisation:
    organisation = session.exec(
        select(Organisation).where(Organisation.id == organisation_id).with_for_update()
    ).first()
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def deactivate(
    *,
    session: Session,
    caller: Principal,
    organisation_id: uuid.UUID,
    data: OrganisationDeactivation,
) -> Organisation:
    """The organisation no longer takes part: from the next request on every instance
    (the UPDATE moves the directory's number, migration 0015), its users and systems are
    refused as for an organisation never added, and its page sessions end. Nothing is
    deleted. An administrator may not deactivate their own organisation (nobody would be
    left to reactivate it)."""
    organisation = _locked(session, organisation_id)
    if organisation.code == caller.organisation_code:
        raise Conflict("you cannot deactivate your own organisation", code="own_organisation")
    if organisation.deactivated_at is not None:
        raise Conflict("this organisation is already deactivated", code="already_deactivated")
    organisation.deactivated_at = utcnow()
    organisation.deactivated_by = caller.name[:200] or caller.subject[:200]
    organisation.deactivation_reason = data.reason
    session.add(organisation)
    session.flush()
    return organisation


def reactivate(*, session: Session, caller: Principal, organisation_id: uuid.UUID) -> Organisation:
    """It takes part again: its users are let in at their next request (they sign in
    again to the pages: their sessions ended)."""
    organisation = _locked(session, organisation_id)
    if organisation.deactivated_at is None:
        raise Conflict("this organisation is not deactivated", code="not_deactivated")
    organisation.deactivated_at = None
    organisation.deactivated_by = None
    organisation.deactivation_reason = None
    session.add(organisation)
    session.flush()
    return organisation
