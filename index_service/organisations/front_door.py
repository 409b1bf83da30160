"""Whom to call when the index has nothing to say: the children's social care "front
door" (MASH or referral line, its secure email, its emergency duty team out of hours) of
the authority where the child lives.

Which authority, for an enquiry that found no record: the one the enquirer names
(`lives_in_local_authority`); else the one the postcode lies in, as the index's own
address records say (a heuristic: the authority most recorded addresses at that postcode
carry, or at its outward code if none, since the index holds no postcode directory); else
the enquirer's own authority."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

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
        contact=contact_of(authority_contact(session=session, local_authority=authority_code)),
    )


def postcode_authority_lookups(postcode: str) -> list[SelectOfScalar[str]]:
    """The two lookups `authority_of_postcode` tries in turn: the postcode, then its
    outward code (district). Each is an index lookup (`ix_child_address_postcode`, and
    `ix_child_address_postcode_prefix` for the district's `LIKE 'W5 %'`), never a scan
    of every address in England; EXPLAINed in the tests."""
    exact = col(ChildAddress.postcode) == postcode
    district = col(ChildAddress.postcode).startswith(outward_code(postcode) + " ")
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


def authority_of_postcode(*, session: Session, postcode: str) -> str | None:
    """The authority most of the index's addresses at this postcode lie in; failing
    that, at its outward code (district); None if the index holds neither. Shielded
    children's addresses (a refuge) never count: the answer must not hint at them."""
    for lookup in postcode_authority_lookups(postcode):
        found = session.exec(lookup).first()
        if found is not None:
            return found
    return None


def authority_of_enquiry(
    *,
    session: Session,
    lives_in: str | None,
    postcode: str | None,
    enquirer_authority: str,
) -> str:
    """Where an enquiry that found no record says the child lives: the authority it names,
    else the postcode's (above), else the enquirer's own. One answer for both who needs
    it: the front door the enquirer is given, and whose designated managers keep the
    enquiry-only contact and hear of a second enquiry (R3)."""
    authority = lives_in
    if authority is None and postcode is not None:
        authority = authority_of_postcode(session=session, postcode=postcode)
    return authority or enquirer_authority
