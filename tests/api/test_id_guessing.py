"""Guessing ids: for every route that takes an id, a caller who holds the route's
permission but has no claim on the object (another authority's child, another user's
enquiry, a child the enquiry did not find, an enquiry too old to open, the id of some
other kind of object) gets the very same 404 as for a random uuid4: same problem
document but for its request id, same headers, so the answer tells them nothing. Each
guess leaves one audit row, "refused" with 404, naming the guessed child, and changes
nothing. (A path parameter that names something, not an id, such as the misuse report
in /v1/audit/reports/{report}, is not guessed at: it is one of a fixed list.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.alerts.models import Alert
from index_service.common import utcnow
from index_service.enquiries.models import Enquiry
from index_service.feeds.models import FeedReview
from index_service.main import V1_ROUTERS
from index_service.matching.model import CURRENT_VERSION
from index_service.organisations.models import Organisation
from index_service.settings import DEV_ISSUER, Settings
from tests.factories import HARINGEY, PURPOSE, VALID_NHS_NUMBER, Factory, child_payload

HARINGEY_HOME = {
    "line1": "9 Old Lane",
    "town": "London",
    "postcode": "N17 6AB",
    "local_authority": HARINGEY,
    "from_date": "2016-02-11",
}
# Found by no enquiry for VALID_NHS_NUMBER: no identifiers, other names.
HARINGEY_CHILD = child_payload(
    names=[{"kind": "legal", "given_names": "Hana", "family_name": "Otherchild"}],
    nhs_number=None,
    upn=None,
    responsible_authority=HARINGEY,
    addresses=[HARINGEY_HOME],
)
UNFOUND_CHILD = child_payload(
    names=[{"kind": "legal", "given_names": "Uma", "family_name": "Unfoundchild"}],
    date_of_birth="2014-06-06",  # born another day: not a possible duplicate either
    nhs_number=None,
    upn=None,
)
# Headers that differ from one response to the next whatever the request.
VOLATILE_HEADERS = {"date", "x-request-id", "content-length"}
STATE = (
    "SELECT id, version, shielded, la_reference, updated_at FROM child ORDER BY id",
    "SELECT id, lifted_at FROM suspension ORDER BY id",
    "SELECT id, withdrawn_at FROM trusted_issuer ORDER BY id",
    "SELECT count(*) FROM enquiry",
    "SELECT count(*) FROM organisation",
    "SELECT id, end_date FROM involvement ORDER BY id",
    "SELECT id, review_date, reviewed_at, ended_at FROM flag ORDER BY id",
    "SELECT id, acknowledged_at FROM alert ORDER BY id",
    "SELECT count(*) FROM alert_delivery",
    "SELECT id, closed_at FROM enquiry_contact ORDER BY id",
    "SELECT id, active FROM webhook_endpoint ORDER BY id",
)


def _bearer(factory: Factory, organisation: Organisation, roles: list[str], sub: str) -> Any:
    token = factory.token(organisation=organisation, roles=roles, sub=sub)
    return {"Authorization": f"Bearer {token}", **PURPOSE}


@dataclass
class Scene:
    client: TestClient
    factory: Factory
    callers: dict[str, dict[str, str]]
    ids: dict[str, str]

    def post(self, caller: str, url: str, body: dict[str, Any]) -> Any:
        response = self.client.post(url, json=body, headers=self.callers[caller])
        assert response.status_code == 201, response.text
        return response.json()

    def state(self) -> list[Any]:
        with self.factory.db.session() as session:
            return [session.execute(text(query)).all() for query in STATE]


def _old_enquiry(factory: Factory, settings: Settings, emergency: Organisation, child: str) -> str:
    """The practitioner's own enquiry that found the child, made too long ago to open."""
    enquiry = Enquiry(
        issuer=DEV_ISSUER,
        subject="user-1",
        organisation_id=emergency.id,
        purpose=PURPOSE["Purpose-Of-Use"],
        purpose_text=PURPOSE["Purpose-Text"],
        criteria={"nhs_number": VALID_NHS_NUMBER},
        outcome="possible_matches",
        candidate_ids=[uuid.UUID(child)],
        model_version=CURRENT_VERSION,
        created_at=utcnow() - timedelta(minutes=settings.enquiry_open_minutes + 5),
    )
    with factory.db.transaction() as session:
        session.add(enquiry)
    return str(enquiry.id)


def _alert_to(factory: Factory, subject: str) -> str:
    """An alert to one user (by issuer and subject)."""
    alert = Alert(
        rule="R4",
        reason="flag_raised",
        recipient_issuer=DEV_ISSUER,
        recipient_subject=subject,
        occurred_at=utcnow(),
        dedupe_key=uuid.uuid4().hex,
    )
    with factory.db.transaction() as session:
        session.add(alert)
    return str(alert.id)


def _haringey_contact(factory: Factory, haringey: Organisation) -> str:
    """An open enquiry-only contact in Haringey, made by a user of a Haringey agency."""
    return factory.enquiry_contact(haringey, subject="haringey-user")


@pytest.fixture
def scene(client: TestClient, factory: Factory, settings: Settings) -> Scene:
    emergency = factory.organisation(type="emergency_department")
    callers = {
        "data_manager": factory.data_manager(),
        "haringey_data_manager": factory.headers(roles=["data_manager"], local_authority=HARINGEY),
        "practitioner": _bearer(factory, emergency, ["practitioner"], "user-1"),
        "colleague": _bearer(factory, emergency, ["practitioner"], "user-2"),
        "administrator": factory.headers(roles=["administrator"], type="index_operator"),
        "social_worker": factory.headers(roles=["social_worker"]),
        "designated_manager": factory.headers(roles=["designated_manager"]),
        "haringey_designated_manager": factory.headers(
            roles=["designated_manager"], local_authority=HARINGEY
        ),
        "auditor": factory.headers(roles=["auditor"]),
        "national_auditor": factory.headers(roles=["national_auditor"], type="index_operator"),
    }
    scene = Scene(client=client, factory=factory, callers=callers, ids={})
    ids = scene.ids
    ids["ealing_child"] = scene.post("data_manager", "/v1/children", child_payload())["id"]
    ids["unfound_child"] = scene.post("data_manager", "/v1/children", UNFOUND_CHILD)["id"]
    ids["haringey_child"] = scene.post("haringey_data_manager", "/v1/children", HARINGEY_CHILD)[
        "id"
    ]
    by_nhs_number = {"nhs_number": VALID_NHS_NUMBER}
    for who in ("practitioner", "colleague"):
        enquiry = scene.post(who, "/v1/enquiries", by_nhs_number)
        assert [c["child_id"] for c in enquiry["candidates"]] == [ids["ealing_child"]]
        ids[f"{who}_enquiry"] = enquiry["id"]
    ids["old_enquiry"] = _old_enquiry(factory, settings, emergency, ids["ealing_child"])
    ids["organisation"] = str(emergency.id)
    ids["suspension"] = scene.post(
        "administrator",
        "/v1/suspensions",
        {"kind": "user", "issuer": DEV_ISSUER, "subject": "someone", "reason": "testing"},
    )["id"]
    ids["issuer"] = scene.post(
        "administrator",
        "/v1/trusted-issuers",
        {
            "issuer": "https://idp.agency.example",
            "jwks_url": "https://keys.agency.example/k",
            "organisations": [emergency.code],
        },
    )["id"]
    # The social worker's organisation works with the Ealing child, and flags it.
    on_ealing_child = f"/v1/children/{ids['ealing_child']}"
    ids["involvement"] = scene.post(
        "social_worker", f"{on_ealing_child}/involvements", {"service": "Assessment team"}
    )["id"]
    ids["flag"] = scene.post("social_worker", f"{on_ealing_child}/flags", CONCERN)["id"]
    ids["colleague_alert"] = _alert_to(factory, "user-2")
    ids["haringey_contact"] = _haringey_contact(
        factory, factory.organisation(local_authority=HARINGEY)
    )
    ids["haringey_review"] = _haringey_review(factory)
    return scene


def _haringey_review(factory: Factory) -> str:
    """A feed row queued for Haringey's data managers."""
    review = FeedReview(
        feed_id=uuid.uuid4(),
        organisation_code="GUESS1",
        source_record_id="G-1",
        responsible_authority=HARINGEY,
        record={"record": HARINGEY_CHILD, "groups": ["names"]},
        candidate_ids=[],
        reason="possible_match",
    )
    with factory.db.transaction() as session:
        session.add(review)
    return str(review.id)


Params = Callable[[dict[str, str]], dict[str, str]]
RANDOM = "random"


def ids_of(**names: str) -> Params:
    """Path ids by name: each the id of a scene object, or RANDOM for a fresh uuid4."""

    def params(ids: dict[str, str]) -> dict[str, str]:
        return {k: str(uuid.uuid4()) if v == RANDOM else ids[v] for k, v in names.items()}

    return params


@dataclass(frozen=True)
class Guess:
    """`taken`: path ids of an object the caller has no claim on; `guessed`: the same with
    random ids (by default every id random)."""

    method: str
    path: str
    caller: str
    taken: Params
    guessed: Params | None = None
    json: dict[str, Any] | None = None
    if_match: str | None = None

    def random_params(self, ids: dict[str, str]) -> dict[str, str]:
        if self.guessed is not None:
            return self.guessed(ids)
        return {name: str(uuid.uuid4()) for name in self.taken(ids)}


CHILD = "/v1/children/{child_id}"
SHIELD = "/v1/children/{child_id}/shield"
OPEN = "/v1/enquiries/{enquiry_id}/children/{child_id}"
ACCESSES = "/v1/audit/children/{child_id}/accesses"
HARINGEY_CHILD_ID = ids_of(child_id="haringey_child")
CHANGE = {"la_reference": "G-1"}
CONCERN = {"kind": "concern_raised", "area_of_concern": "parenting_capacity"}
INVOLVEMENT = {"service": "Guessing team"}
REVIEW = {"review_date": (utcnow().date() + timedelta(days=30)).isoformat()}

GUESSES = [
    pytest.param(
        Guess("GET", CHILD, "data_manager", HARINGEY_CHILD_ID),
        id="read another LA's child",
    ),
    pytest.param(
        Guess("PATCH", CHILD, "data_manager", HARINGEY_CHILD_ID, json=CHANGE, if_match='"1"'),
        id="update another LA's child",
    ),
    pytest.param(
        Guess("PATCH", CHILD, "data_manager", HARINGEY_CHILD_ID, json=CHANGE, if_match='"9"'),
        id="update another LA's child with a stale version",
    ),
    pytest.param(
        Guess("PUT", SHIELD, "data_manager", HARINGEY_CHILD_ID, if_match='"1"'),
        id="shield another LA's child",
    ),
    pytest.param(
        Guess("DELETE", SHIELD, "data_manager", HARINGEY_CHILD_ID, if_match='"1"'),
        id="unshield another LA's child",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/merges",
            "data_manager",
            HARINGEY_CHILD_ID,
            json={"merged_id": str(uuid.uuid4()), "merged_version": 1},
            if_match='"1"',
        ),
        id="merge into another LA's child",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/merges/{merge_id}/undo",
            "data_manager",
            ids_of(child_id="haringey_child", merge_id=RANDOM),
            if_match='"1"',
        ),
        id="unmerge another LA's child",
    ),
    pytest.param(
        Guess(
            "PUT",
            "/v1/children/{child_id}/legal-hold",
            "data_manager",
            HARINGEY_CHILD_ID,
            json={"reason": "Inquiry"},
            if_match='"1"',
        ),
        id="hold another LA's child",
    ),
    pytest.param(
        Guess(
            "DELETE",
            "/v1/children/{child_id}/legal-hold",
            "auditor",
            HARINGEY_CHILD_ID,
            if_match='"1"',
        ),
        id="lift a hold on another LA's child",
    ),
    pytest.param(
        Guess("GET", "/v1/children/{child_id}/legal-hold", "auditor", HARINGEY_CHILD_ID),
        id="read a hold on another LA's child",
    ),
    pytest.param(
        Guess("GET", "/v1/children/{child_id}/subject-access", "data_manager", HARINGEY_CHILD_ID),
        id="subject access to another LA's child",
    ),
    pytest.param(
        Guess(
            "GET",
            OPEN,
            "practitioner",
            ids_of(enquiry_id="colleague_enquiry", child_id="ealing_child"),
            ids_of(enquiry_id=RANDOM, child_id="ealing_child"),
        ),
        id="open a child from another user's enquiry",
    ),
    pytest.param(
        Guess(
            "GET",
            OPEN,
            "practitioner",
            ids_of(enquiry_id="practitioner_enquiry", child_id="unfound_child"),
            ids_of(enquiry_id="practitioner_enquiry", child_id=RANDOM),
        ),
        id="open a child the own enquiry did not find",
    ),
    pytest.param(
        Guess(
            "GET",
            OPEN,
            "practitioner",
            ids_of(enquiry_id="practitioner_enquiry", child_id="haringey_child"),
            ids_of(enquiry_id="practitioner_enquiry", child_id=RANDOM),
        ),
        id="open another LA's child the own enquiry did not find",
    ),
    pytest.param(
        Guess(
            "GET",
            OPEN,
            "practitioner",
            ids_of(enquiry_id="old_enquiry", child_id="ealing_child"),
            ids_of(enquiry_id=RANDOM, child_id="ealing_child"),
        ),
        id="open a child from an own enquiry too old to open",
    ),
    # Administrators may reach every organisation, suspension and issuer: what they can
    # only guess at is an id that belongs to no object of the kind.
    pytest.param(
        Guess(
            "GET",
            "/v1/organisations/{organisation_id}",
            "administrator",
            ids_of(organisation_id="ealing_child"),
        ),
        id="read an organisation by a child's id",
    ),
    pytest.param(
        Guess(
            "PUT",
            "/v1/organisations/{organisation_id}/deactivation",
            "administrator",
            ids_of(organisation_id="ealing_child"),
            json={"reason": "Closed"},
        ),
        id="deactivate an organisation by a child's id",
    ),
    pytest.param(
        Guess(
            "DELETE",
            "/v1/organisations/{organisation_id}/deactivation",
            "administrator",
            ids_of(organisation_id="suspension"),
        ),
        id="reactivate an organisation by a suspension's id",
    ),
    pytest.param(
        Guess(
            "DELETE",
            "/v1/suspensions/{suspension_id}",
            "administrator",
            ids_of(suspension_id="organisation"),
        ),
        id="lift a suspension by an organisation's id",
    ),
    pytest.param(
        Guess(
            "DELETE",
            "/v1/trusted-issuers/{issuer_id}",
            "administrator",
            ids_of(issuer_id="suspension"),
        ),
        id="withdraw an issuer by a suspension's id",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/involvements",
            "practitioner",
            ids_of(child_id="unfound_child"),
            json=INVOLVEMENT,
        ),
        id="record an involvement with a child the own enquiry did not find",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/involvements",
            "social_worker",
            HARINGEY_CHILD_ID,
            json=INVOLVEMENT,
        ),
        id="record an involvement with another LA's child",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/involvements/{involvement_id}/end",
            "practitioner",
            ids_of(involvement_id="involvement"),
            json={},
        ),
        id="end another organisation's involvement",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/flags",
            "practitioner",
            ids_of(child_id="unfound_child"),
            json=CONCERN,
        ),
        id="flag a child the own enquiry did not find",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/children/{child_id}/flags",
            "social_worker",
            HARINGEY_CHILD_ID,
            json=CONCERN,
        ),
        id="flag another LA's child",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/flags/{flag_id}/review",
            "practitioner",
            ids_of(flag_id="flag"),
            json=REVIEW,
        ),
        id="review another organisation's flag",
    ),
    pytest.param(
        Guess("POST", "/v1/flags/{flag_id}/end", "practitioner", ids_of(flag_id="flag")),
        id="end another organisation's flag",
    ),
    pytest.param(
        Guess("GET", "/v1/alerts/{alert_id}", "practitioner", ids_of(alert_id="colleague_alert")),
        id="read another user's alert",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/alerts/{alert_id}/acknowledge",
            "practitioner",
            ids_of(alert_id="colleague_alert"),
        ),
        id="acknowledge another user's alert",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/enquiry-contacts/{contact_id}/close",
            "designated_manager",
            ids_of(contact_id="haringey_contact"),
            json={"reason": "guessing"},
        ),
        id="close another LA's enquiry-only contact",
    ),
    pytest.param(
        Guess(
            "DELETE",
            "/v1/webhook-endpoints/{endpoint_id}",
            "administrator",
            ids_of(endpoint_id="issuer"),
        ),
        id="withdraw a webhook endpoint by an issuer's id",
    ),
    pytest.param(
        Guess("GET", ACCESSES, "auditor", HARINGEY_CHILD_ID),
        id="report on another LA's child's accesses",
    ),
    # A national auditor reaches every child: only an id of no child is a guess.
    pytest.param(
        Guess("GET", ACCESSES, "national_auditor", ids_of(child_id="practitioner_enquiry")),
        id="report on a child's accesses by an enquiry's id",
    ),
    pytest.param(
        Guess(
            "POST",
            "/v1/feeds/reviews/{review_id}/resolve",
            "data_manager",
            ids_of(review_id="haringey_review"),
            json={"decision": "ignored"},
        ),
        id="resolve another LA's feed review",
    ),
]


def send(scene: Scene, guess: Guess, params: dict[str, str]) -> httpx2.Response:
    headers = dict(scene.callers[guess.caller])
    if guess.if_match is not None:
        headers["If-Match"] = guess.if_match
    url = guess.path.format(**params)
    response: httpx2.Response = scene.client.request(
        guess.method, url, json=guess.json, headers=headers
    )
    return response


def refused_as_not_found(
    scene: Scene, guess: Guess, params: dict[str, str]
) -> tuple[dict[str, Any], set[str]]:
    """Send the guess; check the 404 and its one audit row; return the problem (without
    its request id) and the response's header names."""
    audit_before = len(scene.factory.audit_rows())
    response = send(scene, guess, params)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    rows = scene.factory.audit_rows()[audit_before:]
    assert len(rows) == 1, rows
    (row,) = rows
    assert (row["method"], row["route"]) == (guess.method, guess.path)
    assert (row["outcome"], row["status_code"], row["reason"]) == ("refused", 404, "not_found")
    assert row["subject"] is not None
    if "child_id" in params:
        assert uuid.UUID(params["child_id"]) in row["child_ids"]
    if "enquiry_id" in params:
        assert row["detail"]["enquiry_id"] == params["enquiry_id"]
    problem = response.json()
    assert problem.pop("request_id") == row["request_id"]
    return problem, {h.lower() for h in response.headers} - VOLATILE_HEADERS


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def test_every_route_that_takes_an_id_is_guessed() -> None:
    taking = {
        (method, route.path)
        for router in V1_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "_id}" in route.path
        for method in route.methods or ()
    }
    named = {
        route.path
        for router in V1_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "{" in route.path and "_id}" not in route.path
    }
    assert named == {"/v1/audit/reports/{report}"}, "a path parameter that is not an id: guess it"
    guesses = [p.values[0] for p in GUESSES]
    assert all(isinstance(g, Guess) for g in guesses)
    guessed = {(g.method, g.path) for g in guesses if isinstance(g, Guess)}
    assert guessed == taking


@pytest.mark.parametrize("guess", GUESSES)
def test_a_guessed_id_is_the_same_404_as_a_random_one(scene: Scene, guess: Guess) -> None:
    before = scene.state()
    taken, taken_headers = refused_as_not_found(scene, guess, guess.taken(scene.ids))
    guessed, guessed_headers = refused_as_not_found(scene, guess, guess.random_params(scene.ids))
    assert taken["code"] == "not_found"
    assert (taken["code"], taken["title"]) == (guessed["code"], guessed["title"])
    assert taken == guessed, "the answer tells an existing object from a random id"
    assert taken_headers == guessed_headers
    assert "etag" not in taken_headers
    assert scene.state() == before, "a guess changed something"


@pytest.mark.parametrize(
    ("caller", "method", "url", "json"),
    [
        pytest.param(
            "haringey_data_manager", "GET", "/v1/children/{haringey_child}", None, id="the child"
        ),
        pytest.param(
            "colleague",
            "GET",
            "/v1/enquiries/{colleague_enquiry}/children/{ealing_child}",
            None,
            id="enquiry",
        ),
        pytest.param(
            "administrator", "DELETE", "/v1/suspensions/{suspension}", None, id="suspension"
        ),
        pytest.param("administrator", "DELETE", "/v1/trusted-issuers/{issuer}", None, id="issuer"),
        pytest.param(
            "social_worker", "POST", "/v1/involvements/{involvement}/end", {}, id="involvement"
        ),
        pytest.param("social_worker", "POST", "/v1/flags/{flag}/review", REVIEW, id="flag"),
        pytest.param("colleague", "GET", "/v1/alerts/{colleague_alert}", None, id="alert"),
        pytest.param(
            "haringey_designated_manager",
            "POST",
            "/v1/enquiry-contacts/{haringey_contact}/close",
            {"reason": "control"},
            id="enquiry-only contact",
        ),
        pytest.param(
            "national_auditor",
            "GET",
            "/v1/audit/children/{haringey_child}/accesses",
            None,
            id="child's accesses",
        ),
        pytest.param(
            "haringey_data_manager",
            "POST",
            "/v1/feeds/reviews/{haringey_review}/resolve",
            {"decision": "ignored"},
            id="feed review",
        ),
    ],
)
def test_the_objects_guessed_at_are_there_for_their_owners(
    scene: Scene, caller: str, method: str, url: str, json: dict[str, Any] | None
) -> None:
    """Control: the 404s above are about who asks, not about objects that are missing."""
    response = scene.client.request(
        method, url.format(**scene.ids), json=json, headers=scene.callers[caller]
    )
    assert response.status_code == 200, response.text
