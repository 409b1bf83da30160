"""A feed's rows as the index's own record: the documented CSV columns and the FHIR R4
Bundle (Patient, RelatedPerson for carers, Organization for GP practice and school) both
become the same `ChildCreate` payload, validated by the same schema as `POST /v1/children`.

A row that does not validate is a row-level problem (field and reason, never the value
sent: a report goes back to the agency and may be logged there), and the rest goes on.
Which field groups a row *supplied* is kept: a blank GP column means "this system does
not say", not "no GP", so an update leaves what the index knows alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError

from index_service.children.models import NhsNumberStatus
from index_service.children.schemas import ChildCreate

# The CSV's columns, in the documented order (README "Agency feeds"). Only
# source_record_id, given_names, family_name, date_of_birth and responsible_authority are
# required; a blank column is "not supplied".
CSV_COLUMNS = (
    "source_record_id",
    "given_names",
    "family_name",
    "other_names",
    "date_of_birth",
    "date_of_birth_precision",
    "nhs_number",
    "nhs_number_verified",
    "upn",
    "la_reference",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "uprn",
    "address_local_authority",
    "address_from",
    "carers_status",
    "carer_name",
    "carer_relationship",
    "carer_phone",
    "gp_status",
    "gp_ods_code",
    "gp_phone",
    "education_status",
    "school_urn",
    "school_phone",
    "responsible_authority",
)
REQUIRED_COLUMNS = frozenset(
    {"source_record_id", "given_names", "family_name", "date_of_birth", "responsible_authority"}
)
MAX_SOURCE_ID = 64

# FHIR systems read from a Bundle.
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
NHS_VERIFICATION_URL = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
UPN_SYSTEM = "https://www.gov.uk/government/publications/unique-pupil-numbers"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SCHOOL_URN_SYSTEM = "https://get-information-schools.service.gov.uk/Id/school-urn"
EXTENSION_BASE = "https://index-service.example/fhir/StructureDefinition/"
SCHOOL_EXTENSION = EXTENSION_BASE + "school"
RESPONSIBLE_AUTHORITY_EXTENSION = EXTENSION_BASE + "responsible-authority"
LOCAL_AUTHORITY_EXTENSION = EXTENSION_BASE + "local-authority"
LA_REFERENCE_SYSTEM = EXTENSION_BASE + "la-reference"


class FeedUnreadable(ValueError):
    """The file as a whole cannot be read (not CSV with the columns, not a Bundle)."""


@dataclass(frozen=True)
class Problem:
    field: str
    detail: str


@dataclass
class FeedRow:
    """One row as read: its number in the file (1-based, after any header), the agency's
    own id for the record, and either the validated record or its problems."""

    number: int
    source_record_id: str
    record: ChildCreate | None = None
    supplied: frozenset[str] = frozenset()
    nhs_number_verified: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """What the row says, canonically: a re-sent row hashes the same."""
        assert self.record is not None
        body = {
            "record": self.record.model_dump(mode="json", exclude={"confirmed_distinct_from"}),
            "supplied": sorted(self.supplied),
            "nhs_number_verified": self.nhs_number_verified,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def nhs_number_status_of(
    row: FeedRow, *, traced: NhsNumberStatus = NhsNumberStatus.TRUSTED_FEED
) -> NhsNumberStatus | None:
    """The NHS number status a feed row gives its child (`child.nhs_number_status`):
    `traced` when the sending system says it traced the number against the national
    record (CSV `nhs_number_verified`, or UK Core's verification status code 01 in a
    Bundle): a trusted feed for an agency's system, the data manager's own trace for
    theirs (`access/objects.traced_by_feed_as` decides); else unverified. None when the
    row has no NHS number. Written by `feeds/writes.py` as the row creates or updates the
    child."""
    if row.record is None or row.record.nhs_number is None:
        return None
    return traced if row.nhs_number_verified else NhsNumberStatus.UNVERIFIED


def _validated(number: int, source_id: str, payload: dict[str, Any], verified: bool) -> FeedRow:
    if not source_id:
        return FeedRow(number, "", problems=[Problem("source_record_id", "required")])
    if len(source_id) > MAX_SOURCE_ID or not source_id.isprintable():
        problem = f"at most {MAX_SOURCE_ID} printable characters"
        return FeedRow(number, "", problems=[Problem("source_record_id", problem)])
    supplied = frozenset(payload) - {"date_of_birth_precision", "responsible_authority"}
    try:
        record = ChildCreate.model_validate({**_UNKNOWN, **payload})
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in error["loc"]) or "row", error["msg"])
            for error in exc.errors(include_input=False, include_url=False)
        ]
        return FeedRow(number, source_id, problems=problems)
    return FeedRow(number, source_id, record, supplied, verified)


# What a row does not say, spelt out: validating these is cheaper than the schema's copies
# of its default objects, and which groups a row *supplied* is kept apart (above).
_UNKNOWN: dict[str, Any] = {
    "carers": {"status": "unknown"},
    "gp_practice": {"status": "unknown"},
    "education": {"status": "unknown"},
    "addresses": [],
}


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def read_csv(stream: IO[bytes]) -> Iterator[FeedRow]:
    """The rows of a CSV feed (UTF-8, header row first)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    try:
        header = set(reader.fieldnames or ())
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FeedUnreadable("the file is not UTF-8 CSV with a header row") from exc
    missing = REQUIRED_COLUMNS - header
    if missing:
        raise FeedUnreadable(f"the header lacks the columns {', '.join(sorted(missing))}")
    unknown = header - set(CSV_COLUMNS)
    if unknown:
        raise FeedUnreadable(f"unknown columns {', '.join(sorted(unknown))}")
    number = 0
    try:
        for number, raw in enumerate(reader, start=1):
            if None in raw:
                yield FeedRow(number, "", problems=[Problem("row", "more cells than columns")])
                continue
            cells = {k: (v or "").strip() for k, v in raw.items()}
            yield _validated(
                number,
                cells.get("source_record_id", ""),
                _payload_of_cells(cells),
                cells.get("nhs_number_verified", "").lower() in {"true", "yes", "1"},
            )
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FeedUnreadable(f"the file cannot be read past row {number}") from exc


def _payload_of_cells(cells: dict[str, str]) -> dict[str, Any]:
    def given(*names: str) -> dict[str, str]:
        return {n: cells[n] for n in names if cells.get(n)}

    payload: dict[str, Any] = {
        "names": [
            {
                "kind": "legal",
                "given_names": cells.get("given_names", ""),
                "family_name": cells.get("family_name", ""),
            },
            *_other_names(cells.get("other_names", "")),
        ],
        "date_of_birth": cells.get("date_of_birth", ""),
        "responsible_authority": cells.get("responsible_authority", ""),
    }
    payload.update(given("date_of_birth_precision", "nhs_number", "upn", "la_reference"))
    if cells.get("address_line1") or cells.get("postcode"):
        address: dict[str, Any] = {
            "line1": cells.get("address_line1", ""),
            "postcode": cells.get("postcode", ""),
            "local_authority": cells.get("address_local_authority")
            or cells.get("responsible_authority", ""),
        }
        address.update(given("address_line2", "town", "uprn"))
        if cells.get("address_from"):
            address["from_date"] = cells["address_from"]
        payload["addresses"] = [address]
    if cells.get("carer_name"):
        carer = {"name": cells["carer_name"], "relationship": cells.get("carer_relationship", "")}
        if cells.get("carer_phone"):
            carer["phone"] = cells["carer_phone"]
        payload["carers"] = {"status": cells.get("carers_status") or "known", "people": [carer]}
    elif cells.get("carers_status"):
        payload["carers"] = {"status": cells["carers_status"]}
    if cells.get("gp_ods_code") or cells.get("gp_status"):
        payload["gp_practice"] = _coded(
            cells.get("gp_status") or "registered", "ods_code", cells.get("gp_ods_code")
        ) | ({"phone": cells["gp_phone"]} if cells.get("gp_phone") else {})
    if cells.get("school_urn") or cells.get("education_status"):
        payload["education"] = _coded(
            cells.get("education_status") or "attending", "urn", cells.get("school_urn")
        ) | ({"phone": cells["school_phone"]} if cells.get("school_phone") else {})
    return payload


def _coded(status: str, key: str, code: str | None) -> dict[str, Any]:
    return {"status": status, key: code} if code else {"status": status}


def _other_names(cell: str) -> list[dict[str, str]]:
    """`other_names`: names separated by `;`, each `Given Family` (the last word is the
    family name), optionally prefixed by its kind and a colon (`previous:Jo Smith`)."""
    names = []
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        kind, _, name = part.rpartition(":")
        given, _, family = name.strip().rpartition(" ")
        names.append({"kind": kind.strip() or "alias", "given_names": given, "family_name": family})
    return names


# ---------------------------------------------------------------------------------------
# FHIR R4 Bundle
# ---------------------------------------------------------------------------------------


def read_fhir(stream: IO[bytes]) -> Iterator[FeedRow]:
    """The Patients of a FHIR R4 Bundle (JSON), each with its carers (RelatedPerson whose
    `patient` refers to it) and its GP practice and school (Organization, referred to by
    `generalPractitioner` and the school extension, in the Bundle or as `identifier`)."""
    try:
        bundle = json.load(stream)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedUnreadable("the file is not JSON") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FeedUnreadable("the file is not a FHIR Bundle")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FeedUnreadable("Bundle.entry is not a list")
    try:
        resources: list[dict[str, Any]] = [
            e["resource"]
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
        by_reference = {_reference_of(r, e): r for r, e in _with_entries(resources, entries)}
        carers: dict[str, list[dict[str, Any]]] = {}
        for resource in resources:
            if resource.get("resourceType") == "RelatedPerson":
                patient = (resource.get("patient") or {}).get("reference")
                if isinstance(patient, str):
                    carers.setdefault(patient, []).append(resource)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise FeedUnreadable("the Bundle's entries cannot be read as FHIR resources") from exc
    number = 0
    for resource, entry in _with_entries(resources, entries):
        if resource.get("resourceType") != "Patient":
            continue
        number += 1
        reference = _reference_of(resource, entry)
        try:
            references = dict.fromkeys((reference, f"Patient/{resource.get('id')}"))
            related = [carer for ref in references for carer in carers.get(ref, [])]
            payload, verified = _payload_of_patient(resource, related, by_reference)
        except (TypeError, KeyError, AttributeError, ValueError):
            yield FeedRow(
                number,
                _source_id(resource),
                problems=[Problem("Patient", "not a readable Patient")],
            )
            continue
        yield _validated(number, _source_id(resource), payload, verified)


def _with_entries(
    resources: list[dict[str, Any]], entries: list[Any]
) -> Iterable[tuple[dict[str, Any], Any]]:
    with_resource = [
        e for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    return zip(resources, with_resource, strict=True)


def _reference_of(resource: dict[str, Any], entry: Any) -> str:
    full = entry.get("fullUrl") if isinstance(entry, dict) else None
    if isinstance(full, str) and full:
        return full
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _source_id(patient: dict[str, Any]) -> str:
    value = patient.get("id")
    return value.strip() if isinstance(value, str) else ""


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == url:
            return extension
    return None


def _identifier(resource: dict[str, Any], system: str) -> dict[str, Any] | None:
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return identifier
    return None


def _organisation_code(
    reference: dict[str, Any], system: str, by_reference: dict[str, dict[str, Any]]
) -> str | None:
    """An Organization reference's code: its own `identifier`, or the Organization in the
    Bundle it refers to."""
    own = reference.get("identifier")
    if isinstance(own, dict) and own.get("system") == system:
        return str(own.get("value", "")) or None
    target = by_reference.get(str(reference.get("reference", "")))
    found = _identifier(target, system) if target else None
    return str(found.get("value", "")) or None if found else None


def _payload_of_patient(
    patient: dict[str, Any],
    related: list[dict[str, Any]],
    by_reference: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    ra = _extension(patient, RESPONSIBLE_AUTHORITY_EXTENSION)
    authority = str(ra.get("valueCode", "")) if ra else ""
    payload: dict[str, Any] = {
        "names": _names(patient.get("name") or []),
        "date_of_birth": patient.get("birthDate", ""),
        "responsible_authority": authority,
    }
    verified = False
    nhs = _identifier(patient, NHS_NUMBER_SYSTEM)
    if nhs:
        payload["nhs_number"] = str(nhs.get("value", ""))
        status = _extension(nhs, NHS_VERIFICATION_URL)
        codings = ((status or {}).get("valueCodeableConcept") or {}).get("coding") or []
        verified = any(c.get("code") == "01" for c in codings if isinstance(c, dict))
    upn = _identifier(patient, UPN_SYSTEM)
    if upn:
        payload["upn"] = str(upn.get("value", ""))
    reference = _identifier(patient, LA_REFERENCE_SYSTEM)
    if reference:
        payload["la_reference"] = str(reference.get("value", ""))
    addresses = [_address(a, authority) for a in patient.get("address") or []]
    if addresses:
        payload["addresses"] = addresses
    if related:
        payload["carers"] = {"status": "known", "people": [_carer(r) for r in related]}
    for gp in patient.get("generalPractitioner") or []:
        code = _organisation_code(gp, ODS_SYSTEM, by_reference)
        if code:
            payload["gp_practice"] = {"status": "registered", "ods_code": code}
            break
    school = _extension(patient, SCHOOL_EXTENSION)
    if school:
        urn = _organisation_code(
            school.get("valueReference") or {}, SCHOOL_URN_SYSTEM, by_reference
        )
        if urn:
            payload["education"] = {"status": "attending", "urn": urn}
    return payload, verified


def _names(names: list[dict[str, Any]]) -> list[dict[str, str]]:
    found = []
    legal_seen = False
    for name in names:
        kind = {"official": "legal", "old": "previous", "maiden": "previous"}.get(
            str(name.get("use", "official")), "alias"
        )
        if kind == "legal":
            if legal_seen:
                kind = "alias"
            legal_seen = True
        found.append(
            {
                "kind": kind,
                "given_names": " ".join(name.get("given") or []),
                "family_name": str(name.get("family", "")),
            }
        )
    return found


def _address(address: dict[str, Any], authority: str) -> dict[str, Any]:
    lines = [str(line) for line in address.get("line") or []]
    la = _extension(address, LOCAL_AUTHORITY_EXTENSION)
    found: dict[str, Any] = {
        "line1": lines[0] if lines else "",
        "postcode": str(address.get("postalCode", "")),
        "local_authority": str(la.get("valueCode", "")) if la else authority,
    }
    if len(lines) > 1:
        found["line2"] = ", ".join(lines[1:])
    if address.get("city"):
        found["town"] = str(address["city"])
    period = address.get("period") or {}
    if period.get("start"):
        found["from_date"] = str(period["start"])[:10]
    if period.get("end"):
        found["to_date"] = str(period["end"])[:10]
    return found


def _carer(person: dict[str, Any]) -> dict[str, Any]:
    names = person.get("name") or [{}]
    name = names[0]
    text = name.get("text") or " ".join([*(name.get("given") or []), str(name.get("family", ""))])
    relationship = ""
    for concept in person.get("relationship") or []:
        relationship = concept.get("text") or next(
            (str(c.get("display") or c.get("code")) for c in concept.get("coding") or []), ""
        )
        if relationship:
            break
    carer: dict[str, Any] = {"name": text.strip(), "relationship": relationship or "carer"}
    phone = next(
        (t.get("value") for t in person.get("telecom") or [] if t.get("system") == "phone"), None
    )
    if phone:
        carer["phone"] = str(phone)
    return carer


FORMATS = {"csv": read_csv, "fhir": read_fhir}


def format_of_content_type(content_type: str) -> str | None:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "text/csv":
        return "csv"
    if kind in {"application/fhir+json", "application/json"}:
        return "fhir"
    return None


def format_of_file_name(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".json"):
        return "fhir"
    return None
