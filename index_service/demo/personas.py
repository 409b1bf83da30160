"""The demo personas: the people `seed-demo`'s story is told through. The development-only
"sign in as" page lists them, `index-service token --persona` could mint for them, and
the README's walk-through names them. Synthetic people in the demo organisations that
`seed-demo` makes (codes `DEMO-<authority>-<nn>`, numbered in `OrganisationType` order)."""

from __future__ import annotations

from dataclasses import dataclass

from index_service.access.roles import Role

# The issuer the demo personas are vouched for by: the local development issuer.
DEMO_ISSUER_NOTE = "the local development issuer (development only)"


@dataclass(frozen=True)
class Persona:
    key: str  # a short stable handle, e.g. for a "sign in as" button
    subject: str
    name: str
    email: str
    organisation_code: str
    roles: tuple[Role, ...]
    description: str  # who they are, in a sentence a demo visitor understands


PERSONAS: tuple[Persona, ...] = (
    Persona(
        key="ed-doctor",
        subject="demo-ed-doctor",
        name="Dr Priya Shah",
        email="priya.shah@ed.eal.demo.example",
        organisation_code="DEMO-EAL-05",
        roles=(Role.PRACTITIONER,),
        description="An emergency department doctor in Ealing, on a night shift.",
    ),
    Persona(
        key="key-worker",
        subject="demo-key-worker",
        name="Sam Okafor",
        email="sam.okafor@csc.hry.demo.example",
        organisation_code="DEMO-HRY-01",
        roles=(Role.SOCIAL_WORKER,),
        description="A Haringey social worker, key worker for Elodie Marchand (the "
        "scenario child), Leo Hartley and a few others.",
    ),
    Persona(
        key="designated-manager",
        subject="demo-designated-manager",
        name="Morgan Ellis",
        email="morgan.ellis@csc.hry.demo.example",
        organisation_code="DEMO-HRY-01",
        roles=(Role.DESIGNATED_MANAGER,),
        description="Haringey's designated manager: the team inbox and enquiry-only contacts.",
    ),
    Persona(
        key="school-dsl",
        subject="demo-school-dsl",
        name="Alex Turner",
        email="alex.turner@school.brt.demo.example",
        organisation_code="DEMO-BRT-11",
        roles=(Role.PRACTITIONER,),
        description="A Brent school's designated safeguarding lead, lead professional for "
        "Callum Reeves and some other pupils.",
    ),
    Persona(
        key="police-officer",
        subject="demo-police-officer",
        name="PC Jordan Reid",
        email="jordan.reid@police.eal.demo.example",
        organisation_code="DEMO-EAL-15",
        roles=(Role.PRACTITIONER,),
        description="A police officer in Ealing's child protection team.",
    ),
    Persona(
        key="data-manager",
        subject="demo-data-manager",
        name="Dana Manager",
        email="dana.manager@csc.eal.demo.example",
        organisation_code="DEMO-EAL-01",
        roles=(Role.DATA_MANAGER,),
        description="Ealing's data manager: keeps the authority's children's records.",
    ),
    Persona(
        key="auditor",
        subject="demo-auditor",
        name="Robin Clarke",
        email="robin.clarke@csc.eal.demo.example",
        organisation_code="DEMO-EAL-01",
        roles=(Role.AUDITOR,),
        description="Ealing's auditor: who looked at which child, and why.",
    ),
    Persona(
        key="administrator",
        subject="demo-administrator",
        name="Ash Admin",
        email="ash.admin@ops.demo.example",
        organisation_code="DEMO-OPS",
        roles=(Role.ADMINISTRATOR,),
        description="The index operator's administrator: organisations and identity providers.",
    ),
)


def persona(key: str) -> Persona:
    """The persona with `key` (KeyError if there is none)."""
    for candidate in PERSONAS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
