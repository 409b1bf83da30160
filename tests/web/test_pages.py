"""The pages over the app in-process (an https test client): sign-in as a demo persona,
the purpose, the look-up, CSRF refusals, session cookie flags, security headers,
sign-out and suspension."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import Factory


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
