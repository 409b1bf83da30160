"""The audit chain's canonical encoding and hash (version 2), and the commitment that
lets the personal part of an event be erased at retention without breaking the chain.

An event has a *personal part*: its `purpose_text` and the keys of `detail` named in
`PERSONAL_DETAIL_KEYS` (the enquiry's criteria, the comparisons shown with their names,
a change's before and after, free-text notes). It is stored beside the rest, in the same
row, and never chained itself. What is chained is a salted commitment to it:

    personal_hash = SHA-256(personal_salt || JCS({"detail": {...}, "purpose_text": ...}))

with a 16-byte random `personal_salt` per event, stored beside the data and erased with
it (`audit/retention.py`): after erasure nobody can test a guess of the erased data
against the hash. An event without a personal part has neither (both null).

The canonical content of an event is the RFC 8785 (JSON Canonicalization Scheme)
encoding, in UTF-8, of one JSON object holding its chain position and

    position, id, seq, xid, occurred_at, action, outcome, status_code, reason, issuer,
    subject, actor_name, organisation, roles, child_ids, purpose, method, route,
    request_id, instance, client_address, user_agent, detail (without the personal
    keys), personal_hash (hex, or null)

with ids and `xid` as strings, `occurred_at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), and
absent values as null. Integers beyond JSON's exact range (2^53) are written as
strings. The chain hash after the event at position p is

    hash(p) = SHA-256(hash(p - 1) || canonical(event at p)),   hash(0) = 32 zero bytes.

Changing any chained field, removing an event or moving it changes every hash from there
on; changing the personal part while it is present breaks its commitment; erasing it
(salt and data together) changes nothing chained. Signed checkpoints of the head
(`audit/checkpoints.py`) stop the chain being recomputed.

Version 1 chained the whole row, personal part included, so it could not survive
erasure. Migration 0020 checked every version-1 link, kept each seal's version-1 hash
(`audit_seal.v1_hash`, which version-1 checkpoints are still checked against) and
re-chained the trail under version 2; `canonical_v1` is kept for that.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

CHAIN_VERSION = 2
GENESIS = bytes(32)
SALT_BYTES = 16
# The keys of `detail` that hold personal data (of a child or of a member of the public):
# erased at retention. Migration 0020's erasure guard names the same keys.
PERSONAL_DETAIL_KEYS = (
    "criteria",  # an enquiry's criteria as searched on (names, birth date, postcode)
    "explanations",  # the candidates' comparisons, with the names shown
    "enquiry_contact",  # an enquiry-only contact's comparison
    "changes",  # a change's field diff (before and after)
    "note",  # free text: an acknowledgement's note, a legal hold's reason
    "distinct_reason",  # why a registration is a different child (free text)
    "person_search",  # the words an administrator searched people by
)
_PERSONAL = frozenset(PERSONAL_DETAIL_KEYS)
FIELDS_V1 = (
    "id",
    "seq",
    "xid",
    "occurred_at",
    "action",
    "outcome",
    "status_code",
    "reason",
    "issuer",
    "subject",
    "actor_name",
    "organisation",
    "roles",
    "child_ids",
    "purpose",
    "purpose_text",
    "method",
    "route",
    "request_id",
    "instance",
    "client_address",
    "user_agent",
    "detail",
)
FIELDS = tuple(f for f in FIELDS_V1 if f not in ("purpose_text", "detail"))
_EXACT = 2**53 - 1
# The columns of `audit_event` as the chain reads them (`e` is the table's alias).
EVENT_COLUMNS = ", ".join(
    "e.xid::text AS xid" if f == "xid" else f"e.{f}"
    for f in (*FIELDS_V1, "personal_salt", "personal_hash")
)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and abs(value) >= _EXACT and value != float("inf"):
        # JSONB gives such a float back as an integer (1e16 -> 10000000000000000): written
        # the same way whether it comes from the service (the commitment) or the database.
        return str(int(value))
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -_EXACT <= value <= _EXACT else str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    if name == "xid":
        return str(value)
    if name == "child_ids":
        return [str(v) for v in value]
    return _json_safe(value)


def public_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """`detail` without its personal keys: the part that is chained."""
    return {k: v for k, v in detail.items() if k not in _PERSONAL}


def personal_part(purpose_text: str | None, detail: Mapping[str, Any]) -> dict[str, Any] | None:
    """The personal part of an event, or None if it has none."""
    personal = {k: detail[k] for k in PERSONAL_DETAIL_KEYS if k in detail}
    if purpose_text is None and not personal:
        return None
    return {"purpose_text": purpose_text, "detail": personal}


def commitment(salt: bytes, personal: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(salt + rfc8785.dumps(_json_safe(personal))).digest()


def commit(
    purpose_text: str | None, detail: Mapping[str, Any]
) -> tuple[bytes | None, bytes | None]:
    """(salt, commitment) for a new event's personal part; (None, None) if it has none."""
    personal = personal_part(purpose_text, detail)
    if personal is None:
        return None, None
    salt = os.urandom(SALT_BYTES)
    return salt, commitment(salt, personal)


PERSONAL_PRESENT = "present"  # the personal part is there and matches its commitment
PERSONAL_NONE = "none"  # the event never had one
PERSONAL_ERASED = "erased"  # erased at retention: only the chain can be checked
PERSONAL_ALTERED = "altered"  # present, but not what was committed to (or no commitment)


def personal_state(event: Mapping[Any, Any]) -> str:
    """What can be said of a stored event's personal part (a row with EVENT_COLUMNS)."""
    personal = personal_part(event["purpose_text"], event["detail"] or {})
    salt, committed = event["personal_salt"], event["personal_hash"]
    if salt is None:
        if personal is not None:
            return PERSONAL_ALTERED  # data with nothing to check it against
        return PERSONAL_NONE if committed is None else PERSONAL_ERASED
    if committed is None or personal is None:
        return PERSONAL_ALTERED
    if commitment(bytes(salt), personal) != bytes(committed):
        return PERSONAL_ALTERED
    return PERSONAL_PRESENT


def canonical(position: int, event: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of the event at `position` (a row of `audit_event`)."""
    content = {name: _plain(name, event[name]) for name in FIELDS}
    content["detail"] = _json_safe(public_detail(event["detail"] or {}))
    committed = event["personal_hash"]
    content["personal_hash"] = bytes(committed).hex() if committed is not None else None
    content["position"] = position
    return rfc8785.dumps(content)


def link(previous: bytes, position: int, event: Mapping[Any, Any]) -> bytes:
    """The chain hash after `event`, placed at `position` after a chain ending in `previous`."""
    return hashlib.sha256(previous + canonical(position, event)).digest()


def canonical_v1(position: int, event: Mapping[Any, Any]) -> bytes:
    """Version 1's canonical bytes: every column, the personal part included."""
    content = {name: _plain(name, event[name]) for name in FIELDS_V1}
    content["position"] = position
    return rfc8785.dumps(content)


def link_v1(previous: bytes, position: int, event: Mapping[Any, Any]) -> bytes:
    return hashlib.sha256(previous + canonical_v1(position, event)).digest()
