"""Small shared pieces: time, ids and the domain codes every package uses."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, StringConstraints


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """Ids are random (version 4) UUIDs: never sequential, never guessable."""
    return uuid.uuid4()


# ONS/GSS code of a local authority, e.g. E09000009 (Ealing). England's are E06-E10.
LA_CODE_PATTERN = r"^[EWSN][0-9]{8}$"
LocalAuthorityCode = Annotated[str, StringConstraints(pattern=LA_CODE_PATTERN)]


# NHS Organisation Data Service code (GP practice A81001, trust RJ1, ...).
def upper_stripped(value: object) -> object:
    """Codes are compared upper case; pydantic checks a pattern before `to_upper` applies."""
    return value.strip().upper() if isinstance(value, str) else value


OdsCode = Annotated[
    str, BeforeValidator(upper_stripped), StringConstraints(pattern=r"^[A-Z0-9]{3,8}$")
]
# DfE Unique Reference Number of a school or early-years setting.
Urn = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,8}$", strip_whitespace=True)]
# UK telephone number as people write it: digits, spaces, +, brackets, hyphens.
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()\-]{6,24}$", strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]

_LA = re.compile(LA_CODE_PATTERN)


def is_local_authority_code(value: str) -> bool:
    return bool(_LA.match(value))
