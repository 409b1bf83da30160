"""What each audit action means, in plain words: one mapping for every action the service
writes to the trail (the permission vocabulary, the pages' own acts, the worker's), so that
a serious-case review or an auditor's page reads "opened the record", never
`child:record:read`. A sentence completes "<person> ...". `tests/audit/test_actions.py`
fails when the service writes an action that has no sentence here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from index_service.access.policy import Permission
from index_service.alerts.models import DeliveryStatus

SENTENCES: dict[str, str] = {
    Permission.CHILD_CREATE.value: "registered a child's record",
    Permission.CHILD_READ.value: "opened the record",
    Permission.CHILD_UPDATE.value: "corrected the record",
    Permission.CHILD_SHIELD.value: "shielded or unshielded the record",
    Permission.ENQUIRY_CREATE.value: "made an enquiry",
    Permission.ENQUIRY_OPEN.value: "opened the record from an enquiry",
    Permission.ENQUIRY_CONTACT_READ.value: "read who else enquired",
    Permission.ENQUIRY_CONTACT_CLOSE.value: "closed an enquiry's contact",
    Permission.INVOLVEMENT_RECORD.value: "recorded their involvement",
    Permission.INVOLVEMENT_END.value: "ended an involvement",
    Permission.FLAG_RAISE.value: "raised a flag",
    Permission.FLAG_REVIEW.value: "reviewed a flag",
    Permission.FLAG_END.value: "ended a flag",
    Permission.FLAG_OVERDUE_READ.value: "listed flags overdue for review",
    Permission.ALERT_READ.value: "read their alerts",
    Permission.ALERT_ACKNOWLEDGE.value: "acknowledged an alert",
    Permission.WEBHOOK_REGISTER.value: "registered a webhook endpoint",
    Permission.WEBHOOK_READ.value: "listed webhook endpoints",
    Permission.WEBHOOK_WITHDRAW.value: "withdrew a webhook endpoint",
    Permission.ORGANISATION_CREATE.value: "added an organisation",
    Permission.ORGANISATION_READ.value: "read the organisations",
    Permission.ORGANISATION_UPDATE.value: "changed an organisation",
    Permission.ORGANISATION_DEACTIVATE.value: "deactivated or reactivated an organisation",
    Permission.SUSPENSION_CREATE.value: "suspended someone's access",
    Permission.SUSPENSION_READ.value: "listed suspensions",
    Permission.SUSPENSION_LIFT.value: "lifted a suspension",
    Permission.ISSUER_REGISTER.value: "registered an identity provider",
    Permission.ISSUER_READ.value: "read the identity providers",
    Permission.ISSUER_WITHDRAW.value: "withdrew an identity provider",
    Permission.AUDIT_EVENT_SEARCH.value: "searched the audit trail",
    Permission.AUDIT_EVENT_EXPORT.value: "exported audit events",
    Permission.AUDIT_REPORT_READ.value: "read an audit report",
    Permission.AUDIT_CHAIN_VERIFY.value: "checked the audit trail's integrity",
    "web:page": "opened a page",
    "web:sign_in": "signed in to the pages",
    "web:sign_out": "signed out of the pages",
    "access:anomaly:many_children": "was flagged for looking at many children in an hour",
    "alert:raise": "was alerted",
    "child:enquiry_contact:destroy": "deleted an enquiry's contact details once kept long enough",
    f"alert:delivery:{DeliveryStatus.PENDING.value}": "tried to deliver an alert",
    f"alert:delivery:{DeliveryStatus.DELIVERED.value}": "delivered an alert",
    f"alert:delivery:{DeliveryStatus.ABANDONED.value}": "gave up delivering an alert",
    "demo:data:load": "loaded the demonstration data",
    Permission.FEED_SUBMIT.value: "sent an agency feed",
    "child:feed:apply": "applied a batch of an agency feed to the records",
    Permission.FEED_REVIEW.value: "decided a feed row queued for review",
    Permission.DATA_QUALITY_READ.value: "read the data-quality gaps",
    Permission.CHILD_MERGE.value: "merged two records of one child (or undid a merge)",
    Permission.CHILD_LEGAL_HOLD.value: "set or lifted a legal hold on a record",
    Permission.CHILD_SUBJECT_ACCESS.value: "produced a subject access report",
    "child:record:archive": "archived records at the age limit",
    "child:record:destroy": "destroyed records after the retention period",
    "audit:personal:erase": "erased the personal details of audit events past retention",
    "undeclared": "used a route that declares no permission",
}

# An enquiry's sentence says what it found (its `outcome` in the event's detail).
ENQUIRY_FOUND = {
    "match": "made an enquiry that matched",
    "possible_matches": "made an enquiry that found possible matches",
    "not_found": "made an enquiry that found nobody",
}

OUTCOMES = {"refused": "was refused", "failed": "failed"}


def sentence(action: str, outcome: str = "success", detail: Mapping[str, Any] | None = None) -> str:
    """The act in plain words, with how it ended when it did not succeed: "opened the
    record", "made an enquiry that matched", "corrected the record (was refused)". An
    action the mapping lacks is shown as its code rather than hidden."""
    said = SENTENCES.get(action, action)
    if action == Permission.ENQUIRY_CREATE.value and detail:
        said = ENQUIRY_FOUND.get(str(detail.get("outcome")), said)
    if action == Permission.CHILD_LEGAL_HOLD.value and detail and detail.get("read"):
        said = "looked at a record's legal hold"
    if outcome in OUTCOMES:
        said = f"{said} ({OUTCOMES[outcome]})"
    return said
