"""The pages over the app in-process (an https test client): sign-in as a demo persona,
the purpose, the look-up, CSRF refusals, session cookie flags, security headers,
sign-out and suspension."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from index_service.settings import DEV_ISSUER
from tests.factories import VALID_NHS_NUMBER, Factory
from tests.web.scenario import KEY_WORKER, a_child_with_a_key_worker


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def sign_in_as(client: TestClient, persona: str) -> None:
    page = client.get("/sign-in/as")
    assert page.status_code == 200, page.text
    response = client.post("/sign-in/as", data={"persona": persona, "csrf_token": csrf(page.text)})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/purpose"


def test_sign_in_as_a_persona_states_a_purpose_and_searches(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    purpose_page = browser_client.get("/purpose")
    assert purpose_page.status_code == 200
    assert "Dr Priya Shah" in purpose_page.text
    stated = browser_client.post(
        "/purpose",
        data={
            "purpose": "health_care",
            "purpose_text": "ED attendance",
            "csrf_token": csrf(purpose_page.text),
        },
    )
    assert stated.status_code == 303
    search_page = browser_client.get("/search")
    assert search_page.status_code == 200, search_page.text
    answered = browser_client.post(
        "/search",
        data={
            "family_name": "Nobodyknown",
            "given_names": "Zed",
            "age_years": "7",
            "postcode": "W5 2AA",
            "csrf_token": csrf(search_page.text),
        },
    )
    assert answered.status_code == 303, answered.text
    result = browser_client.get(answered.headers["location"])
    assert result.status_code == 200, result.text
    assert "No record found" in result.text


def state_purpose(client: TestClient, code: str = "health_care") -> None:
    page = client.get("/purpose")
    response = client.post(
        "/purpose",
        data={"purpose": code, "purpose_text": "ED attendance", "csrf_token": csrf(page.text)},
    )
    assert response.status_code == 303


def test_the_session_cookie_is_host_only_secure_http_only_and_lax(
    browser_client: TestClient, personas_organisations: dict[str, str]
) -> None:
    page = browser_client.get("/sign-in/as")
    response = browser_client.post(
        "/sign-in/as", data={"persona": "ed-doctor", "csrf_token": csrf(page.text)}
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-session=")
    )
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)


def test_every_page_carries_the_security_headers(browser_client: TestClient) -> None:
    response = browser_client.get("/sign-in")
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'nonce="{nonce.group(1)}"' in response.text  # GOV.UK Frontend's inline script
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers  # production only
    again = browser_client.get("/sign-in").headers["content-security-policy"]
    assert again != policy  # a fresh nonce per response


def test_a_form_without_its_csrf_token_is_refused_and_audited(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    refused = browser_client.post("/search", data={"nhs_number": "9992914173"})
    assert refused.status_code == 403
    assert "This form could not be accepted" in refused.text
    forged = browser_client.post(
        "/search", data={"nhs_number": "9992914173", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    rows = [r for r in factory.audit_rows() if r["action"] == "child:enquiry:create"]
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("refused", "csrf_token_missing"),
        ("refused", "csrf_token_missing"),
    ]
    assert factory.count("enquiry") == 0
    page = browser_client.get("/purpose")
    no_token = browser_client.post("/purpose", data={"purpose": "audit", "purpose_text": "x"})
    assert no_token.status_code == 403
    assert "audit" not in browser_client.get("/search").text.lower().split("your reason")[1][:80]
    assert csrf(page.text)


def test_a_pre_sign_in_form_needs_its_double_submit_token(
    browser_client: TestClient, personas_organisations: dict[str, str]
) -> None:
    browser_client.get("/sign-in/as")
    refused = browser_client.post("/sign-in/as", data={"persona": "ed-doctor"})
    assert refused.status_code == 403
    assert "__Host-session" not in browser_client.cookies


def test_no_purpose_no_search(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    """The purpose is never defaulted: the search page sends the user to state one, and a
    search posted without one is not made."""
    sign_in_as(browser_client, "ed-doctor")
    assert browser_client.get("/search").headers["location"] == "/purpose"
    page = browser_client.get("/purpose")
    posted = browser_client.post(
        "/search", data={"nhs_number": "9992914173", "csrf_token": csrf(page.text)}
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/purpose"
    assert factory.count("enquiry") == 0
    unexplained = browser_client.post(
        "/purpose", data={"purpose": "health_care", "csrf_token": csrf(page.text)}
    )
    assert unexplained.status_code == 400
    assert "Say in a few words why" in unexplained.text
    assert "govuk-error-summary" in unexplained.text


def test_a_search_without_enough_says_what_is_enough(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    page = browser_client.get("/search")
    answered = browser_client.post(
        "/search", data={"family_name": "Smith", "csrf_token": csrf(page.text)}
    )
    assert answered.status_code == 400
    assert "Give more to search on" in answered.text
    assert 'href="#given_names"' in answered.text
    assert factory.count("enquiry") == 0
    bad = browser_client.post(
        "/search",
        data={
            "nhs_number": "123",
            "dob_day": "31",
            "dob_month": "2",
            "dob_year": "2015",
            "csrf_token": csrf(page.text),
        },
    )
    assert bad.status_code == 422
    assert "Enter a valid NHS number" in bad.text
    assert "Date of birth must be a real date" in bad.text


def test_signing_out_ends_the_session_at_once(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    token = browser_client.cookies["__Host-session"]
    page = browser_client.get("/purpose")
    out = browser_client.post("/sign-out", data={"csrf_token": csrf(page.text)})
    assert out.status_code == 303
    assert factory.count("web_session") == 0
    browser_client.cookies.set("__Host-session", token)  # a copy of the cookie is no use
    assert browser_client.get("/purpose").headers["location"] == "/sign-in"


def test_a_suspended_user_is_signed_out_at_the_next_request(
    browser_client: TestClient,
    client: TestClient,
    personas_organisations: dict[str, str],
    factory: Factory,
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    operator = factory.organisation(type="index_operator")
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    suspended = client.post(
        "/v1/suspensions",
        json={
            "kind": "user",
            "issuer": DEV_ISSUER,
            "subject": "demo-ed-doctor",
            "reason": "left post",
        },
        headers=admin,
    )
    assert suspended.status_code == 201, suspended.text
    response = browser_client.get("/search")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed_out=user_suspended"
    assert factory.count("web_session") == 0
    told = browser_client.get(response.headers["location"])
    assert "your account is suspended" in told.text


def test_a_user_of_an_organisation_that_does_not_take_part_gets_no_session(
    browser_client: TestClient, factory: Factory
) -> None:
    page = browser_client.get("/sign-in/as")
    refused = browser_client.post(
        "/sign-in/as", data={"persona": "ed-doctor", "csrf_token": csrf(page.text)}
    )
    assert refused.status_code == 403
    assert "does not take part" in refused.text
    assert factory.count("web_session") == 0
    [row] = factory.audit_rows()
    assert (row["action"], row["outcome"], row["reason"]) == (
        "web:sign_in",
        "refused",
        "organisation_not_participating",
    )


def test_sign_in_as_is_not_there_unless_switched_on(client: TestClient) -> None:
    assert client.get("https://testserver/sign-in/as").status_code == 404
    assert "Sign in as a demo person" not in client.get("https://testserver/sign-in").text


def test_a_page_showing_a_shielded_child_shows_only_the_notice(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    data_manager = factory.headers_for(scenario.ealing, roles=["data_manager"], sub="dm-1")
    read = client.get(f"/v1/children/{scenario.child_id}", headers=data_manager)
    shielded = client.put(
        f"/v1/children/{scenario.child_id}/shield",
        headers={**data_manager, "If-Match": read.headers["ETag"]},
    )
    assert shielded.status_code == 200, shielded.text
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    page = browser_client.get("/search")
    answered = browser_client.post(
        "/search", data={"nhs_number": VALID_NHS_NUMBER, "csrf_token": csrf(page.text)}
    )
    assert answered.status_code == 303, answered.text
    shown = browser_client.get(answered.headers["location"]).text
    if "Possible matches" in shown:
        opened = browser_client.post(
            f"{answered.headers['location']}/open",
            data={"child_id": scenario.child_id, "csrf_token": csrf(shown)},
        )
        assert opened.status_code == 303, opened.text
        shown = browser_client.get(opened.headers["location"]).text
    assert "This record is shielded" in shown
    assert "Ealing Children&#39;s Services" in shown or "Ealing Children's Services" in shown
    for withheld in ("Aisha", "Testchild", "W5 2AA", "1 Synthetic Row", KEY_WORKER, "A81001"):
        assert withheld not in shown


def test_an_administrator_registers_an_agencys_sign_in_and_it_is_offered(
    client: TestClient, browser_client: TestClient, factory: Factory
) -> None:
    operator = factory.organisation(type="index_operator")
    admin = factory.headers_for(operator, roles=["administrator"], sub="admin-1")
    school = factory.organisation(type="school")
    oidc = {
        "display_name": "Brent Schools",
        "discovery_url": "https://login.schools.example/.well-known/openid-configuration",
        "client_id": "index",
        "client_secret_env": "SCHOOLS_OIDC_SECRET",
        "claims": {"organisation": None, "static_organisation": school.code},
    }
    body = {
        "issuer": "https://login.schools.example",
        "jwks_url": "https://login.schools.example/jwks",
        "organisations": [school.code],
        "oidc": oidc,
    }
    registered = client.post("/v1/trusted-issuers", json=body, headers=admin)
    assert registered.status_code == 201, registered.text
    assert registered.json()["oidc"]["client_secret_env"] == "SCHOOLS_OIDC_SECRET"
    assert "Sign in with Brent Schools" in browser_client.get("/sign-in").text
    in_clear = {**body, "issuer": "https://other.example", "oidc": {**oidc, "client_secret": "x"}}
    assert client.post("/v1/trusted-issuers", json=in_clear, headers=admin).status_code == 422
