"""Who may ask whether an expectant mother's unborn child is on a pre-birth plan: the
health organisations that see pregnant women (maternity wards, emergency departments,
GP practices, health visitors), as CP-IS serves unscheduled care settings. Anyone else
asks about a child, not a woman (DOMAIN.md "What a record holds"). One definition, used
by the API and the pages alike.

What the answer names of the plan's workers is decided here too (`names_plan_workers`,
`PLAN_CONTACT_FIELDS`); a sensitive service among them is masked by the same rule as
in the child's entry (`access/sensitive.py`)."""

from __future__ import annotations

from index_service.access.principal import Principal
from index_service.access.scope import sees_shielded_record
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


def names_plan_workers(principal: Principal, *, shielded: bool, responsible_authority: str) -> bool:
    """Whether the answer about an expectant mother names her unborn child's workers
    (key worker, allocated worker, lead professional), or only the responsible
    authority's contact. A shielded record (a woman in a refuge, under a new identity)
    names its authority and never its worker: a worker's name, team and phone point to
    where she is, and the authority decides whom to put the hospital through to. The
    shield's own rule (`scope.sees_shielded_record`), so that no path names more of a
    shielded child than its entry does."""
    return not shielded or sees_shielded_record(
        principal, responsible_authority=responsible_authority
    )


# What the answer shows of each worker it names (`children.schemas.InvolvementPublic`,
# as the child's entry builds it): whom to call and in which role, nothing of the work
# (no service, no start date): the answer says that a plan exists and whom to contact.
PLAN_CONTACT_FIELDS = frozenset(
    {
        "sensitive",
        "notice",
        "contact",
        "organisation_code",
        "organisation_name",
        "practitioner_name",
        "practitioner_phone",
        "practitioner_email",
        "is_key_worker",
        "is_lead_professional",
        "is_allocated_worker",
    }
)
