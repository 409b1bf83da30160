"""`index-service seed-demo`: one organisation of every type in three local authorities,
a few hundred synthetic children with British names, aliases, addresses, carers, GPs and
schools, and the story told with them: who is working with a good share of them and the
flags they carry (`demo/casework.py`), and the story's own children (`demo/cases.py`),
through the personas (`demo/personas.py`) and synthetic staff (`demo/people.py`).
Everything is generated from a seed; NHS numbers come from the 999 range that the NHS
reserves for test data, and organisation codes start with DEMO."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker
from sqlmodel import Session, col, select

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.audit.service import record_system_event
from index_service.children.identifiers import upn_check_letter
from index_service.children.schemas import ChildCreate
from index_service.children.service import ChildRecord, create_child
from index_service.common import utcnow
from index_service.demo.acts import Acts, Tally
from index_service.demo.cases import seed_story
from index_service.demo.casework import Casework
from index_service.demo.people import Staff
from index_service.demo.places import (
    AUTHORITIES,
    DEMO_PREFIX,
    OPERATOR_CODE,
    ORG_TYPES,
    DemoAuthority,
    org_code,
    org_name,
    urn_of,
)
from index_service.organisations.models import Organisation, OrganisationCreate, OrganisationType
from index_service.organisations.service import create_organisation
from index_service.settings import Settings

__all__ = ["AUTHORITIES", "DEMO_PREFIX", "DemoAuthority", "SeedResult", "seed_demo_data"]


@dataclass
class SeedResult:
    organisations: int = 0
    children: int = 0  # generated
    story_children: int = 0
    tally: Tally = field(default_factory=Tally)
    skipped: bool = False
    codes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return "demo data is already loaded; nothing to do"
        return (
            f"created {self.organisations} organisations, {self.children} generated children "
            f"and the story's {self.story_children}, with {self.tally.involvements} "
            f"involvements and {self.tally.flags} flags"
        )


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


def seed_demo_data(
    *, session: Session, children: int, seed: int, once: bool, settings: Settings
) -> SeedResult:
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
    managers = {code: _data_manager(orgs) for code, orgs in by_authority.items()}
    generated: list[tuple[DemoAuthority, ChildRecord]] = []
    for number in range(children):
        authority = AUTHORITIES[number % len(AUTHORITIES)]
        data = _child(rng, fake, authority)
        record = create_child(session=session, caller=managers[authority.ons_code], data=data)
        generated.append((authority, record))
        # Kept as loaded; the session need not track it (a record's writes check every
        # object the session holds, so holding hundreds makes each child slower).
        session.expunge_all()
    result.children = len(generated)
    # The story, from random streams of its own: the generated children stay as they were.
    staff_names = Faker("en_GB")
    staff_names.seed_instance(f"{seed}:staff")
    staff = Staff({o.code: o for orgs in by_authority.values() for o in orgs.values()}, staff_names)
    acts = Acts(session=session, settings=settings)
    result.story_children = len(seed_story(acts, staff, lambda a: managers[a.ons_code]))
    Casework(acts, staff, random.Random(f"{seed}:casework")).add(generated)
    result.tally = acts.tally
    record_system_event(  # loading the demo is an act on the index like any other
        session=session,
        action="demo:data:load",
        instance=settings.instance_name,
        part="cli:seed-demo",
        detail={
            "seed": seed,
            "children": result.children + result.story_children,
            "enquiries": acts.tally.enquiries,
            "involvements": acts.tally.involvements,
            "flags": acts.tally.flags,
        },
    )
    return result


def _seed_organisations(
    session: Session, authority: DemoAuthority, result: SeedResult
) -> dict[OrganisationType, Organisation]:
    made: dict[OrganisationType, Organisation] = {}
    for number, kind in enumerate(ORG_TYPES, start=1):
        code = org_code(authority, kind)
        data = OrganisationCreate(
            code=code,
            name=org_name(authority, kind),
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
        code=OPERATOR_CODE,
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


def _child(rng: random.Random, fake: Faker, authority: DemoAuthority) -> ChildCreate:
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
            "education": _education(rng, age, authority),
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


def _education(rng: random.Random, age: int, authority: DemoAuthority) -> dict[str, object]:
    if age < 3:
        return {"status": "not_of_school_age"}
    if rng.random() < 0.04:
        return {"status": rng.choice(["not_in_education", "unknown"])}
    setting = org_code(
        authority, OrganisationType.EARLY_YEARS if age < 5 else OrganisationType.SCHOOL
    )
    return {"status": "attending", "urn": urn_of(setting), "phone": "020 7946 0200"}
