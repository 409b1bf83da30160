"""Whom to call when the index has nothing to say: the children's social care "front
door" (MASH or referral line, its secure email, its emergency duty team out of hours) of
the authority where the child lives.

Which authority, for an enquiry that found no record: the one the enquirer names
(`lives_in_local_authority`); else the one the postcode lies in, as the index's own
address records say (a heuristic: the authority most recorded addresses at that postcode
carry, or at its outward code if none, since the index holds no postcode directory); else
the enquirer's own authority.

At national load every `not_found` asks this: the postcode's lookups are one statement
(`postcode_authority`) and the front door's organisation comes from the directory's
cache (`access/directory.py`), refreshed whenever any organisation changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, String, bindparam, func, null
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from index_service.access.directory import of_session
from index_service.children.models import Child, ChildAddress
from index_service.children.public import contact_of
from index_service.children.schemas import ContactPublic
from index_service.matching.postcodes import outward_code
from index_service.organisations.service import authority_contact
from index_service.reference.local_authorities import authority_name


class FrontDoorPublic(BaseModel):
    """Where to refer a child you are worried about."""

    authority_code: str = Field(description="ONS code of the local authority.")
    authority_name: str | None = Field(description="Its name on the ONS list.")
    contact: ContactPublic | None = Field(
        description="Its children's social care: phone (in hours), secure email and "
        "out-of-hours phone (emergency duty team). Null if the authority does not take "
        "part in the index: call the authority's switchboard."
    )


def front_door(*, session: Session, authority_code: str) -> FrontDoorPublic:
    return FrontDoorPublic(
        authority_code=authority_code,
        authority_name=authority_name(authority_code),
        contact=_contact(session, authority_code),
    )


def _contact(session: Session, authority_code: str) -> ContactPublic | None:
    """The authority's children's social care as its front door: from the directory's
    cache when the session's work has read the directory's number (every `/v1` request
    has: a deactivation or a new number changes it, and the cache is emptied before the
    next request reads it), else from the table."""
    directory = of_session(session)
    if directory is None:
        return _read_contact(session, authority_code)
    kept = directory.kept(
        session, ("front_door", authority_code), lambda s: _read_contact(s, authority_code)
    )
    return None if kept is None else kept.model_copy()


def _read_contact(session: Session, authority_code: str) -> ContactPublic | None:
    return contact_of(authority_contact(session=session, local_authority=authority_code))


def postcode_authority_lookups(postcode: str) -> list[SelectOfScalar[str]]:
    """The two lookups `authority_of_postcode` tries in turn: the postcode, then its
    outward code (district). Each is an index lookup (`ix_child_address_postcode`, and
    `ix_child_address_postcode_prefix` for the district's `LIKE 'W5 %'`), never a scan
    of every address in England; EXPLAINed in the tests."""
    values = _postcode_values(postcode)
    return [lookup.params(values) for lookup in _LOOKUPS]


def _lookups() -> list[SelectOfScalar[str]]:
    exact = col(ChildAddress.postcode) == bindparam("postcode", type_=String)
    district = col(ChildAddress.postcode).startswith(bindparam("district", type_=String))
    return [
        select(ChildAddress.local_authority)
        .join(Child, col(Child.id) == col(ChildAddress.child_id))
        .where(where)
        .where(col(Child.shielded).is_(False))
        .group_by(col(ChildAddress.local_authority))
        .order_by(func.count().desc(), col(ChildAddress.local_authority))
        .limit(1)
        for where in (exact, district)
    ]


def _postcode_values(postcode: str) -> dict[str, str]:
    return {"postcode": postcode, "district": outward_code(postcode) + " "}


# Built once, with bound parameters (`_postcode_values`).
_LOOKUPS = _lookups()
# Both lookups in one expression, the district's only if the postcode's finds nothing
# (`coalesce` evaluates no more of its arguments than it needs): one round trip.
_POSTCODE_AUTHORITY = func.coalesce(_LOOKUPS[0].scalar_subquery(), _LOOKUPS[1].scalar_subquery())
_AUTHORITY_OF_POSTCODE = select(_POSTCODE_AUTHORITY)


def authority_of_postcode(*, session: Session, postcode: str) -> str | None:
    """The authority most of the index's addresses at this postcode lie in; failing
    that, at its outward code (district); None if the index holds neither. Shielded
    children's addresses (a refuge) never count: the answer must not hint at them."""
    found: str | None = session.execute(
        _AUTHORITY_OF_POSTCODE, _postcode_values(postcode)
    ).scalar_one()
    return found


def authority_of_enquiry(
    *,
    session: Session,
    lives_in: str | None,
    postcode: str | None,
    enquirer_authority: str,
    alongside: Sequence[ColumnElement[Any]] = (),
) -> str:
    """Where an enquiry that found no record says the child lives: the authority it names,
    else the postcode's (above), else the enquirer's own. One answer for both who needs
    it: the front door the enquirer is given, and whose designated managers keep the
    enquiry-only contact and hear of a second enquiry (R3).

    `alongside`: what the caller needs evaluated in this round trip, before anything it
    reads next (the enquirer's turn, `enquiries/contacts.enquirers_turn`); one statement
    either way, and none if there is nothing to look up or take."""
    looked_up = lives_in is None and postcode is not None
    authority = lives_in
    if looked_up or alongside:
        columns = [*alongside, _POSTCODE_AUTHORITY if looked_up else null()]
        values = _postcode_values(postcode) if postcode is not None and looked_up else {}
        found: str | None = session.execute(select(*columns), values).one()[-1]
        authority = authority or found
    return authority or enquirer_authority
