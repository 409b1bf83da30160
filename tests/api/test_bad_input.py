"""Bad input to POST /v1/children and PATCH /v1/children/{id}, as a table.

Every refusal must be a 4xx RFC 9457 problem document with a stable `code`, must never
echo the rejected value, must store nothing, and must leave exactly one audit row with
outcome "refused"."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from index_service.alerts.models import Alert
from index_service.api.problems import PROBLEM_BASE, PROBLEM_JSON
from index_service.common import utcnow
from index_service.database import Database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import (
    CHILD,
    EALING,
    HARINGEY,
    VALID_NHS_NUMBER,
    Factory,
    child_payload,
    create_confirming,
    other_child,
)

REQUEST_ID = "bad-input-test-0001"
STORED_TABLES = ("child", "child_name", "child_address", "carer")
MAX_BODY_BYTES = 64 * 1024
_UNSET: Any = object()

TODAY = utcnow().date()
IN_THE_FUTURE = (TODAY + timedelta(days=30)).isoformat()
THIRTY_YEARS_AGO = date(TODAY.year - 30, TODAY.month, min(TODAY.day, 28)).isoformat()
LONG_FAMILY_NAME = "Overlongfamilyname" * 5 + "Q" * 11  # 101 characters
assert len(LONG_FAMILY_NAME) == 101


# ---------------------------------------------------------------------------------------
# Building bad payloads from the standard synthetic child
# ---------------------------------------------------------------------------------------


def _names(*names: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(n) for n in names]


def _legal(family: str = "Testchild", **extra: Any) -> dict[str, Any]:
    return {"kind": "legal", "given_names": "Aisha", "family_name": family, **extra}


def _alias(family: str = "Testchild") -> dict[str, Any]:
    return {"kind": "alias", "given_names": "Ash", "family_name": family}


def _addresses(**first: Any) -> list[dict[str, Any]]:
    """The standard addresses with fields of the first (current) one replaced."""
    addresses = copy.deepcopy(CHILD["addresses"])
    addresses[0].update(first)
    return addresses


def _carers(**person: Any) -> dict[str, Any]:
    carers = copy.deepcopy(CHILD["carers"])
    carers["people"][0].update(person)
    return carers


@dataclass(frozen=True)
class Bad:
    """Top-level fields that make the body invalid. POST sends the standard child with
    these replaced; PATCH sends only these. `loc` is where the problem's `errors` must
    point (`patch_loc` where PATCH points, if different); `secrets` must not appear in
    the response."""

    changes: dict[str, Any]
    loc: tuple[str, ...]
    secrets: tuple[str, ...] = ()
    patch_loc: tuple[str, ...] | None = None


BAD_BODIES = [
    # Text: never wider than its column, never control characters
    pytest.param(
        Bad({"la_reference": "R" * 41}, ("body", "la_reference")),
        id="la-reference-wider-than-its-column",
    ),
    pytest.param(
        Bad({"addresses": _addresses(town="T" * 101)}, ("body", "addresses", "0", "town")),
        id="town-wider-than-its-column",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal(family="Test\u0000child"))},
            ("body", "names", "0", "family_name"),
        ),
        id="nul-in-a-family-name",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal(family="Test\nchild"))},
            ("body", "names", "0", "family_name"),
        ),
        id="line-break-in-a-family-name",
    ),
    pytest.param(
        Bad({"addresses": _addresses(line1="1 Row\u001b[2J")}, ("body", "addresses", "0", "line1")),
        id="terminal-escape-in-an-address",
    ),
    pytest.param(
        Bad(
            {"carers": _carers(relationship="mother\tfather")},
            ("body", "carers", "people", "0", "relationship"),
        ),
        id="tab-in-a-carer-relationship",
    ),
    # Identifiers
    pytest.param(
        Bad({"nhs_number": "9992914174"}, ("body", "nhs_number"), ("9992914174",)),
        id="nhs-number-wrong-check-digit",
    ),
    pytest.param(
        Bad({"nhs_number": "999291417"}, ("body", "nhs_number"), ("999291417",)),
        id="nhs-number-nine-digits",
    ),
    pytest.param(
        Bad({"nhs_number": "99929141AB"}, ("body", "nhs_number"), ("99929141AB",)),
        id="nhs-number-letters",
    ),
    pytest.param(
        Bad({"upn": "A307202311001"}, ("body", "upn"), ("A307202311001",)),
        id="upn-wrong-check-letter",
    ),
    pytest.param(
        Bad({"upn": "Z30720231100"}, ("body", "upn"), ("Z30720231100",)),
        id="upn-twelve-characters",
    ),
    pytest.param(
        Bad({"upn": "Z3072023110012"}, ("body", "upn"), ("Z3072023110012",)),
        id="upn-fourteen-characters",
    ),
    # Postcodes
    pytest.param(
        Bad(
            {"addresses": _addresses(postcode="NOT A POSTCODE")},
            ("body", "addresses", "0", "postcode"),
            ("NOT A POSTCODE",),
        ),
        id="postcode-words",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(postcode="W5")},
            ("body", "addresses", "0", "postcode"),
            ("W5",),
        ),
        id="postcode-outward-code-only",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(postcode="12345")},
            ("body", "addresses", "0", "postcode"),
            ("12345",),
        ),
        id="postcode-digits",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(postcode="QX1A 1AA")},
            ("body", "addresses", "0", "postcode"),
            ("QX1A 1AA",),
        ),
        id="postcode-impossible-area-letter",
    ),
    # Date of birth (its age limit is a setting: see the age-limit tests below)
    pytest.param(
        Bad({"date_of_birth": "2016-02-30"}, ("body", "date_of_birth"), ("2016-02-30",)),
        id="date-of-birth-not-a-date",
    ),
    # Invisible and combining-only text: in names, in addresses, in free text
    pytest.param(
        Bad(
            {"names": _names(_legal("Test\u200bchild"))},
            ("body", "names", "0", "family_name"),
            ("Test\u200bchild",),
        ),
        id="name-with-a-zero-width-space",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal("Test\u200dchild"))},
            ("body", "names", "0", "family_name"),
            ("Test\u200dchild",),
        ),
        id="name-with-a-zero-width-joiner",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal("\u202edlihctseT"))},
            ("body", "names", "0", "family_name"),
            ("dlihctseT",),
        ),
        id="name-with-a-right-to-left-override",
    ),
    pytest.param(
        Bad(
            {"names": _names({**_legal(), "given_names": "\u0301\u0308"})},
            ("body", "names", "0", "given_names"),
        ),
        id="name-of-combining-marks-only",
    ),
    pytest.param(
        Bad(
            {"names": _names({**_legal(), "given_names": "\u0301Aisha"})},
            ("body", "names", "0", "given_names"),
        ),
        id="name-beginning-with-a-combining-mark",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(line1="1 Synthetic \u2066Row\u2069")},
            ("body", "addresses", "0", "line1"),
            ("Synthetic",),
        ),
        id="address-line-with-a-bidi-isolate",
    ),
    pytest.param(
        Bad(
            {"la_reference": "\ufeffSecret-Ref"},
            ("body", "la_reference"),
            ("Secret-Ref",),
        ),
        id="reference-with-a-byte-order-mark",
    ),
    # Unknown fields, top level and nested
    pytest.param(
        Bad({"favourite_colour": "Secret-Teal"}, ("body", "favourite_colour"), ("Secret-Teal",)),
        id="unknown-top-level-field",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal(nickname="Secret-Nick"))},
            ("body", "names", "0", "nickname"),
            ("Secret-Nick",),
        ),
        id="unknown-field-in-a-name",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(uprn="Secret-Uprn")},
            ("body", "addresses", "0", "uprn"),
            ("Secret-Uprn",),
        ),
        id="unknown-field-in-an-address",
    ),
    pytest.param(
        Bad(
            {"carers": _carers(email="secret@carer.example")},
            ("body", "carers", "people", "0", "email"),
            ("secret@carer.example",),
        ),
        id="unknown-field-in-a-carer",
    ),
    pytest.param(
        Bad(
            {"carers": {**CHILD["carers"], "note": "Secret-Note"}},
            ("body", "carers", "note"),
            ("Secret-Note",),
        ),
        id="unknown-field-in-carers",
    ),
    # Mass assignment: server-owned fields may not be sent
    pytest.param(
        Bad(
            {"id": "0b7d6f53-5a0e-4a52-9a49-2f0c6e3c1a11"},
            ("body", "id"),
            ("0b7d6f53-5a0e-4a52-9a49-2f0c6e3c1a11",),
        ),
        id="mass-assignment-id",
    ),
    pytest.param(Bad({"version": 99}, ("body", "version")), id="mass-assignment-version"),
    pytest.param(
        Bad({"status": "Secret-Closed"}, ("body", "status"), ("Secret-Closed",)),
        id="mass-assignment-status",
    ),
    pytest.param(
        Bad(
            {
                "provenance": {
                    "nhs_number": {
                        "organisation": "SECRETORG",
                        "confirmed_at": "2020-01-01T00:00:00Z",
                    }
                }
            },
            ("body", "provenance"),
            ("SECRETORG",),
        ),
        id="mass-assignment-provenance",
    ),
    pytest.param(
        Bad(
            {"created_by_organisation": "SECRETORG"},
            ("body", "created_by_organisation"),
            ("SECRETORG",),
        ),
        id="mass-assignment-created-by-organisation",
    ),
    pytest.param(Bad({"shielded": True}, ("body", "shielded")), id="mass-assignment-shielded"),
    pytest.param(
        Bad({"created_at": "2001-01-01T00:00:00Z"}, ("body", "created_at"), ("2001-01-01",)),
        id="mass-assignment-created-at",
    ),
    # Names
    pytest.param(
        Bad({"names": _names(_legal(), _legal("Secondlegal"))}, ("body", "names")),
        id="names-two-legal",
    ),
    pytest.param(
        Bad({"names": _names(_alias(), _alias("Otheralias"))}, ("body", "names")),
        id="names-no-legal",
    ),
    pytest.param(Bad({"names": []}, ("body", "names")), id="names-empty-list"),
    pytest.param(
        Bad(
            {"names": _names(_legal(), *[_alias(f"Alias{i}") for i in range(20)])},
            ("body", "names"),
        ),
        id="names-twenty-one",
    ),
    pytest.param(
        Bad(
            {"names": _names(_legal(LONG_FAMILY_NAME))},
            ("body", "names", "0", "family_name"),
            (LONG_FAMILY_NAME,),
        ),
        id="names-family-name-101-characters",
    ),
    pytest.param(
        Bad({"names": None}, ("body", "names"), patch_loc=("body",)),
        id="names-null",
    ),
    # Addresses and local authorities
    pytest.param(
        Bad({"addresses": [CHILD["addresses"][0], CHILD["addresses"][0]]}, ("body", "addresses")),
        id="addresses-two-current",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(from_date="2020-06-01", to_date="2020-05-31")},
            ("body", "addresses", "0"),
        ),
        id="address-to-date-before-from-date",
    ),
    pytest.param(
        Bad(
            {"addresses": _addresses(local_authority="E0900009")},
            ("body", "addresses", "0", "local_authority"),
            ("E0900009",),
        ),
        id="address-local-authority-eight-characters",
    ),
    pytest.param(
        Bad(
            {"responsible_authority": "E0900009"}, ("body", "responsible_authority"), ("E0900009",)
        ),
        id="responsible-authority-eight-characters",
    ),
    pytest.param(
        Bad(
            {"responsible_authority": "X09000009"},
            ("body", "responsible_authority"),
            ("X09000009",),
        ),
        id="responsible-authority-unknown-country-letter",
    ),
    # The right shape, but not on the ONS list of English authorities (issue 13, item 13)
    pytest.param(
        Bad(
            {"addresses": _addresses(local_authority="E09000099")},
            ("body", "addresses", "0", "local_authority"),
            ("E09000099",),
        ),
        id="address-local-authority-not-on-the-ons-list",
    ),
    pytest.param(
        Bad(
            {"responsible_authority": "E09000099"},
            ("body", "responsible_authority"),
            ("E09000099",),
        ),
        id="responsible-authority-not-on-the-ons-list",
    ),
    pytest.param(
        Bad(
            {"responsible_authority": "W06000015"},
            ("body", "responsible_authority"),
            ("W06000015",),
        ),
        id="responsible-authority-welsh",
    ),
    # "Unknown" versus "none": status and detail must agree
    pytest.param(
        Bad({"gp_practice": {"status": "registered"}}, ("body", "gp_practice")),
        id="gp-registered-without-ods-code",
    ),
    pytest.param(
        Bad(
            {"gp_practice": {"status": "not_registered", "ods_code": "A81001"}},
            ("body", "gp_practice"),
        ),
        id="gp-not-registered-with-ods-code",
    ),
    pytest.param(
        Bad({"carers": {"status": "known", "people": []}}, ("body", "carers")),
        id="carers-known-without-people",
    ),
    pytest.param(
        Bad({"education": {"status": "attending"}}, ("body", "education")),
        id="education-attending-without-urn",
    ),
]


# ---------------------------------------------------------------------------------------
# The target of a bad request, and what "refused, nothing stored" means for it
# ---------------------------------------------------------------------------------------


@dataclass
class Target:
    method: str
    client: TestClient
    factory: Factory
    headers: dict[str, str]
    url: str = "/v1/children"
    route: str = "/v1/children"
    child_before: dict[str, Any] | None = None
    # Who read the record before: the same reader after (an entry names its authority's
    # children's social care, and each new data manager adds one to the authority).
    reader: dict[str, str] = field(default_factory=dict)
    counts_before: dict[str, int] = field(default_factory=dict)
    audit_before: int = 0

    def body(self, changes: dict[str, Any]) -> dict[str, Any]:
        return child_payload(**changes) if self.method == "POST" else dict(changes)

    def send(
        self,
        *,
        json_body: Any = _UNSET,
        content: Any = _UNSET,
        content_type: str | None = _UNSET,
        if_match: str | None = _UNSET,
    ) -> httpx2.Response:
        headers = dict(self.headers)
        if self.method == "PATCH":
            headers["If-Match"] = '"1"'
            if if_match is None:
                del headers["If-Match"]
            elif if_match is not _UNSET:
                headers["If-Match"] = if_match
        if content_type is not _UNSET and content_type is not None:
            headers["Content-Type"] = content_type
        kwargs: dict[str, Any] = {"headers": headers}
        if json_body is not _UNSET:
            kwargs["json"] = json_body
        if content is not _UNSET:
            kwargs["content"] = content
        return self.client.request(self.method, self.url, **kwargs)

    def assert_refused(self, response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
        """A problem document, nothing stored, exactly one audit row saying "refused"."""
        body = assert_problem(response, status, code)
        assert counts(self.factory) == self.counts_before, "a refused request stored something"
        rows = self.factory.audit_rows()
        assert len(rows) == self.audit_before + 1, "want exactly one audit row for the request"
        (row,) = [r for r in rows if r["request_id"] == REQUEST_ID]
        assert row["outcome"] == "refused"
        assert row["status_code"] == status
        assert row["reason"] == code
        assert row["method"] == self.method
        assert row["route"] == self.route
        if self.child_before is not None:
            read = self.client.get(self.url, headers=self.reader)
            assert read.status_code == 200, read.text
            assert read.headers["ETag"] == '"1"'
            assert read.json() == self.child_before
        return body


def counts(factory: Factory) -> dict[str, int]:
    return {table: factory.count(table) for table in STORED_TABLES}


def assert_problem(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == PROBLEM_BASE + code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["code"] == code
    return body


def assert_errors_point_at(body: dict[str, Any], loc: tuple[str, ...]) -> None:
    locations = [tuple(e["location"]) for e in body["errors"]]
    assert loc in locations, f"{loc} not among {locations}"
    for error in body["errors"]:
        assert set(error) == {"location", "message", "type"}


def assert_not_echoed(response: httpx2.Response, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in response.text, f"the problem echoes the rejected value {secret!r}"


def _make_target(method: str, client: TestClient, factory: Factory) -> Target:
    headers = {**factory.data_manager(), "X-Request-ID": REQUEST_ID}
    target = Target(method=method, client=client, factory=factory, headers=headers)
    if method == "PATCH":
        setup = factory.data_manager()
        created = client.post("/v1/children", json=child_payload(), headers=setup)
        assert created.status_code == 201, created.text
        target.url = f"/v1/children/{created.json()['id']}"
        target.route = "/v1/children/{child_id}"
        read = client.get(target.url, headers=setup)
        assert read.headers["ETag"] == '"1"'
        target.child_before = read.json()
        target.reader = setup
    target.counts_before = counts(factory)
    target.audit_before = len(factory.audit_rows())
    return target


@pytest.fixture(params=["POST", "PATCH"])
def target(request: pytest.FixtureRequest, client: TestClient, factory: Factory) -> Target:
    return _make_target(request.param, client, factory)


@pytest.fixture
def patch_target(client: TestClient, factory: Factory) -> Target:
    return _make_target("PATCH", client, factory)


# ---------------------------------------------------------------------------------------
# Invalid bodies: 422 invalid_input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_BODIES)
def test_an_invalid_body_is_refused_and_nothing_is_stored(target: Target, bad: Bad) -> None:
    response = target.send(json_body=target.body(bad.changes))
    body = target.assert_refused(response, 422, "invalid_input")
    loc = bad.patch_loc if target.method == "PATCH" and bad.patch_loc else bad.loc
    assert_errors_point_at(body, loc)
    assert_not_echoed(response, bad.secrets)


def test_an_empty_patch_is_refused(patch_target: Target) -> None:
    response = patch_target.send(json_body={})
    body = patch_target.assert_refused(response, 422, "invalid_input")
    assert_errors_point_at(body, ("body",))


# ---------------------------------------------------------------------------------------
# Who the index may hold: the age limit (a setting) and unborn children
# ---------------------------------------------------------------------------------------


def _years_ago(years: int, days: int = 0) -> str:
    return (date(TODAY.year - years, TODAY.month, min(TODAY.day, 28)) + timedelta(days)).isoformat()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"date_of_birth": _years_ago(18)}, "beyond_age_limit", id="eighteen-today"),
        pytest.param({"date_of_birth": THIRTY_YEARS_AGO}, "beyond_age_limit", id="thirty"),
        pytest.param(
            {"date_of_birth": IN_THE_FUTURE}, "date_of_birth_in_future", id="future-exact-date"
        ),
        pytest.param(
            {
                "date_of_birth": (TODAY + timedelta(days=400)).isoformat(),
                "date_of_birth_precision": "estimated",
            },
            "date_of_birth_in_future",
            id="expected-delivery-beyond-the-unborn-window",
        ),
    ],
)
def test_a_record_beyond_the_age_limit_is_refused_with_a_clear_problem(
    target: Target, changes: dict[str, Any], code: str
) -> None:
    response = target.send(json_body=target.body(changes))
    body = target.assert_refused(response, 422, code)
    assert_errors_point_at(body, ("body", "date_of_birth"))
    assert_not_echoed(response, (changes["date_of_birth"],))


def test_a_child_a_day_short_of_the_age_limit_and_an_unborn_child_are_recorded(
    client: TestClient, factory: Factory
) -> None:
    """Control for the age limit: under 18, and an unborn child with a pre-birth plan
    (the expected date of delivery, estimated), are who the index is for."""
    headers = factory.data_manager()
    almost = client.post(
        "/v1/children",
        json=child_payload(date_of_birth=_years_ago(18, days=1)),
        headers=headers,
    )
    assert almost.status_code == 201, almost.text
    assert almost.json()["age_years"] == 17
    unborn = client.post(
        "/v1/children",
        json=other_child(
            date_of_birth=(TODAY + timedelta(days=90)).isoformat(),
            date_of_birth_precision="estimated",
        ),
        headers=headers,
    )
    assert unborn.status_code == 201, unborn.text
    assert "age_years" not in unborn.json() or unborn.json()["age_years"] is None


@pytest.mark.parametrize("precision", ["year", "month"])
def test_a_date_known_only_to_its_year_or_month_is_judged_by_its_latest_day(
    client: TestClient, factory: Factory, precision: str
) -> None:
    """Born "in" the year (or month) eighteen years ago: the child may still be 17 until
    that year's (month's) last day, so the record is kept; a year earlier is refused."""
    # Recorded as the year's (the month's) first day: this month, eighteen years ago,
    # is not over, and neither is that year.
    born = date(TODAY.year - 18, 1 if precision == "year" else TODAY.month, 1)
    body = child_payload(date_of_birth=born.isoformat(), date_of_birth_precision=precision)
    kept = client.post("/v1/children", json=body, headers=factory.data_manager())
    assert kept.status_code == 201, kept.text
    older = body | {"date_of_birth": born.replace(year=born.year - 1).isoformat()}
    older["nhs_number"] = None
    refused = client.post("/v1/children", json=older, headers=factory.data_manager())
    assert (refused.status_code, refused.json()["code"]) == (422, "beyond_age_limit")


def test_the_age_limit_is_a_setting(settings: Settings, db: Database, factory: Factory) -> None:
    older = create_app(settings.model_copy(update={"record_age_limit_years": 21}), db=db)
    with TestClient(older, raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/children",
            json=child_payload(date_of_birth=_years_ago(19)),
            headers=factory.data_manager(),
        )
    assert response.status_code == 201, response.text


def test_the_valid_bodies_the_table_starts_from_are_accepted(
    client: TestClient, factory: Factory
) -> None:
    """Control: the table's bodies fail only because of the change each case makes."""
    headers = factory.data_manager()
    created = client.post("/v1/children", json=child_payload(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["nhs_number"] == VALID_NHS_NUMBER
    updated = client.patch(
        created.headers["Location"],
        json={"names": _names(_legal(), _alias())},
        headers={**headers, "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text


# ---------------------------------------------------------------------------------------
# Bodies refused before they are parsed: 413 and 415
# ---------------------------------------------------------------------------------------

OVERSIZE_PADDING = "Oversized-Secret-" * (MAX_BODY_BYTES // 16)


def _oversized(target: Target) -> bytes:
    raw = json.dumps(target.body({"la_reference": OVERSIZE_PADDING})).encode()
    assert len(raw) > MAX_BODY_BYTES
    return raw


def _in_chunks(raw: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_oversized_body_is_refused_with_413(target: Target, framing: str, settings: Any) -> None:
    assert settings.max_body_bytes == MAX_BODY_BYTES
    raw = _oversized(target)
    content = raw if framing == "content-length" else _in_chunks(raw)
    response = target.send(content=content, content_type="application/json")
    sent = response.request.headers
    if framing == "chunked":
        assert "content-length" not in sent
        assert sent["transfer-encoding"] == "chunked"
    else:
        assert sent["content-length"] == str(len(raw))
    target.assert_refused(response, 413, "payload_too_large")
    assert_not_echoed(response, ("Oversized-Secret",))


def test_a_chunked_body_under_the_limit_is_accepted(client: TestClient, factory: Factory) -> None:
    """Control: the chunked 413 is about size, not about the missing Content-Length."""
    raw = json.dumps(child_payload()).encode()
    response = client.post(
        "/v1/children",
        content=_in_chunks(raw, 256),
        headers={**factory.data_manager(), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", id="form-urlencoded"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("application/xml", id="xml"),
        pytest.param(None, id="no-content-type"),
    ],
)
def test_a_body_that_is_not_json_is_refused_with_415(
    target: Target, content_type: str | None
) -> None:
    raw = json.dumps(target.body({"responsible_authority": HARINGEY})).encode()
    response = target.send(content=raw, content_type=content_type)
    if content_type is None:
        assert "content-type" not in response.request.headers
    target.assert_refused(response, 415, "unsupported_media_type")


# ---------------------------------------------------------------------------------------
# Bodies that are not JSON objects: 400 malformed_json, 422 invalid_input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        pytest.param(b'{"names": [', 400, "malformed_json", id="truncated-json"),
        pytest.param(b'{"names": [],}', 400, "malformed_json", id="trailing-comma"),
        pytest.param(b"{'names': []}", 400, "malformed_json", id="single-quotes"),
        pytest.param(b"[" + json.dumps(CHILD).encode() + b"]", 422, "invalid_input", id="array"),
        pytest.param(b'"a string"', 422, "invalid_input", id="string"),
        pytest.param(b"null", 422, "invalid_input", id="null"),
        pytest.param(b"", 422, "invalid_input", id="empty-body"),
        pytest.param(
            b'{"responsible_authority": "E09000009", "responsible_authority": "E09000014"}',
            400,
            "duplicate_json_key",
            id="duplicate-key",
        ),
        pytest.param(
            json.dumps(CHILD).encode()[:-1] + b', "nhs_number": null}',
            400,
            "duplicate_json_key",
            id="duplicate-key-after-a-whole-record",
        ),
        pytest.param(
            b'{"carers": {"status": "unknown", "status": "none"}}',
            400,
            "duplicate_json_key",
            id="duplicate-key-in-a-nested-object",
        ),
        pytest.param(b"[" * 5000 + b"]" * 5000, 400, "malformed_json", id="nested-too-deep"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    target: Target, raw: bytes, status: int, code: str
) -> None:
    response = target.send(content=raw, content_type="application/json")
    body = target.assert_refused(response, status, code)
    if status == 422:
        assert_errors_point_at(body, ("body",))
    else:
        assert "errors" not in body


# ---------------------------------------------------------------------------------------
# PATCH preconditions: If-Match
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("if_match", "status", "codes"),
    [
        pytest.param(None, 428, {"precondition_required"}, id="missing"),
        pytest.param("", 428, {"precondition_required"}, id="blank"),
        pytest.param('"7"', 412, {"precondition_failed"}, id="stale-7"),
        pytest.param('"0"', 412, {"precondition_failed"}, id="stale-0"),
        pytest.param('W/"1"', 412, {"if_match_malformed"}, id="weak-etag"),
        pytest.param("abc", 412, {"if_match_malformed"}, id="unquoted-word"),
        pytest.param("1", 412, {"if_match_malformed"}, id="unquoted-number"),
        pytest.param("*", 412, {"if_match_malformed"}, id="star"),
        pytest.param('"1", "2"', 412, {"if_match_malformed"}, id="list-of-etags"),
        # RFC 9110 strong comparison: "01" is not the ETag "1" that was read.
        pytest.param('"01"', 412, {"precondition_failed", "if_match_malformed"}, id="leading-zero"),
        pytest.param('"' + "1" * 70 + '"', 422, {"invalid_input"}, id="longer-than-64"),
    ],
)
def test_a_patch_without_the_current_etag_is_refused(
    patch_target: Target, if_match: str | None, status: int, codes: set[str]
) -> None:
    response = patch_target.send(
        json_body={"responsible_authority": HARINGEY, "la_reference": "Secret-Ref"},
        if_match=if_match,
    )
    assert response.status_code == status, response.text
    code = response.json()["code"]
    assert code in codes
    body = patch_target.assert_refused(response, status, code)
    if if_match == '"7"':
        assert body["current_version"] == 1
    if status == 422:
        assert_errors_point_at(body, ("header", "if-match"))
    assert_not_echoed(response, ("Secret-Ref",))


def test_a_refusal_before_the_body_is_parsed_names_the_caller_and_the_child(
    client: TestClient, factory: Factory
) -> None:
    headers = factory.data_manager()
    child = client.post("/v1/children", json=child_payload(), headers=headers).json()
    refused = client.patch(
        f"/v1/children/{child['id']}",
        content=b"not json at all",
        headers={**headers, "Content-Type": "text/plain", "If-Match": '"1"'},
    )
    assert refused.status_code == 415
    row = factory.audit_rows()[-1]
    assert row["status_code"] == 415
    assert row["subject"] == "user-1"
    assert row["organisation"] is not None
    assert [str(c) for c in row["child_ids"]] == [child["id"]]


def test_an_unauthenticated_body_is_never_read(client: TestClient, factory: Factory) -> None:
    response = client.post(
        "/v1/children", content=b"x" * 200_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401  # refused on identity before the size is even looked at
    assert factory.count("child") == 0


# ---------------------------------------------------------------------------------------
# The bodies issue 13 added: an acknowledgement's note, a named practitioner
# ---------------------------------------------------------------------------------------

LONG_NOTE = "Secret-note-" * 17  # 204 characters
NAMED = {
    "service": "Children in need team",
    "practitioner_name": "Alex Allocated",
    "practitioner_email": "alex.allocated@ealing.example",
    "is_allocated_worker": True,
}


@pytest.mark.parametrize(
    ("route", "body", "loc", "secret"),
    [
        pytest.param("ack", {"note": "rang\nback"}, ("body", "note"), "rang", id="note: newline"),
        pytest.param("ack", {"note": "rang\x1bback"}, ("body", "note"), "rang", id="note: ESC"),
        pytest.param("ack", {"note": LONG_NOTE}, ("body", "note"), LONG_NOTE, id="note: 204"),
        pytest.param("ack", {"note": "   "}, ("body", "note"), "", id="note: blank"),
        pytest.param("ack", {"note": ["x"]}, ("body", "note"), "", id="note: a list"),
        pytest.param(
            "involvement",
            {**NAMED, "practitioner_name": "Alex\x00Allocated"},
            ("body", "practitioner_name"),
            "Alex",
            id="practitioner_name: NUL",
        ),
        pytest.param(
            "involvement",
            {**NAMED, "practitioner_name": "A" * 101},
            ("body", "practitioner_name"),
            "A" * 101,
            id="practitioner_name: 101",
        ),
        pytest.param(
            "involvement",
            {**NAMED, "practitioner_email": "not-an-email"},
            ("body", "practitioner_email"),
            "not-an-email",
            id="practitioner_email: not one",
        ),
        pytest.param(
            "involvement",
            {**NAMED, "is_allocated_worker": "perhaps"},
            ("body", "is_allocated_worker"),
            "perhaps",
            id="is_allocated_worker: not a boolean",
        ),
    ],
)
def test_a_bad_note_or_named_practitioner_is_refused_and_nothing_is_stored(
    client: TestClient,
    factory: Factory,
    route: str,
    body: dict[str, Any],
    loc: tuple[str, ...],
    secret: str,
) -> None:
    data_manager = factory.data_manager()
    child_id = create_confirming(client, data_manager, child_payload())
    social_worker = factory.headers(roles=["social_worker"])
    designated_manager = factory.headers(roles=["designated_manager"])
    alert = Alert(
        rule="R5",
        reason="child_moved_authority",
        recipient_team="designated_managers",
        recipient_authority=EALING,
        occurred_at=utcnow(),
        dedupe_key=f"test:{child_id}",
    )
    with factory.db.transaction() as session:
        session.add(alert)
    if route == "ack":
        url, headers = f"/v1/alerts/{alert.id}/acknowledge", designated_manager
    else:
        url, headers = f"/v1/children/{child_id}/involvements", social_worker
    involvements = factory.count("involvement")

    response = client.post(url, json=body, headers=headers)

    problem = assert_problem(response, 422, "invalid_input")
    assert_errors_point_at(problem, loc)
    if secret.strip():
        assert_not_echoed(response, (secret,))
    assert factory.count("involvement") == involvements
    with factory.db.session() as session:
        stored = session.get(Alert, alert.id)
        assert stored is not None
        assert (stored.acknowledged_at, stored.acknowledged_note) == (None, None)
