"""Field-level access: which fields of a child each role sees. A response is built from
these allowlists (`children/public.py` computes only the fields named), never by deleting
fields from a full object. A caller with several roles sees the union of the lists of the
roles that count in their organisation."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from index_service.access.policy import (
    DATA_MANAGER,
    DESIGNATED_MANAGER,
    PRACTITIONER,
    SERVICE_ACCOUNT,
    SOCIAL_WORKER,
    Grant,
)
from index_service.access.principal import Principal
from index_service.access.scope import (
    children_in_scope,
    sees_shielded_record,
    shielded_seen_in_full,
)

# What a practitioner sees of a child found by their enquiry: who the child is, where
# they live now, who cares for them, and who is working with them.
ENTRY = frozenset(
    {
        "id",
        "status",
        "shielded",
        "names",
        "date_of_birth",
        "date_of_birth_precision",
        "age_years",
        "nhs_number",
        "nhs_number_status",
        "nhs_number_region",
        "upn",
        "current_address",
        "carers",
        "gp_practice",
        "education",
        "responsible_authority",
        "responsible_authority_name",
        "responsible_authority_contact",
        "involvements",
        "flags",
        "version",
    }
)
# What the local authority's social workers and designated managers see: the whole
# record as kept, with its address history and the authority's own reference.
CASE_RECORD = ENTRY | {"la_reference", "addresses", "created_at", "updated_at"}
# Data managers keep the record: they also see where each field came from, and an unborn
# child's expectant mother (her identity is there to find the plan by an enquiry about
# her, never to be read by whoever reaches the child's record).
KEPT_RECORD = CASE_RECORD | {"provenance", "mother"}
# An agency system that feeds records in gets an acknowledgement, not the record back.
ACKNOWLEDGEMENT = frozenset({"id", "status", "version", "created_at"})
# A shielded record, to anyone but its data managers: it exists, and whom to contact.
SHIELDED = frozenset(
    {
        "id",
        "status",
        "shielded",
        "notice",
        "contact",
        "responsible_authority",
        "responsible_authority_name",
    }
)

# Per role: the fields seen of a child of one's own authority, and of any other child
# (reached through an enquiry). Staff of another authority see the entry, no more.
ROLE_FIELDS: tuple[tuple[Grant, frozenset[str], frozenset[str]], ...] = (
    (DATA_MANAGER, KEPT_RECORD, ENTRY),
    (SOCIAL_WORKER, CASE_RECORD, ENTRY),
    (DESIGNATED_MANAGER, CASE_RECORD, ENTRY),
    (PRACTITIONER, ENTRY, ENTRY),
    (SERVICE_ACCOUNT, ACKNOWLEDGEMENT, ACKNOWLEDGEMENT),
)


def child_fields(
    principal: Principal, *, shielded: bool, responsible_authority: str, keeps_record: bool
) -> frozenset[str]:
    """The fields of this child this caller sees: empty if their roles grant none.
    `keeps_record`: the caller acts for the child's authority (`scope.in_authority`);
    staff of another authority who find the child by an enquiry see the entry only."""
    if shielded and not sees_shielded_record(
        principal, responsible_authority=responsible_authority
    ):
        return SHIELDED
    allowed: frozenset[str] = frozenset()
    for grant, own_authority, elsewhere in ROLE_FIELDS:
        if grant.applies_to(principal):
            allowed |= own_authority if keeps_record else elsewhere
    return allowed


# A search candidate's summary (DOMAIN.md "Access": name, date of birth, partial
# postcode), and what is left of it when the child is shielded: that a record exists.
SUMMARY = frozenset(
    {
        "child_id",
        "shielded",
        "given_names",
        "family_name",
        "date_of_birth",
        "date_of_birth_precision",
        "postcode_district",
        "explanation",
    }
)
SHIELDED_SUMMARY = frozenset({"child_id", "shielded"})


def summary_fields(
    principal: Principal, *, shielded: bool, responsible_authority: str
) -> frozenset[str]:
    if shielded and not sees_shielded_record(
        principal, responsible_authority=responsible_authority
    ):
        return SHIELDED_SUMMARY
    return SUMMARY


def alert_names_child(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children an alert names (by their legal name) to
    this caller. Those whose record the caller reads directly, names and all: staff of
    the child's authority (social workers, designated and data managers: `CASE_RECORD`,
    `KEPT_RECORD`); never a shielded child's to any but its data managers. A practitioner
    of another agency is not told the name: they reach a child only by an enquiry with a
    purpose, and an alert is not one (the alert's `child_id` is what they enquire with)."""
    return and_(children_in_scope(principal), shielded_seen_in_full(principal))


def holder_names_child(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `child`: the children a practitioner's list of the involvements
    they hold ("my children") names. The same as an alert's (`alert_names_child`): holding
    an involvement is not a purposeful look-up, so a practitioner of another agency is
    shown when to act, by the involvement's id and service, and looks the child up to see
    more."""
    return alert_names_child(principal)
