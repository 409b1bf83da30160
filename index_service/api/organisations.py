"""/v1/organisations: participating organisations, managed by administrators."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from index_service.access.policy import Permission
from index_service.api.contract import ProblemCase
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute
from index_service.errors import Conflict
from index_service.organisations import service
from index_service.organisations.models import (
    OrganisationCreate,
    OrganisationDeactivation,
    OrganisationPublic,
)

router = APIRouter(prefix="/v1/organisations", tags=["organisations"], route_class=AuditedRoute)


class OrganisationPage(BaseModel):
    items: list[OrganisationPublic]
    next_cursor: str | None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationPublic,
    **permission(
        Permission.ORGANISATION_CREATE,
        raises=(
            ProblemCase.of(
                Conflict, "an organisation with that code exists", "organisation_exists"
            ),
        ),
    ),
)
def create_organisation(
    body: OrganisationCreate, session: SessionDep, caller: PrincipalDep, response: Response
) -> OrganisationPublic:
    """Add a participating organisation

    An organisation (an agency or a local authority's children's social care) must be
    added before its staff's tokens are accepted. Answers the new organisation with its
    `Location`; its code must be unique."""
    organisation = service.create_organisation(session=session, caller=caller, data=body)
    response.headers["Location"] = f"/v1/organisations/{organisation.id}"
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.get("", response_model=OrganisationPage, **permission(Permission.ORGANISATION_READ))
def list_organisations(
    session: SessionDep,
    caller: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[
        str | None,
        Query(
            max_length=16,
            pattern=r"^[A-Za-z0-9\-]+$",
            description="next_cursor of the previous page",
        ),
    ] = None,
) -> OrganisationPage:
    """List participating organisations

    One page at a time, ordered by code: pass the page's `next_cursor` as `after` for the
    next. Discloses the organisations' codes, names, types, contacts and whether they take
    part; no child data."""
    found = service.list_organisations(session=session, caller=caller, limit=limit + 1, after=after)
    items = [OrganisationPublic.model_validate(o, from_attributes=True) for o in found[:limit]]
    return OrganisationPage(items=items, next_cursor=items[-1].code if len(found) > limit else None)


@router.get(
    "/{organisation_id}",
    response_model=OrganisationPublic,
    **permission(Permission.ORGANISATION_READ),
)
def read_organisation(
    organisation_id: uuid.UUID, session: SessionDep, caller: PrincipalDep
) -> OrganisationPublic:
    """Read one organisation

    The organisation's code, name, type, local authority and contacts; no child data."""
    organisation = service.get_organisation(
        session=session, caller=caller, organisation_id=organisation_id
    )
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.put(
    "/{organisation_id}/deactivation",
    response_model=OrganisationPublic,
    **permission(
        Permission.ORGANISATION_DEACTIVATE,
        raises=(
            ProblemCase.of(Conflict, "it is already deactivated", "already_deactivated"),
            ProblemCase.of(
                Conflict, "it is the administrator's own organisation", "own_organisation"
            ),
        ),
    ),
)
def deactivate_organisation(
    organisation_id: uuid.UUID,
    body: OrganisationDeactivation,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
) -> OrganisationPublic:
    """Deactivate an organisation

    It no longer takes part: its users and systems are refused from their next request,
    as for an organisation never added, and their page sessions end. Nothing is deleted;
    `DELETE` on the same address reactivates it. 409 if it is already deactivated, or is
    the administrator's own organisation."""
    organisation = service.deactivate(
        session=session, caller=caller, organisation_id=organisation_id, data=body
    )
    ctx.audit.detail.update(organisation_code=organisation.code, reason=body.reason)
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.delete(
    "/{organisation_id}/deactivation",
    response_model=OrganisationPublic,
    **permission(
        Permission.ORGANISATION_DEACTIVATE,
        raises=(ProblemCase.of(Conflict, "it is not deactivated", "not_deactivated"),),
    ),
)
def reactivate_organisation(
    organisation_id: uuid.UUID, session: SessionDep, caller: PrincipalDep, ctx: ContextDep
) -> OrganisationPublic:
    """Reactivate an organisation

    It takes part again: its users may sign in and call the API from their next request.
    409 if it was not deactivated."""
    organisation = service.reactivate(
        session=session, caller=caller, organisation_id=organisation_id
    )
    ctx.audit.detail["organisation_code"] = organisation.code
    return OrganisationPublic.model_validate(organisation, from_attributes=True)
