"""The rest of the correction form, beyond the names, date of birth and identifiers
(`records.py`): the current address and the previous ones, the carers, the GP practice and
the school, each with its "unknown" and its "none" kept apart as the record keeps them
(`children/schemas.py`). A form's flat answers go both ways: from the record as the API
presents it (`values_of`) and into the fields of the API's `ChildUpdate` (`read`), whose
validators stay the rules; their errors are put back on the form's own fields. Lists are
sent whole, as the API replaces them: the form carries every row the record holds (and
one blank to add), so nothing on the record is dropped by a correction.

The NHS number's verification status is said by the data manager beside the number
(`nhs_number_status_sent`): a number left as it is keeps its status, a status chosen is
sent as the data manager's statement (the API lets only data managers say "verified"), and
a new number whose status was not touched is sent without one, so the API's own rule makes
it unverified: a traced status never carries over to a number nobody traced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from index_service.children.models import (
    CarersStatus,
    EducationStatus,
    GpStatus,
    NhsNumberStatus,
)
from index_service.children.schemas import ChildPublic
from index_service.web import forms

ADDRESS_PARTS = ("line1", "line2", "town", "postcode", "uprn", "local_authority", "from", "to")
CARER_PARTS = ("name", "relationship", "phone")
MAX_PREVIOUS = 20  # rows a form may send (the record holds at most 50 addresses)
MAX_CARERS = 10

CARERS_STATUSES = {
    CarersStatus.KNOWN.value: "Known: listed below",
    CarersStatus.NONE.value: "None: the child has no carer (for example, a care leaver)",
    CarersStatus.UNKNOWN.value: "Not known",
}
GP_STATUSES = {
    GpStatus.REGISTERED.value: "Registered with a GP practice",
    GpStatus.NOT_REGISTERED.value: "Not registered with any GP",
    GpStatus.UNKNOWN.value: "Not known",
}
EDUCATION_STATUSES = {
    EducationStatus.ATTENDING.value: "Attending a school or setting",
    EducationStatus.NOT_OF_SCHOOL_AGE.value: "Not of school age",
    EducationStatus.NOT_IN_EDUCATION.value: "Not in education",
    EducationStatus.UNKNOWN.value: "Not known",
}

# What the data manager may say of the number: traced, or not verified. A number from a
# trusted feed is offered as it is only where the record has one (nobody types a feed).
NHS_NUMBER_STATUSES = {
    NhsNumberStatus.VERIFIED_TRACE.value: "Verified by a trace against the national record",
    NhsNumberStatus.UNVERIFIED.value: "Not verified",
}
AS_FROM_THE_FEED = {NhsNumberStatus.TRUSTED_FEED.value: "From a trusted feed, as received"}

MESSAGES = {
    "line1": "Enter the first line of the address",
    "postcode": "Enter a real postcode, like W5 2AA",
    "uprn": "A UPRN is 1 to 12 digits",
    "local_authority": "Enter the local authority's ONS code, like E09000009",
    "from": "Enter the date as 2024-03-31",
    "to": "Enter the date the child left this address, as 2024-03-31",
    "order": "The child left this address before they moved in",
    "name": "Enter the carer's name",
    "relationship": "Enter how the carer is related to the child",
    "phone": "Enter a phone number, like 020 7946 0100",
    "carers_status": "Choose 'known' to list carers, or remove the carers listed",
    "gp_status": "Give the practice code exactly when the child is registered with a GP",
    "gp_ods_code": "Enter the practice's ODS code: 3 to 8 letters and digits",
    "gp_phone": "Enter a phone number, like 020 7946 0100",
    "education_status": "Give the school's URN exactly when the child is attending",
    "school_urn": "Enter the school's URN: 6 to 8 digits",
    "school_phone": "Enter a phone number, like 020 7946 0100",
}


def _address(prefix: str, address: Any) -> dict[str, str]:
    held = {
        "line1": address.line1,
        "line2": address.line2,
        "town": address.town,
        "postcode": address.postcode,
        "uprn": address.uprn,
        "local_authority": address.local_authority,
        "from": address.from_date.isoformat() if address.from_date else None,
        "to": address.to_date.isoformat() if address.to_date else None,
    }
    return {f"{prefix}_{k}": v or "" for k, v in held.items()}


def values_of(child: ChildPublic) -> dict[str, str]:
    """The form's answers for the record as it is, with one blank previous address and
    one blank carer to add."""
    values: dict[str, str] = {f"cur_{p}": "" for p in ADDRESS_PARTS}
    previous = [a for a in child.addresses or [] if not a.current]
    for a in child.addresses or []:
        if a.current:
            values.update(_address("cur", a))
    for i, a in enumerate(previous):
        values.update(_address(f"prev{i}", a))
    values.update({f"prev{len(previous)}_{p}": "" for p in ADDRESS_PARTS})
    values["prev_count"] = str(len(previous) + 1)
    carers = child.carers
    people = carers.people if carers else []
    values["carers_status"] = carers.status.value if carers else CarersStatus.UNKNOWN.value
    for i, c in enumerate(people):
        values.update({f"carer{i}_name": c.name, f"carer{i}_relationship": c.relationship})
        values[f"carer{i}_phone"] = c.phone or ""
    values.update({f"carer{len(people)}_{p}": "" for p in CARER_PARTS})
    values["carer_count"] = str(len(people) + 1)
    gp, ed = child.gp_practice, child.education
    values["gp_status"] = gp.status.value if gp else GpStatus.UNKNOWN.value
    values["gp_ods_code"] = (gp.ods_code or "") if gp else ""
    values["gp_phone"] = (gp.phone or "") if gp else ""
    values["education_status"] = ed.status.value if ed else EducationStatus.UNKNOWN.value
    values["school_urn"] = (ed.urn or "") if ed else ""
    values["school_phone"] = (ed.phone or "") if ed else ""
    return values


def nhs_number_statuses(held: str | None) -> dict[str, str]:
    """The choices of the NHS number's status for a record whose status is `held`."""
    if held == NhsNumberStatus.TRUSTED_FEED.value:
        return {**AS_FROM_THE_FEED, **NHS_NUMBER_STATUSES}
    return NHS_NUMBER_STATUSES


def nhs_number_status_sent(
    *, number: str | None, chosen: str, held_number: str | None, held_status: str
) -> str | None:
    """The `nhs_number_status` to send with the form's `number`, or None to send none.
    A status chosen (other than the record's) is the data manager's statement; the
    record's own status goes with its own number, so a correction elsewhere keeps it;
    a new number whose status was left alone (or not sent) goes without one (the API
    then makes it unverified)."""
    if not number:
        return None
    if chosen and chosen != held_status:
        return chosen
    return held_status if number == held_number else None


def _count(field: Callable[[str], str], name: str, most: int) -> int:
    return forms.whole_number(field(name), most=most) or 0


def read(
    field: Callable[[str], str],
) -> tuple[dict[str, str], dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """The answers, the `ChildUpdate` fields they give (addresses, carers, gp_practice,
    education), the errors found before validation, and, for each list, the form prefix of
    each item sent (to put a validator's error back on its row)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    rows: dict[str, list[str]] = {"addresses": [], "people": []}
    addresses: list[dict[str, Any]] = []
    prefixes = ["cur"] + [f"prev{i}" for i in range(_count(field, "prev_count", MAX_PREVIOUS))]
    values["prev_count"] = str(len(prefixes) - 1)
    for prefix in prefixes:
        given = {p: field(f"{prefix}_{p}") for p in ADDRESS_PARTS}
        values.update({f"{prefix}_{p}": v for p, v in given.items()})
        if not any(given.values()):
            continue  # a blank row: no address (none current, or none to add)
        if prefix != "cur" and not given["to"]:
            errors[f"{prefix}_to"] = MESSAGES["to"]
        addresses.append(
            {
                "line1": given["line1"],
                "line2": given["line2"] or None,
                "town": given["town"] or None,
                "postcode": given["postcode"],
                "uprn": given["uprn"] or None,
                "local_authority": given["local_authority"],
                "from_date": given["from"] or None,
                "to_date": None if prefix == "cur" else (given["to"] or None),
            }
        )
        rows["addresses"].append(prefix)
    people: list[dict[str, Any]] = []
    carers = _count(field, "carer_count", MAX_CARERS)
    values["carer_count"] = str(carers)
    for i in range(carers):
        given = {p: field(f"carer{i}_{p}") for p in CARER_PARTS}
        values.update({f"carer{i}_{p}": v for p, v in given.items()})
        if any(given.values()):
            people.append({**given, "phone": given["phone"] or None})
            rows["people"].append(f"carer{i}")
    for name in ("carers_status", "gp_status", "gp_ods_code", "gp_phone"):
        values[name] = field(name)
    for name in ("education_status", "school_urn", "school_phone"):
        values[name] = field(name)
    data: dict[str, Any] = {
        "addresses": addresses,
        "carers": {"status": values["carers_status"], "people": people},
        "gp_practice": {
            "status": values["gp_status"],
            "ods_code": values["gp_ods_code"] or None,
            "phone": values["gp_phone"] or None,
        },
        "education": {
            "status": values["education_status"],
            "urn": values["school_urn"] or None,
            "phone": values["school_phone"] or None,
        },
    }
    # Only the parts the form showed (its view of the record had them): a part not shown
    # is not sent, so a correction never empties what its author could not see.
    shown = {k for k in data if field(f"has_{k}") == "1"}
    return values, {k: v for k, v in data.items() if k in shown}, errors, rows


_PARTS = {"from_date": "from", "to_date": "to"}
_SINGLE = {
    ("gp_practice", "status"): "gp_status",
    ("gp_practice", "ods_code"): "gp_ods_code",
    ("gp_practice", "phone"): "gp_phone",
    ("education", "status"): "education_status",
    ("education", "urn"): "school_urn",
    ("education", "phone"): "school_phone",
}


def error_field(loc: tuple[Any, ...], rows: dict[str, list[str]]) -> tuple[str, str] | None:
    """The form field a `ChildUpdate` validation error belongs to, and what to say; None
    if the error is not about this part of the form."""
    head = loc[0] if loc else None
    if head == "addresses":
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(rows["addresses"]):
            row = rows["addresses"][loc[1]]
            part = _PARTS.get(str(loc[2]), str(loc[2])) if len(loc) >= 3 else "order"
            if part in ADDRESS_PARTS:
                return f"{row}_{part}", MESSAGES.get(part, MESSAGES["line1"])
            return f"{row}_to", MESSAGES["order"]
        return "cur_line1", "Only one address can be the current one: give the others an end date"
    if head == "carers":
        if len(loc) >= 4 and loc[1] == "people" and isinstance(loc[2], int):
            part = str(loc[3])
            return f"{rows['people'][loc[2]]}_{part}", MESSAGES.get(part, MESSAGES["name"])
        if len(loc) == 1:  # people listed with a status other than "known", or none with it
            return "carers_status", MESSAGES["carers_status"]
        return "carers_status", "Choose whether the child's carers are known"
    if head in ("gp_practice", "education"):
        fallback = "gp_status" if head == "gp_practice" else "education_status"
        part = str(loc[1]) if len(loc) > 1 else "status"
        name = _SINGLE.get((str(head), part), fallback)
        if part == "status" and len(loc) > 1:  # no choice made, or not one of the choices
            return name, "Choose one of the answers"
        return name, MESSAGES[name]
    return None


def described(values: dict[str, str]) -> dict[str, str]:
    """Each part of the form as one line, to set theirs beside yours after a conflict."""

    def address(prefix: str) -> str:
        parts = [values.get(f"{prefix}_{p}", "") for p in ("line1", "line2", "town", "postcode")]
        text = ", ".join(p for p in parts if p)
        code = values.get(f"{prefix}_local_authority", "")
        dates = " to ".join(
            d for d in (values.get(f"{prefix}_from", ""), values.get(f"{prefix}_to", "")) if d
        )
        return " · ".join(p for p in (text, code, dates) if p)

    previous = [
        address(f"prev{i}")
        for i in range(int(values.get("prev_count", "0") or 0))
        if any(values.get(f"prev{i}_{p}") for p in ADDRESS_PARTS)
    ]
    carers = [
        " · ".join(
            values.get(f"carer{i}_{p}", "") for p in CARER_PARTS if values.get(f"carer{i}_{p}")
        )
        for i in range(int(values.get("carer_count", "0") or 0))
        if any(values.get(f"carer{i}_{p}") for p in CARER_PARTS)
    ]
    gp = GP_STATUSES.get(values.get("gp_status", ""), "")
    school = EDUCATION_STATUSES.get(values.get("education_status", ""), "")
    return {
        "Current address": address("cur") or "None recorded",
        "Previous addresses": "; ".join(previous) or "None recorded",
        "Carers": " · ".join(
            p for p in (CARERS_STATUSES.get(values.get("carers_status", ""), ""), *carers) if p
        ),
        "GP practice": " · ".join(
            p for p in (gp, values.get("gp_ods_code", ""), values.get("gp_phone", "")) if p
        ),
        "School": " · ".join(
            p for p in (school, values.get("school_urn", ""), values.get("school_phone", "")) if p
        ),
    }
