"""Exports of an auditor's selection: CSV, and a FHIR R4 Bundle of AuditEvent resources.
Both are generators over a server-side cursor, so a large export streams rather than
loading into memory."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from index_service.audit.chain import FIELDS
from index_service.audit.models import AuditEvent, Outcome

# Every column of an event, as the chain covers them, but the writing transaction's id.
CSV_COLUMNS = tuple(name for name in FIELDS if name != "xid")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: lists joined with `;`, JSON for objects,
    and a leading `'` before anything a spreadsheet would run as a formula."""
    if value is None:
        text = ""
    elif isinstance(value, list):
        text = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([_cell(getattr(event, name)) for name in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


DCM = "http://dicom.nema.org/resources/ontology/DCM"
_ACTION = {"POST": "C", "GET": "R", "PUT": "U", "PATCH": "U", "DELETE": "D"}
_OUTCOME = {Outcome.SUCCESS.value: "0", Outcome.REFUSED.value: "4", Outcome.FAILED.value: "8"}


def fhir_audit_event(event: AuditEvent) -> dict[str, Any]:
    """One event as a FHIR R4 AuditEvent resource."""
    action = "E" if event.action == "child:enquiry:create" else _ACTION.get(event.method, "E")
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"}
        if event.child_ids
        else {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": "urn:index-service:action", "code": event.action}],
        "action": action,
        "recorded": event.occurred_at.isoformat(),
        "outcome": _OUTCOME.get(event.outcome, "8"),
        "agent": _agents(event),
        "source": {
            "site": event.instance,
            "observer": {"display": f"index-service {event.instance}"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": _entities(event),
    }
    if event.reason:
        resource["outcomeDesc"] = event.reason
    if event.purpose:
        resource["purposeOfEvent"] = [
            {
                "coding": [{"system": "urn:index-service:purpose-of-use", "code": event.purpose}],
                **({"text": event.purpose_text} if event.purpose_text else {}),
            }
        ]
    return resource


def _agents(event: AuditEvent) -> list[dict[str, Any]]:
    person: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                    "code": "humanuser",
                    "display": "human user",
                }
            ]
        },
        "who": (
            {"identifier": {"system": event.issuer, "value": event.subject}}
            | ({"display": event.actor_name} if event.actor_name else {})
            if event.subject
            else {"display": "unauthenticated caller"}
        ),
        "requestor": True,
    }
    if event.roles:
        person["role"] = [
            {"coding": [{"system": "urn:index-service:role", "code": r}]} for r in event.roles
        ]
    if event.client_address:
        person["network"] = {"address": event.client_address, "type": "2"}
    agents = [person]
    if event.organisation:
        agents.append(
            {
                "type": {"text": "organisation"},
                "who": {
                    "identifier": {
                        "system": "urn:index-service:organisation",
                        "value": event.organisation,
                    }
                },
                "requestor": False,
            }
        )
    return agents


def _entities(event: AuditEvent) -> list[dict[str, Any]]:
    children = [
        {
            "what": {"identifier": {"system": "urn:index-service:child", "value": str(c)}},
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "1",
                "display": "Person",
            },
            "role": {
                "system": "http://terminology.hl7.org/CodeSystem/object-role",
                "code": "1",
                "display": "Patient",
            },
        }
        for c in event.child_ids
    ]
    details = [{"type": "route", "valueString": f"{event.method} {event.route}"}]
    if event.user_agent:
        details.append({"type": "user-agent", "valueString": event.user_agent})
    request = {
        "what": {"identifier": {"system": "urn:index-service:request", "value": event.request_id}},
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
            "code": "2",
            "display": "System Object",
        },
        "detail": details,
    }
    criteria = event.detail.get("criteria") if isinstance(event.detail, dict) else None
    if criteria:  # a search: what was searched for (base64 of its JSON, as FHIR asks)
        request["query"] = base64.b64encode(
            json.dumps(criteria, sort_keys=True, ensure_ascii=False).encode()
        ).decode()
    return [*children, request]


def fhir_bundle_chunks(events: Iterable[AuditEvent]) -> Iterator[str]:
    """A FHIR R4 Bundle (type collection) of AuditEvent resources, a piece at a time."""
    yield '{"resourceType":"Bundle","type":"collection","entry":['
    first = True
    for event in events:
        entry = {"fullUrl": f"urn:uuid:{event.id}", "resource": fhir_audit_event(event)}
        yield ("" if first else ",") + json.dumps(entry, ensure_ascii=False)
        first = False
    yield "]}"
