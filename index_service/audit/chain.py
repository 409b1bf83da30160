"""The audit chain's canonical encoding and hash (version 1).

An event's canonical content is the RFC 8785 (JSON Canonicalization Scheme) encoding, in
UTF-8, of one JSON object holding its chain position and every column of `audit_event`:

    position, id, seq, xid, occurred_at, action, outcome, status_code, reason, issuer,
    subject, actor_name, organisation, roles, child_ids, purpose, purpose_text, method,
    route, request_id, instance, client_address, user_agent, detail

with ids and `xid` as strings, `occurred_at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), and
absent values as null. Integers in `detail` beyond JSON's exact range (2^53) are written
as strings. The chain hash after the event at position p is

    hash(p) = SHA-256(hash(p - 1) || canonical(event at p)),   hash(0) = 32 zero bytes.

Changing any field, removing an event or moving it changes every hash from there on;
signed checkpoints of the head (`audit/checkpoints.py`) stop the chain being recomputed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

CHAIN_VERSION = 1
GENESIS = bytes(32)
FIELDS = (
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
_EXACT = 2**53 - 1
# The columns of `audit_event` as the chain reads them (`e` is the table's alias).
EVENT_COLUMNS = ", ".join("e.xid::text AS xid" if f == "xid" else f"e.{f}" for f in FIELDS)


def _json_safe(value: Any) -> Any:
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


def canonical(position: int, event: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of the event at `position` (a row of `audit_event`)."""
    content = {name: _plain(name, event[name]) for name in FIELDS}
    content["position"] = position
    return rfc8785.dumps(content)


def link(previous: bytes, position: int, event: Mapping[Any, Any]) -> bytes:
    """The chain hash after `event`, placed at `position` after a chain ending in `previous`."""
    return hashlib.sha256(previous + canonical(position, event)).digest()
