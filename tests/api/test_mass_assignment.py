"""Mass assignment: a body may carry only the fields its route accepts. A field the
service sets itself (who made a record, its id, its version, whether it is shielded, who
suspended whom) or that grants something (roles, an organisation) is refused with 422
`invalid_input`, wherever in the body it is, and the refused request changes nothing:
every table but the audit trail (which gains the refusal's one row) and the rate windows
(counted before the body is read, by design) is exactly as it was.

A field the body may carry is no way to take a record over either: the authority where a
shielded child lives (which sees only that the record exists) cannot make itself the
responsible authority, and so see the record in full or lift the shield."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from index_service.alerts.models import Alert
from index_service.alerts.schemas import AlertAcknowledge, WebhookEndpointCreate
from index_service.children.schemas import (
    AddressIn,
    CarerIn,
    ChildCreate,
    ChildUpdate,
    EducationIn,
    GpPracticeIn,
    LegalHoldIn,
    MergeCreate,
    NameIn,
)
from index_service.common import utcnow
from index_service.enquiries.models import (
    EnquiryContactClose,
    EnquiryCreate,
)
from index_service.feeds.models import FeedReview
from index_service.feeds.schemas import ReviewResolution
from index_service.flags.schemas import ConcernRaisedFlag, FlagReview
from index_service.involvements.schemas import InvolvementCreate, InvolvementEnd
from index_service.issuers.models import TrustedIssuerCreate
from index_service.main import V1_ROUTERS
from index_service.organisations.models import (
    Organisation,
    OrganisationCreate,
    OrganisationDeactivation,
)
from index_service.suspensions.models import SuspensionCreate
from tests.factories import (
    CHILD,
    EALING,
    HARINGEY,
    VALID_NHS_NUMBER,
    Factory,
    child_payload,
    other_child,
)

CONCERN = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}

# Tables a request could change; the audit trail and rate windows are checked apart.
DATA_TABLES = (
    "organisation",
    "child",
    "child_merge",
    "child_name",
    "child_address",
    "carer",
    "involvement",
    "enquiry",
    "suspension",
    "trusted_issuer",
    "shielded_access",
    "flag",
    "alert",
    "alert_delivery",
    "enquiry_contact",
    "webhook_endpoint",
)

# Sent to every body-taking route.
EXTRA_FIELDS: dict[str, Any] = {
    "organisation": "HIJACKED-ORG",
    "created_by": "attacker@elsewhere",
    "roles": ["administrator", "data_manager"],
    "id": "00000000-0000-4000-8000-000000000001",
    "version": 99,
    "shielded": True,
    "suspended_by": "attacker@elsewhere",
}
# What each kind of record stores about itself, sent to the routes that make or change it.
CHILD_EXTRAS: dict[str, Any] = {
    "created_by_organisation": "HIJACKED-ORG",
    "provenance": {"nhs_number": {"organisation": "HIJACKED-ORG"}},
    "status": "archived",
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "involvements": [],
    # What an entry names from the index, never from the body (issue 13, item 15).
    "responsible_authority_name": "Hijacked Borough",
    "responsible_authority_contact": {"organisation_code": "HIJACKED-ORG"},
}
ROUTE_EXTRAS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/organisations"): {"created_at": "2000-01-01T00:00:00Z"},
    ("PUT", "/v1/organisations/{organisation_id}/deactivation"): {
        "deactivated_at": "2000-01-01T00:00:00Z",
        "deactivated_by": "attacker@elsewhere",
        "code": "HIJACKED-ORG",
    },
    ("POST", "/v1/suspensions"): {
        "suspended_at": "2000-01-01T00:00:00Z",
        "lifted_at": "2000-01-01T00:00:00Z",
        "lifted_by": "attacker@elsewhere",
    },
    ("POST", "/v1/trusted-issuers"): {
        "registered_by": "attacker@elsewhere",
        "registered_at": "2000-01-01T00:00:00Z",
        "withdrawn_at": None,
        "withdrawn_by": None,
    },
    ("POST", "/v1/children"): CHILD_EXTRAS,
    ("PATCH", "/v1/children/{child_id}"): CHILD_EXTRAS,
    ("POST", "/v1/enquiries"): {
        "candidate_ids": ["00000000-0000-4000-8000-000000000002"],
        "outcome": "possible_matches",
        "issuer": "urn:elsewhere",
        "subject": "someone-else",
        "organisation_id": "00000000-0000-4000-8000-000000000003",
        "purpose": "audit",
        "front_door": {"authority_code": HARINGEY, "contact": {"phone": "attacker@elsewhere"}},
        "advice": "attacker@elsewhere",
        "pre_birth_plan": {"notice": "attacker@elsewhere", "contacts": [], "contact": None},
    },
    ("POST", "/v1/enquiry-contacts/{contact_id}/close"): {
        "closed_by": "attacker@elsewhere",
        "closed_at": "2000-01-01T00:00:00Z",
        "local_authority": HARINGEY,
        "enquiry_id": "00000000-0000-4000-8000-000000000002",
    },
    ("POST", "/v1/children/{child_id}/involvements"): {
        "child_id": "00000000-0000-4000-8000-000000000002",
        "organisation_id": "00000000-0000-4000-8000-000000000003",
        "organisation_code": "HIJACKED-ORG",
        "practitioner_issuer": "urn:elsewhere",
        "practitioner_subject": "someone-else",
        "end_date": "2000-01-01",
        "ended_by": "attacker@elsewhere",
        "created_at": "2000-01-01T00:00:00Z",
        "is_sensitive_service": False,
        "named_by": "attacker@elsewhere",
    },
    ("POST", "/v1/involvements/{involvement_id}/end"): {
        "ended_by": "attacker@elsewhere",
        "child_id": "00000000-0000-4000-8000-000000000002",
        "organisation_id": "00000000-0000-4000-8000-000000000003",
        "start_date": "2000-01-01",
    },
    ("POST", "/v1/children/{child_id}/flags"): {
        "child_id": "00000000-0000-4000-8000-000000000002",
        "organisation_id": "00000000-0000-4000-8000-000000000003",
        "organisation_code": "HIJACKED-ORG",
        "raised_by_issuer": "urn:elsewhere",
        "raised_by_subject": "someone-else",
        "raised_at": "2000-01-01T00:00:00Z",
        "ended_at": "2000-01-01T00:00:00Z",
        "attributes": {"area_of_concern": "developmental_needs"},
    },
    ("POST", "/v1/flags/{flag_id}/review"): {
        "reviewed_at": "2000-01-01T00:00:00Z",
        "ended_at": "2000-01-01T00:00:00Z",
        "kind": "child_protection_plan",
        "organisation_id": "00000000-0000-4000-8000-000000000003",
    },
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): {
        "acknowledged_at": "2000-01-01T00:00:00Z",
        "acknowledged_by": "attacker@elsewhere",
        "acknowledged_note": "set directly",
        "recipient_issuer": "urn:elsewhere",
        "recipient_subject": "someone-else",
        "escalated_at": "2000-01-01T00:00:00Z",
        "actor_sensitive": False,
    },
    ("POST", "/v1/feeds/reviews/{review_id}/resolve"): {
        "status": "same_child",
        "resolved_by": "attacker@elsewhere",
        "resolved_at": "2000-01-01T00:00:00Z",
        "candidate_ids": ["00000000-0000-4000-8000-000000000002"],
        "responsible_authority": HARINGEY,
    },
    ("POST", "/v1/children/{child_id}/merges"): {
        "survivor_id": "00000000-0000-4000-8000-000000000002",
        "merged_at": "2000-01-01T00:00:00Z",
        "merged_by": "attacker@elsewhere",
        "unmerged_at": None,
        "survivor_version": 1,
        "snapshot": {"names": []},
    },
    ("PUT", "/v1/children/{child_id}/legal-hold"): {
        "held": False,
        "set_at": "2000-01-01T00:00:00Z",
        "legal_hold_by": "attacker@elsewhere",
        "child_id": "00000000-0000-4000-8000-000000000002",
        "status": "archived",
        "version": 99,
    },
    ("POST", "/v1/webhook-endpoints"): {
        "secret": "whsec_attacker",
        "active": True,
        "created_by": "attacker@elsewhere",
        "disabled_at": None,
        "organisation_id": "00000000-0000-4000-8000-000000000003",
    },
}
# Extra fields inside the nested objects of a child: (path to the object, model, field).
NESTED_EXTRAS: tuple[tuple[tuple[str | int, ...], type[BaseModel], str], ...] = (
    (("names", 0), NameIn, "id"),
    (("addresses", 0), AddressIn, "child_id"),
    (("addresses", 0), AddressIn, "current"),
    (("carers", "people", 0), CarerIn, "child_id"),
    (("gp_practice",), GpPracticeIn, "verified_by"),
    (("gp_practice",), GpPracticeIn, "name"),
    (("gp_practice",), GpPracticeIn, "contact"),
    (("education",), EducationIn, "name"),
    (("education",), EducationIn, "contact"),
)
CHILD_ROUTES = (("POST", "/v1/children"), ("PATCH", "/v1/children/{child_id}"))


def snapshot(factory: Factory) -> dict[str, list[str]]:
    """Every row of every data table, as JSON text, sorted."""
    with factory.db.session() as session:
        return {
            table: sorted(
                str(row)
                for row in session.execute(
                    text(f"SELECT to_jsonb(t) FROM {table} AS t")  # noqa: S608
                ).scalars()
            )
            for table in DATA_TABLES
        }


@dataclass
class Scene:
    """Callers for every body-taking route, and the records those routes act on."""

    client: TestClient
    factory: Factory
    headers: dict[str, dict[str, str]]
    other: Organisation
    child_id: str
    involvement_id: str  # the social worker's organisation's, with the child
    flag_id: str  # the social worker's organisation's, on the child
    contact_id: str  # an open enquiry-only contact in the designated manager's authority
    alert_id: str  # an alert to the designated managers' team of Ealing
    review_id: str  # a feed row queued for Ealing's data managers
    twin_id: str  # another entry of the data manager's authority, to merge into the child

    def snapshot(self) -> dict[str, list[str]]:
        return snapshot(self.factory)


def _enquiry_contact(factory: Factory, organisation: Organisation) -> str:
    """An open enquiry-only contact in the organisation's authority, made by its user."""
    return factory.enquiry_contact(organisation)


@pytest.fixture
def scene(client: TestClient, factory: Factory) -> Scene:
    data_manager = factory.data_manager()
    created = client.post("/v1/children", json=child_payload(), headers=data_manager)
    assert created.status_code == 201, created.text
    child_id = created.json()["id"]
    social_worker = factory.headers(roles=["social_worker"])
    made = {}
    for what, body in (("involvements", {"service": "Assessment team"}), ("flags", CONCERN)):
        response = client.post(f"/v1/children/{child_id}/{what}", json=body, headers=social_worker)
        assert response.status_code == 201, response.text
        made[what] = response.json()["id"]
    return Scene(
        client=client,
        factory=factory,
        headers={
            "administrator": factory.headers(roles=["administrator"], type="index_operator"),
            "data_manager": data_manager,
            "practitioner": factory.practitioner(),
            "social_worker": social_worker,
            "designated_manager": factory.headers(roles=["designated_manager"]),
        },
        other=factory.organisation(type="hospital"),
        child_id=child_id,
        involvement_id=made["involvements"],
        flag_id=made["flags"],
        contact_id=_enquiry_contact(factory, factory.organisation(type="school")),
        alert_id=_team_alert(factory, child_id),
        review_id=_feed_review(factory),
        twin_id=client.post("/v1/children", json=other_child(), headers=data_manager).json()["id"],
    )


def _feed_review(factory: Factory) -> str:
    review = FeedReview(
        feed_id=uuid.uuid4(),
        organisation_code="MASS1",
        source_record_id="M-1",
        responsible_authority=EALING,
        record={"record": other_child(), "groups": ["names"]},
        candidate_ids=[],
        reason="possible_match",
    )
    with factory.db.transaction() as session:
        session.add(review)
    return str(review.id)


def _team_alert(factory: Factory, child_id: str) -> str:
    alert = Alert(
        rule="R5",
        reason="child_moved_authority",
        child_id=uuid.UUID(child_id),
        recipient_team="designated_managers",
        recipient_authority=EALING,
        occurred_at=utcnow(),
        dedupe_key=f"test:{uuid.uuid4()}",
    )
    with factory.db.transaction() as session:
        session.add(alert)
    return str(alert.id)


@dataclass(frozen=True)
class BodyRoute:
    """A body-taking route: who may call it, its model, and a valid body to start from."""

    model: type[BaseModel]
    caller: str
    success: int
    body: Callable[[Scene], dict[str, Any]]
    url: Callable[[Scene], str]
    if_match: str | None = None
    # Where the body's fields are in an error's location: for a body of one of several
    # kinds, under its kind's tag.
    location: tuple[str, ...] = ()


def _organisation_body(scene: Scene) -> dict[str, Any]:
    code = f"MA{uuid.uuid4().hex[:8].upper()}"
    return {
        "code": code,
        "name": "Mass CSC",
        "type": "childrens_social_care",
        "local_authority": EALING,
        "contact_phone": "020 7946 0311",
        "out_of_hours_phone": "020 7946 0399",
    }


def _suspension_body(scene: Scene) -> dict[str, Any]:
    return {"kind": "organisation", "organisation_code": scene.other.code, "reason": "testing"}


def _issuer_body(scene: Scene) -> dict[str, Any]:
    return {
        "issuer": f"https://idp-{uuid.uuid4().hex[:8]}.agency.example",
        "jwks_url": "https://keys.agency.example/jwks.json",
        # An agency's issuer: social care's and the operator's are configured in settings.
        "organisations": [scene.other.code],
    }


def _child_update_body(scene: Scene) -> dict[str, Any]:
    keep = ("names", "addresses", "carers", "gp_practice", "education")
    return {"la_reference": "NEW-REF-1", **{k: copy.deepcopy(CHILD[k]) for k in keep}}


def _review_body(scene: Scene) -> dict[str, Any]:
    return {"review_date": (utcnow().date() + timedelta(days=30)).isoformat()}


def _webhook_body(scene: Scene) -> dict[str, Any]:
    return {"organisation_code": scene.other.code, "url": "https://receiver.agency.example/hooks"}


BODY_ROUTES: dict[tuple[str, str], BodyRoute] = {
    ("POST", "/v1/organisations"): BodyRoute(
        OrganisationCreate, "administrator", 201, _organisation_body, lambda s: "/v1/organisations"
    ),
    ("PUT", "/v1/organisations/{organisation_id}/deactivation"): BodyRoute(
        OrganisationDeactivation,
        "administrator",
        200,
        lambda s: {"reason": "Closed"},
        lambda s: f"/v1/organisations/{s.other.id}/deactivation",
    ),
    ("POST", "/v1/suspensions"): BodyRoute(
        SuspensionCreate, "administrator", 201, _suspension_body, lambda s: "/v1/suspensions"
    ),
    ("POST", "/v1/trusted-issuers"): BodyRoute(
        TrustedIssuerCreate, "administrator", 201, _issuer_body, lambda s: "/v1/trusted-issuers"
    ),
    ("POST", "/v1/children"): BodyRoute(
        ChildCreate, "data_manager", 201, lambda s: other_child(), lambda s: "/v1/children"
    ),
    ("PATCH", "/v1/children/{child_id}"): BodyRoute(
        ChildUpdate,
        "data_manager",
        200,
        _child_update_body,
        lambda s: f"/v1/children/{s.child_id}",
        if_match='"1"',
    ),
    ("POST", "/v1/enquiries"): BodyRoute(
        EnquiryCreate,
        "practitioner",
        201,
        lambda s: {"nhs_number": VALID_NHS_NUMBER},
        lambda s: "/v1/enquiries",
    ),
    ("POST", "/v1/enquiry-contacts/{contact_id}/close"): BodyRoute(
        EnquiryContactClose,
        "designated_manager",
        200,
        lambda s: {"reason": "referred; record created"},
        lambda s: f"/v1/enquiry-contacts/{s.contact_id}/close",
    ),
    ("POST", "/v1/children/{child_id}/involvements"): BodyRoute(
        InvolvementCreate,
        "social_worker",
        201,
        lambda s: {"service": "Family support"},
        lambda s: f"/v1/children/{s.child_id}/involvements",
    ),
    ("POST", "/v1/involvements/{involvement_id}/end"): BodyRoute(
        InvolvementEnd,
        "social_worker",
        200,
        lambda s: {},
        lambda s: f"/v1/involvements/{s.involvement_id}/end",
    ),
    ("POST", "/v1/children/{child_id}/flags"): BodyRoute(
        ConcernRaisedFlag,
        "social_worker",
        201,
        lambda s: dict(CONCERN),
        lambda s: f"/v1/children/{s.child_id}/flags",
        location=("concern_raised",),
    ),
    ("POST", "/v1/flags/{flag_id}/review"): BodyRoute(
        FlagReview,
        "social_worker",
        200,
        _review_body,
        lambda s: f"/v1/flags/{s.flag_id}/review",
    ),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): BodyRoute(
        AlertAcknowledge,
        "designated_manager",
        200,
        lambda s: {"note": "called the ED back"},
        lambda s: f"/v1/alerts/{s.alert_id}/acknowledge",
    ),
    ("POST", "/v1/feeds/reviews/{review_id}/resolve"): BodyRoute(
        ReviewResolution,
        "data_manager",
        200,
        lambda s: {"decision": "ignored"},
        lambda s: f"/v1/feeds/reviews/{s.review_id}/resolve",
    ),
    ("POST", "/v1/children/{child_id}/merges"): BodyRoute(
        MergeCreate,
        "data_manager",
        201,
        lambda s: {"merged_id": s.twin_id, "merged_version": 1},
        lambda s: f"/v1/children/{s.child_id}/merges",
        if_match='"1"',
    ),
    ("PUT", "/v1/children/{child_id}/legal-hold"): BodyRoute(
        LegalHoldIn,
        "data_manager",
        200,
        lambda s: {"reason": "Inquiry moratorium"},
        lambda s: f"/v1/children/{s.child_id}/legal-hold",
        if_match='"1"',
    ),
    ("POST", "/v1/webhook-endpoints"): BodyRoute(
        WebhookEndpointCreate,
        "administrator",
        201,
        _webhook_body,
        lambda s: "/v1/webhook-endpoints",
    ),
}


def send(scene: Scene, route: tuple[str, str], body: Any) -> httpx2.Response:
    target = BODY_ROUTES[route]
    headers = dict(scene.headers[target.caller])
    if target.if_match is not None:
        headers["If-Match"] = target.if_match
    response: httpx2.Response = scene.client.request(
        route[0], target.url(scene), json=body, headers=headers
    )
    return response


def _top_level_cases() -> list[Any]:
    cases = []
    for route in BODY_ROUTES:
        for name, value in {**EXTRA_FIELDS, **ROUTE_EXTRAS[route]}.items():
            label = f"{route[0]} {route[1]} + {name}"
            cases.append(pytest.param(route, (name,), value, id=label))
    return cases


def _nested_cases() -> list[Any]:
    cases = []
    for route in CHILD_ROUTES:
        for where, _model, name in NESTED_EXTRAS:
            label = f"{route[0]} {route[1]} + {'.'.join(map(str, (*where, name)))}"
            cases.append(pytest.param(route, (*where, name), "injected", id=label))
    return cases


def with_extra(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    parent: Any = body
    for step in path[:-1]:
        parent = parent[step]
    assert path[-1] not in parent, f"{path} is already in the body"
    parent[path[-1]] = value
    return body


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def test_every_body_taking_route_is_covered() -> None:
    taking = {
        (method, route.path)
        for router in V1_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.body_field is not None
        for method in route.methods or ()
    }
    assert taking == set(BODY_ROUTES)
    assert set(ROUTE_EXTRAS) == set(BODY_ROUTES)


def test_the_extra_fields_are_not_fields_of_the_bodies() -> None:
    """The test sends fields a route does not accept: none is a real field by another name."""
    for route, target in BODY_ROUTES.items():
        for name in {**EXTRA_FIELDS, **ROUTE_EXTRAS[route]}:
            assert name not in target.model.model_fields, (route, name)
    for _where, model, name in NESTED_EXTRAS:
        assert name not in model.model_fields, (model.__name__, name)


@pytest.mark.parametrize("route", list(BODY_ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_the_bodies_the_cases_start_from_are_accepted(scene: Scene, route: tuple[str, str]) -> None:
    """Control: each case is refused only for the field it adds."""
    response = send(scene, route, BODY_ROUTES[route].body(scene))
    assert response.status_code == BODY_ROUTES[route].success, response.text


@pytest.mark.parametrize(("route", "path", "value"), _top_level_cases() + _nested_cases())
def test_an_extra_field_is_refused_and_changes_nothing(
    scene: Scene, route: tuple[str, str], path: tuple[str | int, ...], value: Any
) -> None:
    body = with_extra(BODY_ROUTES[route].body(scene), path, value)
    before, audit_before = scene.snapshot(), len(scene.factory.audit_rows())
    response = send(scene, route, body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"] == [
        {
            "location": ["body", *BODY_ROUTES[route].location, *map(str, path)],
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    for secret in ("HIJACKED", "attacker", "injected", "someone-else"):
        assert secret not in response.text

    assert scene.snapshot() == before, "a refused body changed stored data"
    rows = scene.factory.audit_rows()[audit_before:]
    assert [(r["method"], r["route"]) for r in rows] == [route]
    assert (rows[0]["outcome"], rows[0]["status_code"], rows[0]["reason"]) == (
        "refused",
        422,
        "invalid_input",
    )


# ---------------------------------------------------------------------------------------
# Taking a shielded record over through a field the body may carry
# ---------------------------------------------------------------------------------------

WITHHELD = ("1 Synthetic Row", "W5 2AA", "Morgan", VALID_NHS_NUMBER, "A81001", "100001")


def _shielded_by_haringey(client: TestClient, factory: Factory) -> str:
    """A child Haringey is responsible for and has shielded, living in Ealing now."""
    haringey = factory.headers(roles=["data_manager"], local_authority=HARINGEY)
    created = client.post(
        "/v1/children", json=child_payload(responsible_authority=HARINGEY), headers=haringey
    )
    assert created.status_code == 201, created.text
    child_id = str(created.json()["id"])
    shielded = client.put(
        f"/v1/children/{child_id}/shield", headers={**haringey, "If-Match": '"1"'}
    )
    assert shielded.status_code == 200, shielded.text
    return child_id


@pytest.mark.parametrize("role", ["data_manager", "social_worker"])
def test_where_a_shielded_child_lives_cannot_take_over_its_record(
    client: TestClient, factory: Factory, role: str
) -> None:
    child_id = _shielded_by_haringey(client, factory)
    ealing = factory.headers(roles=[role], local_authority=EALING)
    # The child lives in Ealing, which gives Ealing no reach to a shielded record.
    read = client.get(f"/v1/children/{child_id}", headers=ealing)
    assert read.status_code == 404, read.text
    before = snapshot(factory)

    response = client.patch(
        f"/v1/children/{child_id}",
        json={"responsible_authority": EALING},
        headers={**ealing, "If-Match": '"2"'},
    )
    for withheld in WITHHELD:
        assert withheld not in response.text
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert snapshot(factory) == before, "the shielded record changed hands"
