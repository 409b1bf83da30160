"""Who may ask whether an expectant mother's unborn child is on a pre-birth plan: the
health organisations that see pregnant women (maternity wards, emergency departments,
GP practices, health visitors), as CP-IS serves unscheduled care settings. Anyone else
asks about a child, not a woman (DOMAIN.md "What a record holds"). One definition, used
by the API and the pages alike."""

from __future__ import annotations

from index_service.access.principal import Principal
from index_service.errors import Forbidden
from index_service.organisations.models import OrganisationType

SEES_EXPECTANT_MOTHERS = frozenset(
    {
        OrganisationType.HOSPITAL.value,
        OrganisationType.EMERGENCY_DEPARTMENT.value,
        OrganisationType.GP_PRACTICE.value,
        OrganisationType.HEALTH_VISITING.value,
    }
)

NOT_A_MATERNITY_SETTING = "not_a_maternity_setting"


def may_enquire_about_expectant_mother(principal: Principal) -> bool:
    return principal.organisation_type in SEES_EXPECTANT_MOTHERS


def require_may_enquire_about_expectant_mother(principal: Principal) -> None:
    """Refuse (403) an enquiry about an expectant mother from any other organisation:
    it would tell a school or the police that a woman is pregnant and her unborn child
    on a plan."""
    if not may_enquire_about_expectant_mother(principal):
        raise Forbidden(
            "only hospitals, emergency departments, GP practices and health visitors may "
            "enquire about an expectant mother; enquire about a child instead",
            code=NOT_A_MATERNITY_SETTING,
        )
