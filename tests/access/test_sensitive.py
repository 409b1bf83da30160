"""What an alert shows of who acted, as `access/sensitive.py` decides: in full, the person
without their organisation, or the data manager's contact in their place."""

from __future__ import annotations

import pytest

from index_service.access.sensitive import ActorShown, actor_shown, sees_involvement_in_full


@pytest.mark.parametrize(
    ("about_sensitive", "org_type", "with_child", "to_data_managers", "expected"),
    [
        pytest.param(False, "school", False, False, ActorShown.FULL, id="an ordinary act"),
        pytest.param(True, "sexual_health", False, False, ActorShown.DATA_MANAGER, id="R4"),
        pytest.param(True, "hospital", False, False, ActorShown.DATA_MANAGER, id="R4 marked"),
        pytest.param(False, "camhs", False, False, ActorShown.PERSON_ONLY, id="R1 by CAMHS"),
        pytest.param(False, "hospital", True, False, ActorShown.PERSON_ONLY, id="R1 under one"),
        pytest.param(True, "sexual_health", True, True, ActorShown.FULL, id="to data managers"),
    ],
)
def test_actor_shown(
    about_sensitive: bool, org_type: str, with_child: bool, to_data_managers: bool, expected: str
) -> None:
    assert (
        actor_shown(
            about_sensitive_involvement=about_sensitive,
            actor_organisation_type=org_type,
            actor_sensitive_with_child=with_child,
            to_data_managers=to_data_managers,
        )
        == expected
    )


def test_an_unmarked_involvement_of_a_sensitive_service_is_still_hidden_from_others() -> None:
    assert not sees_involvement_in_full(
        marked=False, organisation_type="substance_misuse", owner_is_viewer=False
    )
    assert sees_involvement_in_full(
        marked=False, organisation_type="substance_misuse", owner_is_viewer=True
    )
    assert sees_involvement_in_full(marked=False, organisation_type="school", owner_is_viewer=False)
