"""Where the demo happens: three London authorities (the boroughs the real case moved
between) and the code of each demo organisation in them, `DEMO-<authority>-<nn>`,
numbered in `OrganisationType` order (`-01` is children's social care)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from index_service.organisations.models import OrganisationType

DEMO_PREFIX = "DEMO"


@dataclass(frozen=True)
class DemoAuthority:
    ons_code: str
    short: str
    name: str
    dfe_number: int  # the DfE local authority number that starts a UPN
    districts: tuple[str, ...]  # postcode outward codes


EALING = DemoAuthority("E09000009", "EAL", "Ealing", 307, ("W5", "W7", "W13", "UB1", "UB6"))
HARINGEY = DemoAuthority("E09000014", "HRY", "Haringey", 309, ("N8", "N15", "N17", "N22"))
BRENT = DemoAuthority("E09000005", "BRT", "Brent", 304, ("NW10", "HA9", "NW2", "NW6"))
AUTHORITIES = (EALING, HARINGEY, BRENT)
ORG_TYPES = tuple(t for t in OrganisationType if t is not OrganisationType.INDEX_OPERATOR)
OPERATOR_CODE = f"{DEMO_PREFIX}-OPS"
# What each kind of organisation is called in its name, as people say it.
_CALLED = {
    OrganisationType.CHILDRENS_SOCIAL_CARE: "children's social care",
    OrganisationType.GP_PRACTICE: "GP practice",
    OrganisationType.AMBULANCE: "ambulance service",
    OrganisationType.CAMHS: "CAMHS",
    OrganisationType.SEXUAL_HEALTH: "sexual health service",
    OrganisationType.SUBSTANCE_MISUSE: "substance misuse service",
    OrganisationType.EARLY_YEARS: "early years setting",
    OrganisationType.EDUCATION_WELFARE: "education welfare service",
    OrganisationType.YOUTH_JUSTICE: "youth offending team",
    OrganisationType.PROBATION: "probation service",
    OrganisationType.SECURE_ESTATE: "secure children's home",
    OrganisationType.HOUSING: "housing service",
    OrganisationType.CAFCASS: "Cafcass",
    OrganisationType.VOLUNTARY: "voluntary sector",
}


def org_code(authority: DemoAuthority, kind: OrganisationType) -> str:
    """The demo organisation of that kind in that authority."""
    return f"{DEMO_PREFIX}-{authority.short}-{ORG_TYPES.index(kind) + 1:02d}"


def org_name(authority: DemoAuthority, kind: OrganisationType) -> str:
    """`Haringey children's social care (demo)`: what the pages and alerts call it."""
    return f"{authority.name} {_CALLED.get(kind, kind.value.replace('_', ' '))} (demo)"


def urn_of(code: str) -> str:
    """The (made-up) URN a demo school or early-years setting is known by in records."""
    return f"{zlib.crc32(code.encode()) % 900000 + 100000}"
