"""UK postcodes: validation and the one normal form every table and comparison uses."""

from __future__ import annotations

import re

# The UK postcode grammar (outward code: area, district; inward code: sector, unit),
# plus GIR 0AA. Checked on the compact, upper-cased form.
_POSTCODE = re.compile(
    r"^(?:GIR0AA|"
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|"
    r"[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


class InvalidPostcode(ValueError):
    pass


def normalise_postcode(raw: str) -> str:
    """'sw1a1aa', ' SW1A  1AA ' -> 'SW1A 1AA'. Raises InvalidPostcode if it is not one."""
    compact = re.sub(r"\s+", "", raw).upper()
    if not _POSTCODE.match(compact):
        raise InvalidPostcode("not a UK postcode")  # never echo the value: it is personal data
    return f"{compact[:-3]} {compact[-3:]}"


def outward_code(postcode: str) -> str:
    """'SW1A 1AA' -> 'SW1A': the part that may be shown in a search summary."""
    return normalise_postcode(postcode).split(" ")[0]
