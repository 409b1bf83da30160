"""Object-level rules, as a table: flags by organisation type (DOMAIN.md "Practitioner
flags"), ending one's own organisation's records, and changing a child in scope."""

from __future__ import annotations

import uuid

import pytest

from index_service.access.objects import (
    FLAG_SETTERS,
    may_change_child,
    may_feed_update,
    may_raise_flag,
    owns,
    traced_by_feed_as,
)
from index_service.access.policy import issuer_may_be_registered_for
from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.children.models import NhsNumberStatus
from index_service.flags.models import FlagKind
from index_service.organisations.models import OrganisationType
from tests.factories import EALING, HARINGEY

ORG = uuid.uuid4()


def principal(
    org_type: str, roles: tuple[str, ...] = ("practitioner",), la: str = EALING
) -> Principal:
    return Principal(
        issuer="urn:test", subject="s", name="n", email="e@x.example",
        roles=frozenset(Role(r) for r in roles), organisation_id=ORG,
        organisation_code="T1", organisation_type=org_type, local_authority=la,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "org_type", "allowed"),
    [
        (FlagKind.CHILD_PROTECTION_PLAN, "childrens_social_care", True),
        (FlagKind.CHILD_PROTECTION_PLAN, "police", False),
        (FlagKind.LOOKED_AFTER, "school", False),
        (FlagKind.CHILD_IN_NEED, "childrens_social_care", True),
        (FlagKind.UNBORN_CHILD_PROTECTION_PLAN, "hospital", False),
        (FlagKind.MISSING_EDUCATION, "school", True),
        (FlagKind.MISSING_EDUCATION, "education_welfare", True),
        (FlagKind.MISSING_EDUCATION, "gp_practice", False),
        (FlagKind.MISSING_FROM_HOME, "police", True),
        (FlagKind.MISSING_FROM_HOME, "childrens_social_care", True),
        (FlagKind.MISSING_FROM_HOME, "school", False),
        (FlagKind.CONCERN_RAISED, "voluntary", True),
        (FlagKind.EARLY_HELP, "health_visiting", True),
    ],
)
def test_who_may_raise_each_flag(kind: FlagKind, org_type: str, allowed: bool) -> None:
    decision = may_raise_flag(principal(org_type), kind)
    assert bool(decision) is allowed, decision.reason


def test_every_flag_has_its_setters() -> None:
    assert set(FLAG_SETTERS) == set(FlagKind)


def test_only_ones_own_organisation_s_records_are_ended() -> None:
    assert owns(principal("hospital"), ORG)
    assert not owns(principal("hospital"), uuid.uuid4())


@pytest.mark.parametrize(
    ("roles", "la", "shielded", "new_authority", "reason"),
    [
        (("data_manager",), HARINGEY, True, None, "within scope"),
        (("data_manager",), EALING, True, None, "record_shielded"),
        (("social_worker",), HARINGEY, True, None, "record_shielded"),
        (("social_worker",), EALING, False, EALING, "not_responsible_authority"),
        (("social_worker",), HARINGEY, False, EALING, "within scope"),
        (("data_manager",), EALING, False, HARINGEY, "within scope"),
    ],
)
def test_changing_a_child_in_scope(
    roles: tuple[str, ...], la: str, shielded: bool, new_authority: str | None, reason: str
) -> None:
    decision = may_change_child(
        principal("childrens_social_care", roles, la),
        shielded=shielded,
        responsible_authority=HARINGEY,
        new_responsible_authority=new_authority,
    )
    assert decision.reason == reason


@pytest.mark.parametrize(
    ("org_type", "registrable"),
    [(t.value, t not in {OrganisationType.CHILDRENS_SOCIAL_CARE, OrganisationType.INDEX_OPERATOR})
     for t in OrganisationType],
)  # fmt: skip
def test_run_time_issuers_never_vouch_where_powerful_roles_count(
    org_type: str, registrable: bool
) -> None:
    assert issuer_may_be_registered_for(org_type) is registrable


THEIRS = "the responsible authority's data manager"


@pytest.mark.parametrize(
    ("org_type", "roles", "la", "shielded", "reason"),
    [
        ("gp_practice", ("service_account",), EALING, False, "an agency's system"),
        ("gp_practice", ("service_account",), HARINGEY, True, "shielded_record"),
        ("childrens_social_care", ("data_manager",), HARINGEY, True, THEIRS),
        ("childrens_social_care", ("data_manager",), HARINGEY, False, THEIRS),
        ("childrens_social_care", ("data_manager",), EALING, True, "shielded_record"),
        ("childrens_social_care", ("data_manager",), EALING, False, "outside_your_authority"),
    ],
)  # fmt: skip
def test_which_child_a_feed_may_update_unseen(
    org_type: str, roles: tuple[str, ...], la: str, shielded: bool, reason: str
) -> None:
    """A child of Haringey: its data managers' feeds update it, shielded or not; an
    agency's system any child but a shielded one; another authority's data manager none."""
    decision = may_feed_update(
        principal(org_type, roles, la), shielded=shielded, responsible_authority=HARINGEY
    )
    assert (bool(decision), decision.reason) == (
        reason not in {"shielded_record", "outside_your_authority"},
        reason,
    )


def test_whose_word_a_feeds_trace_is() -> None:
    agency = principal("gp_practice", ("service_account",))
    manager = principal("childrens_social_care", ("data_manager",))
    assert traced_by_feed_as(agency) is NhsNumberStatus.TRUSTED_FEED
    assert traced_by_feed_as(manager) is NhsNumberStatus.VERIFIED_TRACE
