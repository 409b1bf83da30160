"""The key worker's and the designated manager's pages, in-process: my alerts (the R1
alert with the child's name and who enquired), acknowledging with a note, my children; the
team inbox with its filters and the grouped enquiry-only contacts, closing one; the access
policy as the API's (a practitioner has no team inbox, a key worker reads only their
alerts, a sensitive enquirer is masked); CSRF on every form; one audit row per page with
the session's purpose."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from index_service.access.sensitive import WITHHELD_ORGANISATION
from tests.factories import Factory
from tests.web.scenario import ED_DOCTOR_NAME, the_key_workers_child
from tests.web.test_pages import csrf, state_purpose

CHILD_NAME = "Aisha Testchild"


def sign_in_as(client: TestClient, persona: str) -> None:
    page = client.get("/sign-in/as")
    response = client.post("/sign-in/as", data={"persona": persona, "csrf_token": csrf(page.text)})
    assert response.status_code == 303, response.text


def alert_ids(html: str) -> list[str]:
    return re.findall(r'href="/alerts/([0-9a-f-]{36})"', html)


def page_rows(factory: Factory, route: str) -> list[dict[str, Any]]:
    return [r for r in factory.audit_rows() if r["route"] == route]


def test_the_key_worker_sees_the_r1_alert_named_and_acknowledges_it_with_a_note(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    the_key_workers_child(factory, client)
    sign_in_as(browser_client, "key-worker")
    asked = browser_client.get("/alerts")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/purpose?next=/alerts"  # never a default purpose
    form = browser_client.get(asked.headers["location"])
    assert 'name="next" value="/alerts"' in form.text
    stated = browser_client.post(
        "/purpose",
        data={
            "purpose": "safeguarding_concern",
            "purpose_text": "Alerts for my children",
            "next": "/alerts",
            "csrf_token": csrf(form.text),
        },
    )
    assert stated.headers["location"] == "/alerts"
    listed = browser_client.get("/alerts")
    assert listed.status_code == 200, listed.text
    assert "Someone from another agency enquired about a child you" in listed.text
    assert CHILD_NAME in listed.text
    [alert_id] = alert_ids(listed.text)
    [row] = page_rows(factory, "/alerts")
    assert (row["action"], row["purpose"], row["purpose_text"]) == (
        "alert:inbox:read",
        "safeguarding_concern",
        "Alerts for my children",
    )

    shown = browser_client.get(f"/alerts/{alert_id}")
    assert shown.status_code == 200, shown.text
    assert CHILD_NAME in shown.text
    assert ED_DOCTOR_NAME in shown.text
    assert "Ealing Hospital emergency department" in shown.text
    assert "020 7946 0500" in shown.text  # how to reach them
    assert len(page_rows(factory, "/alerts/{alert_id}")) == 1

    no_token = browser_client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "x"})
    assert no_token.status_code == 403
    too_long = browser_client.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"note": "x" * 201, "csrf_token": csrf(shown.text)},
    )
    assert too_long.status_code == 422
    assert "govuk-error-summary" in too_long.text
    done = browser_client.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"note": "Called the ED back", "csrf_token": csrf(shown.text)},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/alerts/{alert_id}?acknowledged=1"
    after = browser_client.get(done.headers["location"]).text
    assert "Alert acknowledged" in after
    assert "Called the ED back" in after
    acks = page_rows(factory, "/alerts/{alert_id}/acknowledge")
    assert [(r["outcome"], r["reason"]) for r in acks] == [
        ("refused", "csrf_token_missing"),
        ("refused", "invalid_input"),
        ("success", None),
    ]
    assert acks[-1]["detail"]["note"] == "Called the ED back"
    assert acks[-1]["purpose"] == "safeguarding_concern"


def test_a_key_worker_reads_only_their_own_alerts_and_has_no_team_inbox(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    the_key_workers_child(factory, client)
    sign_in_as(browser_client, "designated-manager")
    state_purpose(browser_client, "safeguarding_concern")
    inbox = browser_client.get("/inbox")
    [r3] = alert_ids(inbox.text)
    browser_client.cookies.clear()
    sign_in_as(browser_client, "key-worker")
    state_purpose(browser_client, "safeguarding_concern")
    assert browser_client.get(f"/alerts/{r3}").status_code == 404
    refused = browser_client.get("/inbox")
    assert refused.status_code == 403
    assert "Team inbox" not in browser_client.get("/alerts").text
    rows = page_rows(factory, "/inbox")
    assert [(r["subject"], r["outcome"]) for r in rows] == [
        ("demo-designated-manager", "success"),
        ("demo-key-worker", "refused"),
    ]


def test_a_practitioner_has_no_team_inbox_nor_enquiry_contacts(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    the_key_workers_child(factory, client)
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    assert browser_client.get("/inbox").status_code == 403
    assert browser_client.get("/enquiry-contacts").status_code == 403
    menu = browser_client.get("/alerts").text
    assert "Team inbox" not in menu
    assert "Enquiry-only contacts" not in menu


def test_a_sensitive_services_enquirer_is_masked_on_the_alert_page(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    the_key_workers_child(factory, client, enquirer_type="sexual_health")
    sign_in_as(browser_client, "key-worker")
    state_purpose(browser_client, "safeguarding_concern")
    [alert_id] = alert_ids(browser_client.get("/alerts").text)
    shown = browser_client.get(f"/alerts/{alert_id}").text
    assert ED_DOCTOR_NAME in shown  # reachable by name and their own email
    assert "test.doctor@trust.example" in shown
    assert WITHHELD_ORGANISATION in shown
    assert "Ealing Hospital emergency department" not in shown
    assert "020 7946 0500" not in shown


def test_my_children_lists_the_involvements_i_hold_with_flags_due(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = the_key_workers_child(factory, client)
    key_worker = factory.headers_for(
        scenario.haringey, roles=["social_worker"], sub="demo-key-worker"
    )
    flagged = client.post(
        f"/v1/children/{scenario.child_id}/flags",
        json={
            "kind": "child_protection_plan",
            "category": "neglect",
            "key_worker": "Sam Okafor",
            "review_date": _in_days(10),
        },
        headers=key_worker,
    )
    assert flagged.status_code == 201, flagged.text
    sign_in_as(browser_client, "key-worker")
    state_purpose(browser_client, "safeguarding_concern")
    shown = browser_client.get("/my-children")
    assert shown.status_code == 200, shown.text
    assert CHILD_NAME in shown.text
    assert "Key worker" in shown.text
    assert "Child protection plan" in shown.text
    [row] = page_rows(factory, "/my-children")
    assert row["purpose"] == "safeguarding_concern"
    assert str(scenario.child_id) in str(row["child_ids"])


def test_the_designated_manager_sees_the_r3_alert_filters_and_closes_a_grouped_contact(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    the_key_workers_child(factory, client)
    sign_in_as(browser_client, "designated-manager")
    state_purpose(browser_client, "safeguarding_concern")
    inbox = browser_client.get("/inbox")
    assert inbox.status_code == 200, inbox.text
    assert "A second agency enquired about a child the index does not hold" in inbox.text
    assert len(alert_ids(inbox.text)) == 1
    assert alert_ids(browser_client.get("/inbox?rule=R1").text) == []
    assert len(alert_ids(browser_client.get("/inbox?rule=R3&acknowledged=no").text)) == 1
    assert alert_ids(browser_client.get("/inbox?acknowledged=yes").text) == []

    contacts = browser_client.get("/enquiry-contacts")
    assert contacts.status_code == 200, contacts.text
    groups = re.findall(r'<section class="[^"]*app-contact-group', contacts.text)
    assert len(groups) == 2  # Zara asked about twice, Bilal once
    zara = contacts.text.index("Unknownperson")
    assert contacts.text.count("Close this contact") == 3
    assert contacts.text.index("2 enquirers") > zara
    [row] = page_rows(factory, "/enquiry-contacts")
    assert (row["action"], row["purpose"]) == (
        "child:enquiry_contact:read",
        "safeguarding_concern",
    )
    contact_id = re.findall(r'action="/enquiry-contacts/([0-9a-f-]{36})/close"', contacts.text)[0]
    assert (
        browser_client.post(
            f"/enquiry-contacts/{contact_id}/close", data={"reason": "Referred"}
        ).status_code
        == 403
    )
    empty = browser_client.post(
        f"/enquiry-contacts/{contact_id}/close",
        data={"reason": "", "csrf_token": csrf(contacts.text)},
    )
    assert empty.status_code == 422
    assert f'href="#reason-{contact_id}"' in empty.text
    closed = browser_client.post(
        f"/enquiry-contacts/{contact_id}/close",
        data={"reason": "Referred; record created", "csrf_token": csrf(contacts.text)},
    )
    assert closed.status_code == 303, closed.text
    after = browser_client.get(closed.headers["location"]).text
    assert "Contact closed" in after
    assert after.count("Close this contact") == 2
    closes = page_rows(factory, "/enquiry-contacts/{contact_id}/close")
    assert [(r["outcome"], r["reason"]) for r in closes] == [
        ("refused", "csrf_token_missing"),
        ("refused", "invalid_input"),
        ("success", None),
    ]


def _in_days(n: int) -> str:
    from datetime import date, timedelta

    return (date.today() + timedelta(days=n)).isoformat()
