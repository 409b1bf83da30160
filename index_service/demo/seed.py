"""`index-service seed-demo`: a few organisations of every type in three local authorities,
and a few hundred synthetic children with British names, aliases, addresses, carers, GPs
and schools. Everything is generated from a seed; NHS numbers come from the 999 range
that the NHS reserves for test data, and organisation codes start with DEMO."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker
from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.children.identifiers import upn_check_letter
from index_service.children.schemas import ChildCreate
from index_service.children.service import create_child
from index_service.common import utcnow
from index_service.organisations.models import Organisation, OrganisationCreate, OrganisationType
from index_service.organisations.service import create_organisation

DEMO_PREFIX = "DEMO"


@dataclass(frozen=True)
class DemoAuthority:
    ons_code: str
    short: str
    name: str
    dfe_number: int  # the DfE local authority number that starts a UPN
    districts: tuple[str, ...]  # postcode outward codes


AUTHORITIES = (
    DemoAuthority("E09000009", "EAL", "Ealing", 307, ("W5", "W7", "W13", "UB1", "UB6")),
    DemoAuthority("E09000014", "HRY", "Haringey", 309, ("N8", "N15", "N17", "N22")),
    DemoAuthority("E09000005", "BRT", "Brent", 304, ("NW10", "HA9", "NW2", "NW6")),
)
_ORG_TYPES = tuple(t for t in OrganisationType if t is not OrganisationType.INDEX_OPERATOR)


@dataclass
class SeedResult:
    organisations: int = 0
    children: int = 0
    skipped: bool = False
    codes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return "demo data is already loaded; nothing to do"
        return f"created {self.organisations} organisations and {self.children} children"


def synthetic_nhs_number(rng: random.Random) -> str:
    """A valid NHS number in the 999 test range (never issued to a person)."""
    while True:
        body = "999" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return body + str(check)


def synthetic_upn(rng: random.Random, authority: DemoAuthority) -> str:
    body = f"{authority.dfe_number:03d}{rng.randint(2000, 2999):04d}{rng.randint(10, 25):02d}"
    body += f"{rng.randint(0, 999):03d}"
    return upn_check_letter(body) + body


def seed_demo_data(*, session: Session, children: int, seed: int, once: bool) -> SeedResult:
    existing = session.exec(
        select(Organisation).where(col(Organisation.code).startswith(DEMO_PREFIX))
    ).first()
    if once and existing is not None:
        return SeedResult(skipped=True)
    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    result = SeedResult()
    by_authority = {a.ons_code: _seed_organisations(session, a, result) for a in AUTHORITIES}
    _seed_operator(session, result)
    for number in range(children):
        authority = AUTHORITIES[number % len(AUTHORITIES)]
        manager = _data_manager(by_authority[authority.ons_code])
        data = _child(rng, fake, authority, by_authority[authority.ons_code])
        create_child(session=session, caller=manager, data=data)
        result.children += 1
    return result


def _seed_organisations(
    session: Session, authority: DemoAuthority, result: SeedResult
) -> dict[OrganisationType, Organisation]:
    made: dict[OrganisationType, Organisation] = {}
    for number, kind in enumerate(_ORG_TYPES, start=1):
        code = f"{DEMO_PREFIX}-{authority.short}-{number:02d}"
        data = OrganisationCreate(
            code=code,
            name=f"{authority.name} {kind.value.replace('_', ' ')} (demo)",
            type=kind,
            local_authority=authority.ons_code,
            contact_phone=f"020 7946 0{number:03d}",  # Ofcom's drama range: never a real line
            contact_email=f"{kind.value.replace('_', '-')}@{authority.short.lower()}.demo.example",
            out_of_hours_phone=f"020 7946 0{number + 500:03d}",
        )
        made[kind] = create_organisation(session=session, caller=None, data=data)
        result.organisations += 1
        result.codes.append(code)
    return made


def _seed_operator(session: Session, result: SeedResult) -> None:
    data = OrganisationCreate(
        code=f"{DEMO_PREFIX}-OPS",
        name="Index operations (demo)",
        type=OrganisationType.INDEX_OPERATOR,
        local_authority=AUTHORITIES[0].ons_code,
    )
    create_organisation(session=session, caller=None, data=data)
    result.organisations += 1
    result.codes.append(data.code)


def _data_manager(orgs: dict[OrganisationType, Organisation]) -> Principal:
    csc = orgs[OrganisationType.CHILDRENS_SOCIAL_CARE]
    return Principal(
        issuer="urn:index-service:seed-demo",
        subject="seed-demo",
        name="Demo loader",
        email="seed@demo.example",
        roles=frozenset({Role.DATA_MANAGER}),
        organisation_id=csc.id,
        organisation_code=csc.code,
        organisation_type=csc.type,
        local_authority=csc.local_authority,
    )


def _child(
    rng: random.Random,
    fake: Faker,
    authority: DemoAuthority,
    orgs: dict[OrganisationType, Organisation],
) -> ChildCreate:
    today = utcnow().date()
    dob = today - timedelta(days=rng.randint(30, 17 * 365))
    female = rng.random() < 0.5
    given = fake.first_name_female() if female else fake.first_name_male()
    family = fake.last_name()
    if rng.random() < 0.08:
        family = f"{family}-{fake.last_name()}"
    names = [{"kind": "legal", "given_names": given, "family_name": family}]
    if rng.random() < 0.15:
        names.append({"kind": "alias", "given_names": fake.first_name(), "family_name": family})
    if rng.random() < 0.10:
        names.append({"kind": "previous", "given_names": given, "family_name": fake.last_name()})
    age = (today - dob).days // 365
    return ChildCreate.model_validate(
        {
            "names": names,
            "date_of_birth": dob.isoformat(),
            "date_of_birth_precision": "exact" if rng.random() < 0.95 else "estimated",
            "nhs_number": synthetic_nhs_number(rng) if rng.random() < 0.9 else None,
            "upn": synthetic_upn(rng, authority) if age >= 5 and rng.random() < 0.8 else None,
            "addresses": _addresses(rng, fake, authority, dob),
            "carers": _carers(rng, fake, family),
            "gp_practice": {
                "status": "registered",
                "ods_code": f"DM{authority.short}01",
                "phone": "020 7946 0100",
            }
            if rng.random() < 0.92
            else {"status": rng.choice(["unknown", "not_registered"])},
            "education": _education(rng, age, orgs),
            "responsible_authority": authority.ons_code,
        }
    )


def _addresses(
    rng: random.Random, fake: Faker, authority: DemoAuthority, dob: date
) -> list[dict[str, str | None]]:
    count = rng.choice([1, 1, 1, 2, 2, 3])
    moved = sorted(
        {
            dob + timedelta(days=rng.randint(0, max(1, (utcnow().date() - dob).days)))
            for _ in range(count - 1)
        }
    )
    starts = [dob, *moved]
    addresses = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else None
        district = rng.choice(authority.districts)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        inward = f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        addresses.append(
            {
                "line1": fake.street_address().replace("\n", ", ")[:200],
                "town": "London",
                "postcode": f"{district} {inward}",
                "local_authority": authority.ons_code,
                "from_date": start.isoformat(),
                "to_date": end.isoformat() if end else None,
            }
        )
    return addresses


def _carers(rng: random.Random, fake: Faker, family: str) -> dict[str, object]:
    roll = rng.random()
    if roll < 0.05:
        return {"status": "unknown"}
    if roll < 0.07:
        return {"status": "none"}
    people = [
        {
            "name": f"{fake.first_name_female()} {family}",
            "relationship": "mother",
            "phone": f"07700 900{rng.randint(0, 999):03d}",
        }
    ]
    if rng.random() < 0.5:
        people.append(
            {
                "name": f"{fake.first_name_male()} {fake.last_name()}",
                "relationship": rng.choice(["father", "stepfather", "grandparent"]),
                "phone": f"07700 900{rng.randint(0, 999):03d}",
            }
        )
    return {"status": "known", "people": people}


def _education(
    rng: random.Random, age: int, orgs: dict[OrganisationType, Organisation]
) -> dict[str, object]:
    if age < 3:
        return {"status": "not_of_school_age"}
    if rng.random() < 0.04:
        return {"status": rng.choice(["not_in_education", "unknown"])}
    setting = orgs[OrganisationType.EARLY_YEARS if age < 5 else OrganisationType.SCHOOL]
    urn = f"{zlib.crc32(setting.code.encode()) % 900000 + 100000}"
    return {"status": "attending", "urn": urn, "phone": "020 7946 0200"}
