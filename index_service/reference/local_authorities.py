"""The ONS list of English local authorities (`local_authorities.csv`, source and date in
its header): an authority code is checked against it, so an alert can never be addressed
to an authority that does not exist, and answers name an authority, not only its code."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class LocalAuthority:
    code: str
    name: str
    official_name: str
    type: str  # mySociety's: UA, NMD, MD, LBO, CC (City of London), CTY


@cache
def local_authorities() -> dict[str, LocalAuthority]:
    text = files(__package__).joinpath("local_authorities.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        row["code"]: LocalAuthority(row["code"], row["name"], row["official_name"], row["type"])
        for row in rows
    }


def is_english_authority(code: str) -> bool:
    return code in local_authorities()


def authority_name(code: str) -> str | None:
    found = local_authorities().get(code)
    return found.name if found else None
