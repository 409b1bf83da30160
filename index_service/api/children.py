"""/v1/children: the child record. Reads return an ETag; updates need If-Match."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from index_service.access.policy import Permission
from index_service.api.deps import ContextDep, PrincipalDep, SessionDep, permission
from index_service.api.routing import AuditedRoute
from index_service.children import service
from index_service.children.schemas import ChildCreate, ChildPublic, ChildUpdate
from index_service.errors import PreconditionFailed, PreconditionRequired

router = APIRouter(prefix="/v1/children", tags=["children"], route_class=AuditedRoute)

_ETAG = re.compile(r'^"(0|[1-9][0-9]{0,8})"$')  # exactly as etag() writes it


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the ETag from your last read, so no one else's change is lost"
        )
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise PreconditionFailed(
            'If-Match must be the exact ETag you read, such as "3"', code="if_match_malformed"
        )
    return int(match.group(1))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ChildPublic,
    **permission(Permission.CHILD_CREATE),
)
def create_child(
    body: ChildCreate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
) -> ChildPublic:
    record = service.create_child(session=session, caller=caller, data=body)
    ctx.audit.children(record.child.id)
    response.headers["Location"] = f"/v1/children/{record.child.id}"
    response.headers["ETag"] = etag(record.child.version)
    return service.to_public(record)


@router.get("/{child_id}", response_model=ChildPublic, **permission(Permission.CHILD_READ))
def read_child(
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
) -> ChildPublic:
    ctx.audit.children(child_id)
    record = service.get_child(session=session, caller=caller, child_id=child_id)
    response.headers["ETag"] = etag(record.child.version)
    return service.to_public(record)


@router.patch(
    "/{child_id}",
    response_model=ChildPublic,
    **permission(Permission.CHILD_UPDATE),
    responses={412: {"description": "stale If-Match"}, 428: {"description": "If-Match missing"}},
)
def update_child(
    child_id: uuid.UUID,
    body: ChildUpdate,
    session: SessionDep,
    caller: PrincipalDep,
    ctx: ContextDep,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> ChildPublic:
    ctx.audit.children(child_id)
    record, changed = service.update_child(
        session=session,
        caller=caller,
        child_id=child_id,
        data=body,
        expected_version=expected_version(if_match),
    )
    ctx.audit.detail["changed_fields"] = changed
    response.headers["ETag"] = etag(record.child.version)
    return service.to_public(record)
