"""Small shared pieces: time, ids and the domain codes every package uses."""

from __future__ import annotations

import re
import unicodedata
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


def _invisible_format(character: str) -> bool:
    """Unicode's format characters (category Cf): zero-width spaces and joiners, the
    bidirectional embeddings, overrides and isolates, the byte-order mark, soft hyphens."""
    return unicodedata.category(character) == "Cf"


def _combining(character: str) -> bool:
    return unicodedata.category(character).startswith("M")


def one_line_of_text(value: str) -> str:
    """Free text is one visible line. Refused, with a reason that never quotes the value:
    - control characters and line breaks (NUL, newlines, escapes), which could break a log
      line, a CSV export or JSONB;
    - invisible format characters: a zero-width character makes two names that look the
      same differ (a duplicate the guard cannot see, an alias nobody can type), and a
      bidirectional control reorders what an auditor reads ("Trojan Source"). Scripts
      that use ZWNJ/ZWJ in names are written without them here, as official records do;
    - text that begins with a combining mark (a combining-only string among them): it has
      nothing to combine with, and renders over whatever is printed before it."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters or line breaks")
    if any(_invisible_format(c) for c in value):
        raise ValueError(
            "must not contain invisible formatting characters (zero-width or bidirectional)"
        )
    stripped = value.lstrip()
    if stripped and _combining(stripped[0]):
        raise ValueError("must not begin with a combining mark")
    return value


def with_invisibles_replaced(value: str) -> str:
    """Text kept as evidence although it was refused (what an unverifiable token claimed):
    control and invisible format characters become U+FFFD, so the record shows that
    something was there without letting it break or reorder what is read."""
    return "".join("\ufffd" if _CONTROL.match(c) or _invisible_format(c) else c for c in value)


# One text type per column width, so a schema can never accept more than its column holds.
def _text(max_length: int) -> object:
    return StringConstraints(min_length=1, max_length=max_length, strip_whitespace=True)


Text40 = Annotated[str, _text(40), AfterValidator(one_line_of_text)]
Text60 = Annotated[str, _text(60), AfterValidator(one_line_of_text)]
Text100 = Annotated[str, _text(100), AfterValidator(one_line_of_text)]
Text200 = Annotated[str, _text(200), AfterValidator(one_line_of_text)]
Text300 = Annotated[str, _text(300), AfterValidator(one_line_of_text)]
ShortText = Text200
PersonName = Text100

_LA = re.compile(LA_CODE_PATTERN)


def is_local_authority_code(value: str) -> bool:
    return bool(_LA.match(value))
