"""The data manager's pages, in-process: find a child of my authority by a POSTed
look-up answered on a page addressed by the enquiry's id; the record; a correction with
the record's version (a change made since is shown, theirs beside yours, and reapplied);
a new record behind the duplicate guard ("this is a different child" with a reason);
shield and unshield; gaps and overdue flags; the NHS number's verification status and range
shown in plain words, and said on the correction form. The policy as the API's: a practitioner is
refused, another authority's child is the same 404 as none; CSRF on every form; one audit
row per page with the session's purpose."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.settings import Settings
from tests.factories import HARINGEY, PURPOSE, Factory, nhs_number, other_child
from tests.web import browser as real
from tests.web.browser import Journey
from tests.web.scenario import a_child_with_a_key_worker
from tests.web.test_pages import csrf
from tests.web.test_work import page_rows, sign_in_as

PURPOSE_TEXT = "Keeping our records right"


def signed_in_data_manager(client: TestClient) -> None:
    sign_in_as(client, "data-manager")
    form = client.get("/purpose")
    stated = client.post(
        "/purpose",
        data={
            "purpose": "safeguarding_concern",
            "purpose_text": PURPOSE_TEXT,
            "csrf_token": csrf(form.text),
        },
    )
    assert stated.status_code == 303


def form_of(html: str) -> dict[str, str]:
    """The edit form's fields as the page filled them in (of radios, the one checked)."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([a-z0-9_]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="radio"' in tag and "checked" not in tag):
            continue
        fields[name.group(1)] = unescape(value.group(1)) if value else ""
    return fields


def assert_one_row(
    factory: Factory, route: str, action: str, method: str = "GET"
) -> dict[str, Any]:
    rows = [
        r for r in page_rows(factory, route) if r["method"] == method and r["status_code"] < 400
    ]
    assert len(rows) == 1, rows
    [row] = rows
    assert (row["action"], row["purpose"], row["purpose_text"]) == (
        action,
        "safeguarding_concern",
        PURPOSE_TEXT,
    )
    return row


def test_a_data_manager_finds_corrects_and_shields_a_child_of_their_authority(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    child_id = scenario.child_id
    signed_in_data_manager(browser_client)

    finder = browser_client.get("/records")
    assert finder.status_code == 200, finder.text
    assert "Find a child of your authority" in finder.text
    assert "Children&#39;s records" in finder.text  # in the menu
    # An empty form is no act on a child: no audit row names a shield that did not happen.
    assert [r for r in page_rows(factory, "/records") if r["status_code"] < 400] == []
    no_token = browser_client.post("/records/find", data={"nhs_number": "9992914173"})
    assert no_token.status_code == 403
    found = browser_client.post(
        "/records/find", data={"nhs_number": "999 291 4173", "csrf_token": csrf(finder.text)}
    )
    assert found.status_code == 303
    assert re.fullmatch(r"/records/found/[0-9a-f-]{36}", found.headers["location"])
    assert "Aisha" not in found.headers["location"]
    answer = browser_client.get(found.headers["location"])
    assert f'href="/records/{child_id}"' in answer.text
    assert "Aisha Testchild" in answer.text
    assert_one_row(factory, "/records/find", "child:enquiry:create", "POST")

    shown = browser_client.get(f"/records/{child_id}")
    assert shown.status_code == 200, shown.text
    assert "Aisha Testchild" in shown.text
    assert "Version 1" in shown.text
    row = assert_one_row(factory, "/records/{child_id}", "child:record:read")
    assert child_id in str(row["child_ids"])

    opened = browser_client.get(f"/records/{child_id}/edit")
    fields = form_of(opened.text)
    assert fields["version"] == "1"
    assert fields["given_names"] == "Aisha"
    # Someone else changes the record through the API meanwhile.
    elsewhere = client.patch(
        f"/v1/children/{child_id}",
        json={"la_reference": "EAL-42"},
        headers={
            **factory.headers_for(scenario.ealing, roles=["data_manager"]),
            **PURPOSE,
            "If-Match": '"1"',
        },
    )
    assert elsewhere.status_code == 200, elsewhere.text
    mine = {**fields, "family_name": "Testchild-Smith"}
    conflict = browser_client.post(f"/records/{child_id}/edit", data=mine)
    assert conflict.status_code == 409, conflict.text
    assert "Someone changed this record since you opened it" in conflict.text
    assert "EAL-42" in conflict.text
    assert "Testchild-Smith" in conflict.text
    again = form_of(conflict.text)
    assert again["version"] == "2"
    saved = browser_client.post(f"/records/{child_id}/edit", data=again)
    assert saved.status_code == 303, saved.text
    record = client.get(
        f"/v1/children/{child_id}",
        headers={**factory.headers_for(scenario.ealing, roles=["data_manager"]), **PURPOSE},
    ).json()
    assert record["version"] == 3
    assert {(n["kind"], n["family_name"]) for n in record["names"]} == {
        ("legal", "Testchild-Smith"),
        ("alias", "Testchild"),  # the other names are kept
    }
    edits = [r for r in page_rows(factory, "/records/{child_id}/edit") if r["method"] == "POST"]
    assert [r["reason"] for r in edits] == ["version_conflict", None]
    assert all(r["purpose_text"] == PURPOSE_TEXT for r in edits)

    shown = browser_client.get(f"/records/{child_id}")
    assert (
        "Everyone else who looks this child up will learn only that a record exists" in shown.text
    )
    no_token = browser_client.post(f"/records/{child_id}/shield", data={"shielded": "yes"})
    assert no_token.status_code == 403
    stale = browser_client.post(
        f"/records/{child_id}/shield",
        data={"shielded": "yes", "version": "1", "csrf_token": csrf(shown.text)},
    )
    assert stale.status_code == 409
    assert "Someone changed this record since you opened it" in stale.text
    shielded = browser_client.post(
        f"/records/{child_id}/shield",
        data={"shielded": "yes", "version": "3", "csrf_token": csrf(shown.text)},
    )
    assert shielded.status_code == 303
    after = browser_client.get(f"/records/{child_id}")
    assert "shielded" in after.text
    assert "Lift the shield" in after.text
    assert "Practitioners who look this child up will again see the record" in after.text
    shields = [
        r for r in page_rows(factory, "/records/{child_id}/shield") if r["status_code"] == 303
    ]
    assert len(shields) == 1
    assert shields[0]["purpose_text"] == PURPOSE_TEXT


def test_a_correction_covers_addresses_carers_gp_and_school_with_unknown_and_none_apart(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    """The whole record through the form, as the API's PATCH takes it: saved unchanged,
    nothing is lost; a move (the current address becomes a previous one, a new current),
    a second carer, no GP (not "unknown"), not in education; a conflict on the addresses
    is shown theirs beside yours; the rules are the API's, said on the form's fields."""
    scenario = a_child_with_a_key_worker(factory, client)
    child_id = scenario.child_id
    api = {**factory.headers_for(scenario.ealing, roles=["data_manager"]), **PURPOSE}
    signed_in_data_manager(browser_client)
    opened = browser_client.get(f"/records/{child_id}/edit")
    fields = form_of(opened.text)
    assert (fields["cur_postcode"], fields["prev0_postcode"], fields["prev0_to"]) == (
        "W5 2AA",
        "N17 6AB",
        "2018-12-31",
    )
    assert (fields["carers_status"], fields["carer0_name"], fields["carer0_phone"]) == (
        "known",
        "Morgan Testchild",
        "07700 900123",
    )
    assert (fields["gp_status"], fields["gp_ods_code"]) == ("registered", "A81001")
    assert (fields["education_status"], fields["school_urn"]) == ("attending", "100001")
    unchanged = browser_client.post(f"/records/{child_id}/edit", data=fields)
    assert unchanged.status_code == 303, unchanged.text
    before = client.get(f"/v1/children/{child_id}", headers=api).json()
    assert before["version"] == 2
    saved_as_is = [
        r for r in page_rows(factory, "/records/{child_id}/edit") if r["method"] == "POST"
    ]
    assert saved_as_is[-1]["detail"]["changes"] == {}  # every part went back as it was
    # A part the form did not show (the record's view lacked it) is not sent, so never emptied.
    unshown = {k: v for k, v in fields.items() if not k.startswith("has_")}
    unshown |= {"cur_line1": "", "cur_postcode": "", "gp_status": "unknown", "version": "2"}
    kept = browser_client.post(f"/records/{child_id}/edit", data=unshown)
    assert kept.status_code == 303, kept.text
    same = client.get(f"/v1/children/{child_id}", headers=api).json()
    assert same["addresses"] == before["addresses"]
    assert same["gp_practice"]["status"] == "registered"

    fields = form_of(browser_client.get(f"/records/{child_id}/edit").text)
    moved = {
        **fields,
        "prev1_line1": fields["cur_line1"],
        "prev1_town": fields["cur_town"],
        "prev1_postcode": fields["cur_postcode"],
        "prev1_local_authority": fields["cur_local_authority"],
        "prev1_from": fields["cur_from"],
        "prev1_to": "2025-06-30",
        "prev_count": "2",
        "cur_line1": "4 New Street",
        "cur_postcode": "W13 9AA",
        "cur_from": "2025-07-01",
        "carer1_name": "Jo Testchild",
        "carer1_relationship": "grandmother",
        "carer1_phone": "020 7946 0777",
        "gp_status": "not_registered",
        "gp_ods_code": "",
        "gp_phone": "",
        "education_status": "not_in_education",
        "school_urn": "",
        "school_phone": "",
    }
    wrong = browser_client.post(
        f"/records/{child_id}/edit",
        data={**moved, "gp_status": "registered", "prev1_to": "", "carers_status": "none"},
    )
    assert wrong.status_code == 422, wrong.text
    assert "Choose &#39;known&#39; to list carers, or remove the carers listed" in wrong.text
    assert "Give the practice code exactly when the child is registered with a GP" in wrong.text
    assert "Enter the date the child left this address" in wrong.text
    assert 'href="#gp_status"' in wrong.text
    assert 'href="#prev1_to"' in wrong.text
    saved = browser_client.post(f"/records/{child_id}/edit", data=moved)
    assert saved.status_code == 303, saved.text
    record = client.get(f"/v1/children/{child_id}", headers=api).json()
    assert record["version"] == 4
    assert [(a["postcode"], a["current"]) for a in record["addresses"]] == [
        ("W13 9AA", True),
        ("W5 2AA", False),
        ("N17 6AB", False),
    ]
    assert record["carers"]["status"] == "known"
    assert [c["name"] for c in record["carers"]["people"]] == ["Morgan Testchild", "Jo Testchild"]
    assert record["carers"]["people"][1]["phone"] == "020 7946 0777"
    assert record["gp_practice"]["status"] == "not_registered"  # none, not unknown
    assert record["education"]["status"] == "not_in_education"
    [row] = [
        r
        for r in page_rows(factory, "/records/{child_id}/edit")
        if r["method"] == "POST" and r["detail"].get("changes")
    ]
    assert row["detail"]["changed_fields"] == ["addresses", "carers", "education", "gp_practice"]
    assert row["purpose_text"] == PURPOSE_TEXT

    opened = browser_client.get(f"/records/{child_id}/edit")
    fields = form_of(opened.text)
    assert fields["gp_status"] == "not_registered"
    elsewhere = client.patch(
        f"/v1/children/{child_id}",
        json={
            "addresses": [
                {"line1": "8 Other Road", "postcode": "W3 6AA", "local_authority": "E09000009"}
            ]
        },
        headers={**api, "If-Match": '"4"'},
    )
    assert elsewhere.status_code == 200, elsewhere.text
    mine = {**fields, "carers_status": "unknown", "carer0_name": "", "carer0_relationship": ""}
    mine |= {"carer0_phone": "", "carer1_name": "", "carer1_relationship": "", "carer1_phone": ""}
    conflict = browser_client.post(f"/records/{child_id}/edit", data=mine)
    assert conflict.status_code == 409, conflict.text
    assert "Someone changed this record since you opened it" in conflict.text
    versions = conflict.text.split('id="versions"')[1].split("</table>")[0]
    assert "8 Other Road" in versions  # theirs
    assert "4 New Street" in versions  # yours
    assert "Not known" in versions  # your carers: not known
    assert client.get(f"/v1/children/{child_id}", headers=api).json()["carers"]["status"] == "known"


def _edits(factory: Factory) -> list[dict[str, Any]]:
    return [r for r in page_rows(factory, "/records/{child_id}/edit") if r["method"] == "POST"]


def test_the_nhs_numbers_status_is_shown_and_said_on_the_correction_form(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    """The record page says how far the number is known to be the child's and whose
    range it is in; the data manager says "verified by a trace" (or "not verified") on
    the form, through the API's `ChildUpdate`, the audit row's diff with it. A correction
    elsewhere keeps the status; a new number is not verified unless the data manager says
    so again; a status not offered is refused on the field."""
    scenario = a_child_with_a_key_worker(factory, client)
    child_id = scenario.child_id
    api = {**factory.headers_for(scenario.ealing, roles=["data_manager"]), **PURPOSE}

    def status() -> str:
        return str(client.get(f"/v1/children/{child_id}", headers=api).json()["nhs_number_status"])

    signed_in_data_manager(browser_client)
    shown = browser_client.get(f"/records/{child_id}").text
    assert "NHS number checked" in shown
    assert "Not verified: as typed or received, only its check digit checked" in shown
    assert "The test range: never issued to a person" in shown  # 999 numbers are synthetic
    opened = browser_client.get(f"/records/{child_id}/edit").text
    assert "Has this NHS number been verified?" in opened
    assert "Verified by a trace against the national record" in opened
    assert 'value="trusted_feed"' not in opened  # nobody types a feed
    fields = form_of(opened)
    assert fields["nhs_number_status"] == "unverified"

    traced = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "nhs_number_status": "verified_trace"}
    )
    assert traced.status_code == 303, traced.text
    assert status() == "verified_trace"
    assert _edits(factory)[-1]["detail"]["changes"]["nhs_number_status"] == {
        "before": "unverified",
        "after": "verified_trace",
    }
    shown = browser_client.get(f"/records/{child_id}").text
    assert 'id="nhs-number-status">Verified by a trace against the national record' in shown

    fields = form_of(browser_client.get(f"/records/{child_id}/edit").text)
    assert fields["nhs_number_status"] == "verified_trace"
    elsewhere = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "la_reference": "EAL-7"}
    )
    assert elsewhere.status_code == 303, elsewhere.text
    assert status() == "verified_trace"  # a correction elsewhere keeps the trace
    assert set(_edits(factory)[-1]["detail"]["changes"]) == {"la_reference"}

    fields = form_of(browser_client.get(f"/records/{child_id}/edit").text)
    renumbered = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "nhs_number": nhs_number(3)}
    )
    assert renumbered.status_code == 303, renumbered.text
    assert status() == "unverified"  # nobody traced the new number

    fields = form_of(browser_client.get(f"/records/{child_id}/edit").text)
    assert fields["nhs_number_status"] == "unverified"
    refused = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "nhs_number_status": "probably"}
    )
    assert refused.status_code == 422
    assert 'href="#nhs_number_status"' in refused.text
    assert "Choose whether the NHS number was verified by a trace" in refused.text
    assert status() == "unverified"


def test_a_number_from_a_trusted_feed_is_offered_as_it_is(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    child_id = scenario.child_id
    api = {**factory.headers_for(scenario.ealing, roles=["data_manager"]), **PURPOSE}
    fed = client.patch(
        f"/v1/children/{child_id}",
        json={"nhs_number_status": "trusted_feed"},
        headers={**api, "If-Match": '"1"'},
    )
    assert fed.status_code == 200, fed.text
    signed_in_data_manager(browser_client)
    assert "From a trusted feed" in browser_client.get(f"/records/{child_id}").text
    opened = browser_client.get(f"/records/{child_id}/edit").text
    fields = form_of(opened)
    assert fields["nhs_number_status"] == "trusted_feed"
    assert "Not verified" in opened
    downgraded = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "nhs_number_status": "unverified"}
    )
    assert downgraded.status_code == 303, downgraded.text
    assert _edits(factory)[-1]["detail"]["changes"]["nhs_number_status"] == {
        "before": "trusted_feed",
        "after": "unverified",
    }


def test_another_authoritys_child_is_not_reachable_and_a_practitioner_is_refused(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    a_child_with_a_key_worker(factory, client)
    haringey = factory.organisation(type="childrens_social_care", local_authority=HARINGEY)
    theirs = client.post(
        "/v1/children",
        json=other_child(responsible_authority=HARINGEY, addresses=[]),
        headers=factory.headers_for(haringey, roles=["data_manager"]),
    )
    assert theirs.status_code == 201, theirs.text
    signed_in_data_manager(browser_client)
    for address in (f"/records/{theirs.json()['id']}", f"/records/{theirs.json()['id']}/edit"):
        assert browser_client.get(address).status_code == 404
    assert page_rows(factory, "/records/{child_id}")[0]["status_code"] == 404

    practitioner = TestClient(
        browser_client.app, base_url="https://testserver", follow_redirects=False
    )
    sign_in_as(practitioner, "ed-doctor")
    form = practitioner.get("/purpose")
    practitioner.post(
        "/purpose",
        data={"purpose": "health_care", "purpose_text": "ED", "csrf_token": csrf(form.text)},
    )
    for address in ("/records", "/records/gaps", "/records/new", f"/records/{theirs.json()['id']}"):
        assert practitioner.get(address).status_code == 403, address
    assert "/records" not in practitioner.get("/search").text.split("<main")[0]


def test_a_new_record_shows_the_possible_duplicates_and_a_different_child_is_confirmed(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    signed_in_data_manager(browser_client)
    form = browser_client.get("/records/new")
    assert form.status_code == 200
    twin = {
        "given_names": "Aisha",
        "family_name": "Testchild",
        "dob_day": "11",
        "dob_month": "2",
        "dob_year": "2016",
        "csrf_token": csrf(form.text),
    }
    held = browser_client.post("/records/new", data=twin)
    assert held.status_code == 409, held.text
    assert "This may be a child the index already holds" in held.text
    assert "Aisha Testchild" in held.text
    assert "The new record" in held.text  # side by side
    assert f'name="confirmed" value="{scenario.child_id}"' in held.text
    no_reason = browser_client.post("/records/new", data={**twin, "confirmed": scenario.child_id})
    assert no_reason.status_code == 422
    assert "Say why this is a different child" in no_reason.text
    made = browser_client.post(
        "/records/new",
        data={**twin, "confirmed": scenario.child_id, "reason": "Her twin sister"},
    )
    assert made.status_code == 303, made.text
    rows = [r for r in page_rows(factory, "/records/new") if r["method"] == "POST"]
    assert [r["reason"] for r in rows] == ["possible_duplicate", "invalid_input", None]
    assert rows[-1]["detail"]["distinct_reason"] == "Her twin sister"
    assert rows[-1]["detail"]["confirmed_distinct_from"] == [scenario.child_id]
    assert browser_client.get(made.headers["location"]).status_code == 200


def test_gaps_tell_unknown_from_none_and_overdue_flags_are_listed(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    data_manager = factory.headers_for(scenario.ealing, roles=["data_manager"])
    gappy = client.post(
        "/v1/children",
        json=other_child(
            gp_practice={"status": "not_registered"},
            education={"status": "unknown"},
            carers={"status": "unknown"},
        ),
        headers=data_manager,
    )
    assert gappy.status_code == 201, gappy.text
    signed_in_data_manager(browser_client)
    page = browser_client.get("/records/gaps")
    assert page.status_code == 200, page.text
    assert gappy.json()["id"] in page.text
    assert scenario.child_id not in page.text  # nothing missing
    assert "Not known" in page.text
    assert "None" in page.text
    assert_one_row(factory, "/records/gaps", "child:record:read")
    overdue = browser_client.get("/records/overdue")
    assert overdue.status_code == 200, overdue.text
    assert_one_row(factory, "/records/overdue", "child:flag:read_overdue")


# --- In a real browser -------------------------------------------------------------------

MY_PAGES_PURPOSE = "Correcting a record the school reported"


def _signed_in(browser: Any, base: str) -> Journey:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    real.loopback_only(context)
    journey = Journey(page=context.new_page(), base=base)
    journey.watch()
    page = journey.page
    page.goto("/sign-in/as")
    page.get_by_role("button", name="Sign in as Dana Manager").click()
    page.wait_for_url(f"{base}/purpose")
    page.get_by_label("I am worried about a child's safety or welfare").check()
    page.get_by_label("In a few words, why?").fill(MY_PAGES_PURPOSE)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/search")
    return journey


def test_in_a_browser_a_data_manager_finds_corrects_through_a_conflict_and_shields_a_child(
    settings: Settings, browser: Any, factory: Factory, client: TestClient
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    child_id = scenario.child_id
    served = real.serve(settings, real.free_port())
    try:
        base = served.base
        mine = _signed_in(browser, base)
        page = mine.page
        page.get_by_role("link", name="Children's records").click()
        page.wait_for_url(f"{base}/records")
        mine.accessible()
        page.locator("#nhs_number").fill("999 291 4173")
        page.get_by_label("Address line 1").fill("1 Synthetic Row")
        page.get_by_label("Town or city").fill("London")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(f"{base}/records/found/*")
        mine.accessible()
        page.get_by_role("link", name="Aisha Testchild").click()
        page.wait_for_url(f"{base}/records/{child_id}")
        assert "Not verified" in page.locator("#nhs-number-status").inner_text()
        mine.accessible()
        page.get_by_role("link", name="Correct this record").click()
        page.wait_for_url(f"{base}/records/{child_id}/edit")
        mine.accessible()

        theirs = _signed_in(browser, base)  # a colleague, in a second browser
        theirs.page.goto(f"/records/{child_id}/edit")
        theirs.page.get_by_label("Your reference (optional)").fill("EAL-2024-17")
        theirs.page.locator("#cur_line1").fill("2 Synthetic Row")
        theirs.page.get_by_role("button", name="Save the correction").click()
        theirs.page.wait_for_url(f"{base}/records/{child_id}")
        theirs.page.context.close()

        page.get_by_label("Family name").fill("Testchild-Smith")
        page.get_by_label("Verified by a trace against the national record").check()
        page.get_by_label("Not registered with any GP").check()
        page.get_by_label("Practice code (ODS)").fill("")
        page.get_by_role("button", name="Save the correction").click()
        page.wait_for_selector("text=Someone changed this record since you opened it")
        versions = page.locator("#versions").inner_text()
        assert "EAL-2024-17" in versions
        assert "Testchild-Smith" in versions
        assert "2 Synthetic Row" in versions  # their address, beside mine
        assert "Not registered with any GP" in versions  # my GP: none, not unknown
        assert "Verified by a trace" in versions  # my statement on the number
        mine.accessible()
        page.get_by_role("button", name="Save my correction again").click()
        page.wait_for_url(f"{base}/records/{child_id}")
        assert "Testchild-Smith" in page.locator("h1").inner_text()
        status = page.locator("#nhs-number-status").inner_text()
        assert status.startswith("Verified by a trace against the national record")
        mine.accessible()
        assert "will learn only that a record exists" in page.locator("main").inner_text()

        page.goto("/records/new")
        mine.accessible()
        page.get_by_label("Given names").fill("Aisha")
        page.get_by_label("Family name").fill("Testchild-Smith")
        page.get_by_label("Day").fill("11")
        page.get_by_label("Month").fill("2")
        page.get_by_label("Year").fill("2016")
        page.get_by_role("button", name="Register the child").click()
        page.wait_for_selector("text=This is a different child: why?")
        assert "Testchild-Smith" in page.locator("main").inner_text()  # side by side
        mine.accessible()

        page.goto(f"/records/{child_id}")
        page.get_by_role("button", name="Shield this child").click()
        page.wait_for_selector("text=Lift the shield")
        mine.accessible()
        for address in ("/records/gaps", "/records/overdue"):
            page.goto(address)
            mine.accessible()
        assert not any(
            "9992914173" in url or "testchild" in url.lower() or "synthetic" in url.lower()
            for url in mine.urls
        )
    finally:
        real.stop(served.process)

    steps = [
        (r["method"], r["route"], r["status_code"], r["reason"], r["purpose_text"])
        for r in factory.audit_rows()
        if r["route"].startswith("/records") and r["subject"] == "demo-data-manager"
    ]
    assert ("POST", "/records/find", 303, None, MY_PAGES_PURPOSE) in steps
    [find] = [r for r in factory.audit_rows() if r["route"] == "/records/find"]
    assert (find["detail"]["criteria"]["address_line1"], find["detail"]["criteria"]["town"]) == (
        "1 Synthetic Row",
        "London",
    )
    saved = [
        r
        for r in factory.audit_rows()
        if r["route"] == "/records/{child_id}/edit" and r["status_code"] == 303
    ]
    assert saved[-1]["detail"]["changes"]["nhs_number_status"] == {
        "before": "unverified",
        "after": "verified_trace",
    }
    assert ("GET", "/records/{child_id}", 200, None, MY_PAGES_PURPOSE) in steps
    edits = [s for s in steps if s[:2] == ("POST", "/records/{child_id}/edit")]
    assert edits == [
        ("POST", "/records/{child_id}/edit", 303, None, MY_PAGES_PURPOSE),  # theirs
        ("POST", "/records/{child_id}/edit", 409, "version_conflict", MY_PAGES_PURPOSE),
        ("POST", "/records/{child_id}/edit", 303, None, MY_PAGES_PURPOSE),  # mine, reapplied
    ]
    assert ("POST", "/records/{child_id}/shield", 303, None, MY_PAGES_PURPOSE) in steps


@pytest.mark.parametrize("odd", ["²", "x", "9" * 5000])
def test_an_odd_number_in_the_correction_form_is_a_form_error_not_a_500(
    browser_client: TestClient, client: TestClient, factory: Factory, odd: str
) -> None:
    """The form's numbers (its version, how many previous addresses and carers it has
    rows for) read by `forms.whole_number`: "²" passes `str.isdigit` and then `int`
    refuses it; a version that is not a number asks to open the record again (422),
    row counts that are not numbers are no rows, and nothing is saved."""
    child_id = a_child_with_a_key_worker(factory, client).child_id
    signed_in_data_manager(browser_client)
    fields = form_of(browser_client.get(f"/records/{child_id}/edit").text)
    bad_version = browser_client.post(
        f"/records/{child_id}/edit", data={**fields, "version": odd, "family_name": "Changed"}
    )
    assert bad_version.status_code == 422, bad_version.text
    assert "Open the record again to correct it" in bad_version.text
    counted = browser_client.post(
        f"/records/{child_id}/edit",
        data={**fields, "prev_count": odd, "carer_count": odd, "la_reference": "EAL-9"},
    )
    assert counted.status_code in (303, 422), counted.text
    shown = browser_client.get(f"/records/{child_id}")
    assert "Changed" not in shown.text
