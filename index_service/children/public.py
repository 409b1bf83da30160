"""Building a `ChildPublic` from the fields the access policy allows (`access/views.py`).

Each field has a builder; only the allowed fields are computed, so a field a caller may
not see is never in the object to begin with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from index_service.access.sensitive import (
    SENSITIVE_NOTICE,
    involvement_is_sensitive,
    sees_flag_raiser_in_full,
    sees_involvement_in_full,
)
from index_service.children.age import age_in_years
from index_service.children.identifiers import nhs_number_region
from index_service.children.models import Carer, ChildAddress, ChildStatus
from index_service.children.schemas import (
    AddressIn,
    AddressPublic,
    CarerIn,
    CarersIn,
    ChildPublic,
    ContactPublic,
    EducationPublic,
    GpPracticePublic,
    InvolvementPublic,
    MotherPublic,
    NamePublic,
    Provenance,
)
from index_service.common import utcnow
from index_service.flags.models import Flag
from index_service.flags.queries import public_of as flag_public
from index_service.flags.schemas import FlagPublic
from index_service.involvements.models import Involvement
from index_service.organisations.models import EDUCATION_TYPES, Organisation, OrganisationType
from index_service.reference.local_authorities import authority_name

if TYPE_CHECKING:  # the service imports this module
    from index_service.children.service import ChildRecord

SHIELDED_NOTICE = (
    "This child's record is shielded. Details are withheld; contact the data manager "
    "below, who has been told of this access."
)


@dataclass
class ChildFacts:
    """What a view of one child may draw on, loaded by the service."""

    record: ChildRecord
    viewer_organisation_id: Any = None
    involvements: list[tuple[Involvement, Organisation]] = field(default_factory=list)
    flags: list[tuple[Flag, Organisation]] = field(default_factory=list)
    authority_contact: ContactPublic | None = None
    # Organisations taking part in the index, by code: the GP practice's, the school's.
    named: dict[str, Organisation] = field(default_factory=dict)


def contact_of(organisation: Organisation | None) -> ContactPublic | None:
    if organisation is None:
        return None
    return ContactPublic(
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        phone=organisation.contact_phone,
        email=organisation.contact_email,
        out_of_hours_phone=organisation.out_of_hours_phone,
    )


def build_child(facts: ChildFacts, fields: frozenset[str]) -> ChildPublic:
    values = {name: _BUILDERS[name](facts) for name in fields if name in _BUILDERS}
    return ChildPublic(**values)


def _address(address: ChildAddress) -> AddressPublic:
    values = {name: getattr(address, name) for name in AddressIn.model_fields}
    return AddressPublic(**values, current=address.to_date is None)


def _current_address(facts: ChildFacts) -> AddressPublic | None:
    current = [a for a in facts.record.addresses if a.to_date is None]
    return _address(current[0]) if current else None


def _carers(facts: ChildFacts) -> CarersIn:
    people: list[Carer] = facts.record.carers
    return CarersIn(
        status=facts.record.child.carers_status,
        people=[CarerIn(name=c.name, relationship=c.relationship, phone=c.phone) for c in people],
    )


def involvement_shown(
    facts: ChildFacts, involvement: Involvement, org: Organisation
) -> InvolvementPublic:
    """One involvement as the viewer may see it (the entry's, and the subject access
    report's lines)."""
    return involvement_public(
        involvement,
        org,
        viewer_organisation_id=facts.viewer_organisation_id,
        authority_contact=facts.authority_contact,
    )


def involvement_public(
    involvement: Involvement,
    org: Organisation,
    *,
    viewer_organisation_id: Any,
    authority_contact: ContactPublic | None,
) -> InvolvementPublic:
    """An involvement as a viewer from `viewer_organisation_id` may see it: in full, or,
    for another organisation's sensitive service, only the notice and the authority's
    contact (`access/sensitive.py`). The child's entry and the answer about an expectant
    mother (`enquiries/pre_birth.py`) both build it here, so they mask alike."""
    if not sees_involvement_in_full(
        marked=involvement.sensitive,
        organisation_type=org.type,
        owner_is_viewer=org.id == viewer_organisation_id,
    ):
        return InvolvementPublic(sensitive=True, notice=SENSITIVE_NOTICE, contact=authority_contact)
    return InvolvementPublic(
        sensitive=involvement_is_sensitive(
            marked=involvement.sensitive, organisation_type=org.type
        ),
        organisation_code=org.code,
        organisation_name=org.name,
        service=involvement.service,
        practitioner_name=involvement.practitioner_name,
        practitioner_phone=involvement.practitioner_phone,
        practitioner_email=involvement.practitioner_email,
        is_key_worker=involvement.is_key_worker,
        is_lead_professional=involvement.is_lead_professional,
        is_allocated_worker=involvement.is_allocated_worker,
        start_date=involvement.start_date,
    )


def flag_shown(facts: ChildFacts, flag: Flag, org: Organisation) -> FlagPublic:
    """One flag as the viewer may see it (the entry's, and the subject access report's
    lines)."""
    shown = flag_public(flag, org)
    if sees_flag_raiser_in_full(
        organisation_type=org.type, owner_is_viewer=org.id == facts.viewer_organisation_id
    ):
        return shown
    contact = facts.authority_contact
    return shown.model_copy(
        update={
            "sensitive": True,
            "notice": SENSITIVE_NOTICE,
            "organisation_code": contact.organisation_code if contact else None,
            "organisation_name": contact.organisation_name if contact else None,
            "contact_name": "the data manager",
            "contact_phone": contact.phone if contact else None,
            "contact_email": contact.email if contact else None,
            "details": {},
        }
    )


def _involvements(facts: ChildFacts) -> list[InvolvementPublic]:
    return key_people_first([involvement_shown(facts, i, o) for i, o in facts.involvements])


def key_people_first(shown: list[InvolvementPublic]) -> list[InvolvementPublic]:
    """Key worker, lead professional and allocated worker first (DOMAIN.md R1)."""
    return sorted(
        shown,
        key=lambda i: not (i.is_key_worker or i.is_lead_professional or i.is_allocated_worker),
    )


def _named(facts: ChildFacts, code: str | None, types: frozenset[str]) -> Organisation | None:
    organisation = facts.named.get(code) if code else None
    return organisation if organisation is not None and organisation.type in types else None


_GP_TYPES = frozenset({OrganisationType.GP_PRACTICE.value})
_EDUCATION_TYPES = frozenset(t.value for t in EDUCATION_TYPES)


def _gp_practice(facts: ChildFacts) -> GpPracticePublic:
    child = facts.record.child
    practice = _named(facts, child.gp_ods_code, _GP_TYPES)
    return GpPracticePublic(
        status=child.gp_status,
        ods_code=child.gp_ods_code,
        phone=child.gp_phone,
        name=practice.name if practice else None,
        contact=contact_of(practice),
    )


def _education(facts: ChildFacts) -> EducationPublic:
    child = facts.record.child
    setting = _named(facts, child.school_urn, _EDUCATION_TYPES)
    return EducationPublic(
        status=child.education_status,
        urn=child.school_urn,
        phone=child.school_phone,
        name=setting.name if setting else None,
        contact=contact_of(setting),
    )


_BUILDERS: dict[str, Callable[[ChildFacts], Any]] = {
    "id": lambda f: f.record.child.id,
    "status": lambda f: ChildStatus(f.record.child.status),
    "shielded": lambda f: f.record.child.shielded,
    "notice": lambda f: SHIELDED_NOTICE,
    "contact": lambda f: f.authority_contact,
    "names": lambda f: [NamePublic.model_validate(n, from_attributes=True) for n in f.record.names],
    "date_of_birth": lambda f: f.record.child.date_of_birth,
    "mother": lambda f: (
        MotherPublic.model_validate(f.record.mother, from_attributes=True)
        if f.record.mother is not None
        else None
    ),
    "date_of_birth_precision": lambda f: f.record.child.date_of_birth_precision,
    "age_years": lambda f: age_in_years(f.record.child.date_of_birth, utcnow().date()),
    "nhs_number": lambda f: f.record.child.nhs_number,
    "nhs_number_status": lambda f: (
        f.record.child.nhs_number_status if f.record.child.nhs_number else None
    ),
    "nhs_number_region": lambda f: (
        nhs_number_region(f.record.child.nhs_number) if f.record.child.nhs_number else None
    ),
    "upn": lambda f: f.record.child.upn,
    "la_reference": lambda f: f.record.child.la_reference,
    "current_address": _current_address,
    "addresses": lambda f: [_address(a) for a in f.record.addresses],
    "carers": _carers,
    "gp_practice": _gp_practice,
    "education": _education,
    "responsible_authority": lambda f: f.record.child.responsible_authority,
    "responsible_authority_name": lambda f: authority_name(f.record.child.responsible_authority),
    "responsible_authority_contact": lambda f: f.authority_contact,
    "involvements": _involvements,
    "flags": lambda f: [flag_shown(f, flag, org) for flag, org in f.flags],
    "provenance": lambda f: {
        k: Provenance.model_validate(v) for k, v in f.record.child.provenance.items()
    },
    "version": lambda f: f.record.child.version,
    "created_at": lambda f: f.record.child.created_at,
    "updated_at": lambda f: f.record.child.updated_at,
}
