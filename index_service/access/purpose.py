"""Purpose of use: every request that touches child data states why, from a fixed list,
with a short free text. It travels in two request headers, so that it is checked before
anything else is read, is the same for every route, and never lands in a URL:

    Purpose-Of-Use: safeguarding_concern
    Purpose-Text: ED attendance at 03:10, bruising unexplained

`Purpose-Text` is UTF-8; percent-encode it (`Zo%C3%AB`) if it holds characters outside
ASCII. Both are stored with the request's audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from index_service.common import one_line_of_text
from index_service.errors import DomainError

PURPOSE_HEADER = "Purpose-Of-Use"
PURPOSE_TEXT_HEADER = "Purpose-Text"
MAX_PURPOSE_TEXT = 200


class PurposeCode(StrEnum):
    SAFEGUARDING_CONCERN = "safeguarding_concern"
    PROVIDING_A_SERVICE = "providing_a_service"
    HEALTH_CARE = "health_care"
    EDUCATION_WELFARE = "education_welfare"
    POLICE_INVESTIGATION = "police_investigation"
    AUDIT = "audit"
    DATA_QUALITY = "data_quality"

    @classmethod
    def _missing_(cls, value: object) -> PurposeCode | None:
        """The one place a code's case and surrounding spaces are forgiven
        (`HEALTH_CARE`, ` health_care`): the security check, the documented header's
        validation and the pages' form all read codes through this enum."""
        if isinstance(value, str):
            wanted = value.strip().lower()
            for member in cls:
                if member.value == wanted:
                    return member
        return None


class PurposeRequired(DomainError):
    status = 400
    code = "purpose_required"
    title = "State the purpose of this access"


@dataclass(frozen=True)
class Purpose:
    code: PurposeCode
    text: str


def purpose_from_headers(code: str | None, text: str | None) -> Purpose:
    """The stated purpose, or a 400 that says exactly what is missing or wrong."""
    return purpose_of(code, _decoded(text), field=PURPOSE_HEADER, text_field=PURPOSE_TEXT_HEADER)


def purpose_of(
    code: str | None,
    text: str | None,
    *,
    field: str = "purpose",
    text_field: str = "purpose_text",
) -> Purpose:
    """The purpose from its code and its (decoded) text: the one check for the API's
    headers and the pages' form, each naming its own fields in what it says."""
    codes = ", ".join(c.value for c in PurposeCode)
    if code is None or not code.strip():
        raise PurposeRequired(
            f"send the {field} header with one of: {codes}"
            if field == PURPOSE_HEADER
            else f"choose the {field}",
            code="purpose_required",
        )
    try:
        purpose_code = PurposeCode(code)
    except ValueError:
        raise PurposeRequired(f"{field} must be one of: {codes}", code="purpose_unknown") from None
    decoded = (text or "").strip()
    if not decoded:
        raise PurposeRequired(
            f"send the {text_field} header: a few words on why you need this"
            if text_field == PURPOSE_TEXT_HEADER
            else f"give the {text_field}: a few words on why you need this",
            code="purpose_text_required",
        )
    if len(decoded) > MAX_PURPOSE_TEXT:
        raise PurposeRequired(
            f"{text_field} may be at most {MAX_PURPOSE_TEXT} characters",
            code="purpose_text_too_long",
        )
    try:
        one_line_of_text(decoded)
    except ValueError as reason:  # says what is wrong, never quotes the text
        raise PurposeRequired(
            f"{text_field} is one line of visible text: it {reason}",
            code="purpose_text_invalid",
        ) from None
    return Purpose(code=purpose_code, text=decoded)


def _decoded(text: str | None) -> str:
    """Header text as sent: raw UTF-8 (which HTTP hands over as Latin-1) or percent-encoded."""
    if not text:
        return ""
    try:
        raw = text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raw = text
    try:
        return unquote(raw, errors="strict").strip()
    except UnicodeDecodeError:
        raise PurposeRequired(
            f"{PURPOSE_TEXT_HEADER} is not valid UTF-8", code="purpose_text_invalid"
        ) from None
