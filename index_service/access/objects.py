"""Object-level rules: who may act on one record they can already reach. Services ask
these and raise the refusal; the rules live here, beside the rest of the policy."""

from __future__ import annotations

import uuid

from index_service.access.policy import (
    AUDITOR,
    DATA_MANAGER,
    NATIONAL_AUDITOR,
    SERVICE_ACCOUNT,
    SOCIAL_WORKER,
    Decision,
    holds,
)
from index_service.access.principal import Principal
from index_service.access.scope import in_authority, sees_shielded_record
from index_service.children.models import NhsNumberStatus
from index_service.flags.models import FlagKind
from index_service.organisations.models import EDUCATION_TYPES, OrganisationType

_CSC = frozenset({OrganisationType.CHILDRENS_SOCIAL_CARE})
_ANYONE = None

# DOMAIN.md "Practitioner flags": the organisation types that may raise each flag.
FLAG_SETTERS: dict[FlagKind, frozenset[OrganisationType] | None] = {
    FlagKind.CHILD_PROTECTION_PLAN: _CSC,
    FlagKind.LOOKED_AFTER: _CSC,
    FlagKind.UNBORN_CHILD_PROTECTION_PLAN: _CSC,
    FlagKind.CHILD_IN_NEED: _CSC,
    FlagKind.EARLY_HELP: _ANYONE,
    FlagKind.CONCERN_RAISED: _ANYONE,
    FlagKind.MISSING_EDUCATION: EDUCATION_TYPES,
    FlagKind.MISSING_FROM_HOME: frozenset(
        {OrganisationType.POLICE, OrganisationType.CHILDRENS_SOCIAL_CARE}
    ),
}


def may_raise_flag(principal: Principal, kind: FlagKind) -> Decision:
    setters = FLAG_SETTERS[kind]
    if setters is None or principal.organisation_type in setters:
        return Decision(True, f"{principal.organisation_type} may raise {kind.value}")
    allowed = ", ".join(sorted(t.value for t in setters))
    return Decision(False, f"only {allowed} may raise {kind.value}")


def owns(principal: Principal, organisation_id: uuid.UUID) -> bool:
    """A practitioner ends only their own organisation's involvements and flags."""
    return organisation_id == principal.organisation_id


def may_change_child(
    principal: Principal,
    *,
    shielded: bool,
    responsible_authority: str,
    new_responsible_authority: str | None,
) -> Decision:
    """Within scope, two more rules: a shielded record is changed only by the data
    managers who may see it; and responsibility for a child is handed over by the
    authority that holds it, never taken by another (it decides who sees a shielded
    record and who is told of things)."""
    if shielded and not sees_shielded_record(
        principal, responsible_authority=responsible_authority
    ):
        return Decision(False, "record_shielded")
    handing_over = new_responsible_authority not in (None, responsible_authority)
    if handing_over and principal.local_authority != responsible_authority:
        return Decision(False, "not_responsible_authority")
    return Decision(True, "within scope")


def may_verify_nhs_number(principal: Principal) -> bool:
    """Who may record that a child's NHS number is verified (a PDS trace, a trusted
    feed): the data managers who keep the records, and the agency systems that traced it
    (a service account: the same say its feed's `nhs_number_verified` column gives, as
    CP-IS takes a trace from the sending system). A verified number decides a match on
    its own, so nobody else may say so."""
    return holds(principal, DATA_MANAGER) or holds(principal, SERVICE_ACCOUNT)


def traced_by_feed_as(principal: Principal) -> NhsNumberStatus:
    """What a feed row's "the number was traced" (CSV `nhs_number_verified`, UK Core's
    code 01) makes of the child's NHS number, by who sent the feed. An agency's system (a
    service account) vouches for its own trace, which the index did not see: a trusted
    feed, as CP-IS takes a trace from the sending system. A data manager's feed is their
    own say, as when they record a trace through the API (`may_verify_nhs_number`).
    Either is decisive in matching; the status keeps whose word it is."""
    if holds(principal, SERVICE_ACCOUNT):
        return NhsNumberStatus.TRUSTED_FEED
    return NhsNumberStatus.VERIFIED_TRACE


def may_feed_update(
    principal: Principal, *, shielded: bool, responsible_authority: str
) -> Decision:
    """Whether a feed's row may update, with nobody looking, the child it confidently
    matches; refused, the row waits for the child's responsible authority's data managers
    (the reason is the review's). A shielded record: only its responsible authority's data
    managers' feeds (`shielded_record`: anyone else's row would change, and its report
    could betray, what the shield hides). Otherwise an agency's system (a service
    account) updates any child (agencies supply what they know of the children they work
    with, whoever is responsible for them); a data manager's feed only their own
    authority's children by responsibility (`outside_your_authority`): where a child lives
    lets a person look at it, not a file change it unseen."""
    if sees_shielded_record(principal, responsible_authority=responsible_authority):
        return Decision(True, "the responsible authority's data manager")
    if shielded:
        return Decision(False, "shielded_record")
    if holds(principal, SERVICE_ACCOUNT):
        return Decision(True, "an agency's system")
    if in_authority(principal, responsible_authority=responsible_authority, current_authority=None):
        return Decision(True, "the responsible authority's")
    return Decision(False, "outside_your_authority")


def judges_duplicates(principal: Principal) -> bool:
    """Who is shown the candidates of a possible duplicate and may confirm a record is a
    different child: the people who keep records (data managers, social workers). An
    agency's feed (a service account) may create records and gets an acknowledgement
    only: it is told a record may be a duplicate, never which child, and cannot confirm."""
    return holds(principal, DATA_MANAGER, SOCIAL_WORKER)


def may_be_key_worker(principal: Principal) -> Decision:
    """The key worker is the social worker who holds the child protection plan; the
    allocated worker of a child in need is children's social care's too."""
    if holds(principal, SOCIAL_WORKER):
        return Decision(True, "a social worker of children's social care")
    return Decision(
        False,
        "only a social worker of children's social care is a key worker or allocated worker",
    )


def may_name_practitioner(principal: Principal) -> Decision:
    """Children's social care records its allocated workers and key workers, who may have
    no login (an agency worker, a worker whose account is not set up): a social worker
    names them, with their phone and secure email. Nobody else records someone else."""
    if holds(principal, SOCIAL_WORKER):
        return Decision(True, "a social worker of children's social care")
    return Decision(
        False, "only a social worker of children's social care records another practitioner"
    )


def keeps_record_of(principal: Principal, *, responsible_authority: str) -> Decision:
    """Merging and unmerging entries and producing a subject access report are the
    responsible authority's data managers' (DOMAIN.md "Lifecycle"): the authority that
    keeps the record answers for what it holds. A data manager of the authority where
    the child lives is refused (`not_responsible_authority`)."""
    if holds(principal, DATA_MANAGER) and principal.local_authority == responsible_authority:
        return Decision(True, "a data manager of the responsible authority")
    return Decision(False, "not_responsible_authority")


def may_hold(principal: Principal, *, responsible_authority: str) -> Decision:
    """A legal hold (an inquiry's moratorium on destruction) is set and lifted by the
    responsible authority's data managers or auditors, or a national auditor."""
    if holds(principal, NATIONAL_AUDITOR):
        return Decision(True, "a national auditor")
    if holds(principal, DATA_MANAGER, AUDITOR) and (
        principal.local_authority == responsible_authority
    ):
        return Decision(True, "the responsible authority's data manager or auditor")
    return Decision(False, "not_responsible_authority")
