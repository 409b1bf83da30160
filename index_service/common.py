"""Small shared pieces: time, ids and the domain codes every package uses."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from index_service.reference.local_authorities import is_english_authority


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """Ids are random (version 4) UUIDs: never sequential, never guessable."""
    return uuid.uuid4()


# ONS/GSS code of a local authority, e.g. E09000009 (Ealing). England's are E06-E10.
LA_CODE_PATTERN = r"^[EWSN][0-9]{8}$"


def known_local_authority(value: str) -> str:
    """Only a current English authority on the shipped ONS list: a well-formed but unknown
    code (E09000099) would address alerts to an inbox nobody reads. The message names the
    list, never the value."""
    if not is_english_authority(value):
        raise ValueError("not a current English local authority on the ONS list")
    return value


LocalAuthorityCode = Annotated[
    str,
    StringConstraints(pattern=LA_CODE_PATTERN, strip_whitespace=True),
    AfterValidator(known_local_authority),
]


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

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def no_control_characters(value: str) -> str:
    """Free text is one line of printable characters: control characters (NUL, newlines,
    escapes) are refused, so nothing stored can break a log line, a CSV export or JSONB."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters or line breaks")
    return value


# One text type per column width, so a schema can never accept more than its column holds.
def _text(max_length: int) -> object:
    return StringConstraints(min_length=1, max_length=max_length, strip_whitespace=True)


Text40 = Annotated[str, _text(40), AfterValidator(no_control_characters)]
Text60 = Annotated[str, _text(60), AfterValidator(no_control_characters)]
Text100 = Annotated[str, _text(100), AfterValidator(no_control_characters)]
Text200 = Annotated[str, _text(200), AfterValidator(no_control_characters)]
Text300 = Annotated[str, _text(300), AfterValidator(no_control_characters)]
ShortText = Text200
PersonName = Text100

_LA = re.compile(LA_CODE_PATTERN)


def is_local_authority_code(value: str) -> bool:
    return bool(_LA.match(value))
