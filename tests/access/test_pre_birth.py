"""Who may enquire about an expectant mother, as a table over every organisation type:
the health organisations that see pregnant women, and nobody else."""

from __future__ import annotations

import pytest

from index_service.access.pre_birth import (
    NOT_A_MATERNITY_SETTING,
    may_enquire_about_expectant_mother,
    names_plan_workers,
    require_may_enquire_about_expectant_mother,
)
from index_service.errors import Forbidden
from index_service.organisations.models import OrganisationType
from tests.access.test_objects import principal
from tests.factories import EALING, HARINGEY

MAY_ASK = {"hospital", "emergency_department", "gp_practice", "health_visiting"}


@pytest.mark.parametrize("org_type", [t.value for t in OrganisationType])
def test_only_maternity_and_emergency_settings_and_primary_care_may_ask(org_type: str) -> None:
    caller = principal(org_type)
    assert may_enquire_about_expectant_mother(caller) is (org_type in MAY_ASK)
    if org_type in MAY_ASK:
        require_may_enquire_about_expectant_mother(caller)
    else:
        with pytest.raises(Forbidden) as refused:
            require_may_enquire_about_expectant_mother(caller)
        assert refused.value.code == NOT_A_MATERNITY_SETTING


@pytest.mark.parametrize(
    ("shielded", "org_type", "roles", "named"),
    [
        (False, "hospital", ("practitioner",), True),
        (True, "hospital", ("practitioner",), False),
        (True, "emergency_department", ("data_manager",), False),  # not its authority's
        (True, "childrens_social_care", ("data_manager",), True),  # the record's keeper
        (True, "childrens_social_care", ("social_worker",), False),
    ],
)
def test_a_shielded_plan_names_its_workers_only_to_its_keepers(
    shielded: bool, org_type: str, roles: tuple[str, ...], named: bool
) -> None:
    caller = principal(org_type, roles, la=EALING)
    assert names_plan_workers(caller, shielded=shielded, responsible_authority=EALING) is named
    assert names_plan_workers(caller, shielded=shielded, responsible_authority=HARINGEY) is (
        not shielded
    )
