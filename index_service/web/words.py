"""Plain English for the codes the service speaks in (GOV.UK style: sentence case, no
jargon): purposes of use, flag kinds, roles, dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from index_service.access.purpose import PurposeCode
from index_service.access.roles import Role
from index_service.reference.local_authorities import authority_name

LONDON = ZoneInfo("Europe/London")

PURPOSES: dict[PurposeCode, tuple[str, str]] = {
    PurposeCode.SAFEGUARDING_CONCERN: (
        "I am worried about a child's safety or welfare",
        "You have a safeguarding concern and need to know who else is involved.",
    ),
    PurposeCode.HEALTH_CARE: (
        "I am providing health care to the child",
        "For example, the child is in the emergency department or at an appointment.",
    ),
    PurposeCode.PROVIDING_A_SERVICE: (
        "I am providing a service to the child or their family",
        "For example, housing, early help or a youth service.",
    ),
    PurposeCode.EDUCATION_WELFARE: (
        "The child's education or welfare at school",
        "For example, the child is missing education or a school has a concern.",
    ),
    PurposeCode.POLICE_INVESTIGATION: (
        "A police investigation or emergency involving the child",
        "For example, a child found, missing or at risk.",
    ),
    PurposeCode.AUDIT: (
        "Auditing how the index has been used",
        "Only for auditors checking access.",
    ),
    PurposeCode.DATA_QUALITY: (
        "Checking or correcting the index's records",
        "Only for data managers keeping records right.",
    ),
}

FLAG_KINDS = {
    "child_protection_plan": "Child protection plan",
    "looked_after": "Looked after child",
    "unborn_child_protection_plan": "Unborn child protection plan",
    "child_in_need": "Child in need",
    "early_help": "Early help in place",
    "concern_raised": "Concern raised",
    "missing_education": "Missing education",
    "missing_from_home": "Missing from home",
}

ROLES = {
    Role.PRACTITIONER: "Practitioner",
    Role.SOCIAL_WORKER: "Social worker",
    Role.DESIGNATED_MANAGER: "Designated manager",
    Role.DATA_MANAGER: "Data manager",
    Role.AUDITOR: "Auditor",
    Role.NATIONAL_AUDITOR: "National auditor",
    Role.ADMINISTRATOR: "Administrator",
    Role.SERVICE_ACCOUNT: "Service account",
}

RELATIONSHIPS = {"mother": "Mother", "father": "Father"}


def purpose_label(code: str | None) -> str:
    try:
        return PURPOSES[PurposeCode(str(code))][0]
    except (ValueError, KeyError):
        return "Not stated"


def flag_kind(kind: str) -> str:
    return FLAG_KINDS.get(kind, kind.replace("_", " ").capitalize())


def role_names(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(ROLES.get(r, r.value) for r in roles)) or "No role here"


def authority(code: str | None) -> str:
    if not code:
        return "Not known"
    return authority_name(code) or code


def long_date(value: date | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%B %Y}"


def long_datetime(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(LONDON)
    hour = local.strftime("%I:%M%p").lstrip("0").lower()
    return f"{local.day} {local:%B %Y} at {hour}"


def sentence(text: str) -> str:
    """A service message as a sentence: capital first, full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


STATUSES = {
    "unknown": "Not known",
    "not_registered": "Not registered with a GP",
    "not_in_education": "Not in education",
    "not_of_school_age": "Not of school age",
    "none": "None",
}


def status(value: str | None) -> str:
    return STATUSES.get(str(value), str(value or "Not known").replace("_", " ").capitalize())


RULES = {
    "R1": "Enquiry about a child someone works with",
    "R2": "Enquiry at the address of a child on a plan",
    "R3": "Second enquiry about a child not in the index",
    "R4": "A flag or involvement changed",
    "R5": "A child moved authority",
    "R6": "Not acknowledged in time",
    "R7": "A shielded record was reached",
    "R8": "A flag is past its review date",
}


def rule(code: str) -> str:
    return RULES.get(code, code)


# How far a record's NHS number is known to be the child's (`children.models.NhsNumberStatus`).
NHS_NUMBER_STATUSES = {
    "unverified": "Not verified: as typed or received, only its check digit checked",
    "verified_trace": "Verified by a trace against the national record (the NHS's Personal "
    "Demographics Service)",
    "trusted_feed": "From a trusted feed: an agency's system that sends traced numbers",
}
# Whose range the number is in (`children.identifiers.nhs_number_region`).
NHS_NUMBER_REGIONS = {
    "england_wales_iom": "England, Wales or the Isle of Man",
    "scotland_chi": "Scotland (a CHI number)",
    "northern_ireland_hc": "Northern Ireland (a Health and Care number)",
    "republic_of_ireland_ihi": "Republic of Ireland (an Individual Health Identifier)",
    "synthetic": "The test range: never issued to a person",
    "unallocated": "No issued range",
}


def nhs_number_status(code: str) -> str:
    return NHS_NUMBER_STATUSES.get(code, code)


def nhs_number_region(code: str) -> str:
    return NHS_NUMBER_REGIONS.get(code, code)


def criteria(given: dict[str, object]) -> list[tuple[str, str]]:
    """What an enquirer gave, as label and value, in the look-up form's order."""
    rows: list[tuple[str, str]] = []
    for key, label in (
        ("given_names", "Given names"),
        ("family_name", "Family name"),
        ("date_of_birth", "Date of birth"),
        ("age_years", "Age"),
        ("address_line1", "Address line 1"),
        ("address_line2", "Address line 2"),
        ("town", "Town or city"),
        ("postcode", "Postcode"),
        ("nhs_number", "NHS number"),
        ("upn", "UPN"),
    ):
        value = given.get(key)
        if value in (None, ""):
            continue
        shown = long_date(str(value)) if key == "date_of_birth" else str(value)
        rows.append((label, shown + (" years" if key == "age_years" else "")))
    for other in given.get("other_names") or []:  # type: ignore[attr-defined]
        rows.append(
            ("Other name", f"{other.get('given_names', '')} {other.get('family_name', '')}")
        )
    return rows
