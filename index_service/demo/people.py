"""The people of the demo story: the personas (`demo/personas.py`) and a small staff of
synthetic practitioners in each demo organisation, as the `Principal`s the seed acts as.

Every one of them is vouched for by the local development issuer, so an involvement a
persona records under their own name is the one their token signs in as (the key-worker
persona *is* the key worker the alerts go to), and any other practitioner could be
signed in as with `index-service token --sub <subject>`. Names come from Faker under the
seed; phones from Ofcom's drama range for mobiles (07700 900000 to 900999, never a real
line); emails end in `.demo.example`."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from faker import Faker

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.demo.personas import Persona, persona
from index_service.organisations.models import Organisation, OrganisationType
from index_service.settings import DEV_ISSUER

# Their own direct lines, shown on the involvements they hold.
PERSONA_PHONES = {
    "key-worker": "07700 900101",
    "school-dsl": "07700 900102",
    "police-officer": "07700 900103",
    "ed-doctor": "07700 900104",
}
STAFF_PER_ORGANISATION = 3
_FIRST_STAFF_PHONE = 200  # 07700 900200 onwards: the personas keep 900100-900199


@dataclass(frozen=True)
class Practitioner:
    """Someone the seed acts as: a persona or a synthetic member of staff."""

    principal: Principal
    phone: str

    @property
    def name(self) -> str:
        return self.principal.name


@dataclass(frozen=True)
class NamedWorker:
    """A worker children's social care records by name, who has no login (an agency
    social worker): shown to enquirers like anyone involved, alerted by email only."""

    name: str
    phone: str
    email: str


def principal_of(
    organisation: Organisation, *, subject: str, name: str, email: str, role: Role
) -> Principal:
    return Principal(
        issuer=DEV_ISSUER,
        subject=subject,
        name=name,
        email=email,
        roles=frozenset({role}),
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_type=organisation.type,
        local_authority=organisation.local_authority,
    )


class Staff:
    """Who works where. Members are made on first asking, in the order asked, so the same
    seed and the same story give the same people."""

    def __init__(self, organisations: dict[str, Organisation], fake: Faker) -> None:
        self._organisations = organisations  # by code
        self._fake = fake
        self._members: dict[tuple[str, int], Practitioner] = {}
        self._phones = iter(range(_FIRST_STAFF_PHONE, 1000))

    def persona(self, key: str) -> Practitioner:
        chosen: Persona = persona(key)
        organisation = self._organisations[chosen.organisation_code]
        principal = Principal(
            issuer=DEV_ISSUER,
            subject=chosen.subject,
            name=chosen.name,
            email=chosen.email,
            roles=frozenset(chosen.roles),
            organisation_id=organisation.id,
            organisation_code=organisation.code,
            organisation_type=organisation.type,
            local_authority=organisation.local_authority,
        )
        return Practitioner(principal, PERSONA_PHONES.get(key, organisation.contact_phone or ""))

    def member(self, organisation_code: str, number: int = 0) -> Practitioner:
        """The `number`th (of `STAFF_PER_ORGANISATION`) practitioner of an organisation: a
        social worker in children's social care, a practitioner anywhere else."""
        key = (organisation_code, number % STAFF_PER_ORGANISATION)
        if key not in self._members:
            organisation = self._organisations[organisation_code]
            given, family = self._fake.first_name(), self._fake.last_name()
            role = (
                Role.SOCIAL_WORKER
                if organisation.type == OrganisationType.CHILDRENS_SOCIAL_CARE
                else Role.PRACTITIONER
            )
            principal = principal_of(
                organisation,
                subject=f"demo-{organisation_code.lower().removeprefix('demo-')}-{key[1] + 1}",
                name=f"{given} {family}",
                email=_email(given, family, organisation),
                role=role,
            )
            self._members[key] = Practitioner(principal, self._phone())
        return self._members[key]

    def agency_worker(self, organisation_code: str) -> NamedWorker:
        """A new social worker without a login, of this children's social care."""
        organisation = self._organisations[organisation_code]
        given, family = self._fake.first_name(), self._fake.last_name()
        worker = NamedWorker(
            name=f"{given} {family}",
            phone=self._phone(),
            email=_email(given, family, organisation),
        )
        return worker

    def _phone(self) -> str:
        return f"07700 900{next(self._phones, 999):03d}"


def _email(given: str, family: str, organisation: Organisation) -> str:
    """`given.family@<service>.<authority>.demo.example`, in plain ASCII letters."""
    local = ".".join(_ascii(part) for part in (given, family))
    service = organisation.type.replace("_", "-")
    authority = organisation.code.split("-")[1].lower() if "-" in organisation.code else "demo"
    return f"{local}@{service}.{authority}.demo.example"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", "-", plain.lower()).strip("-") or "staff"
