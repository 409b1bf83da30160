"""Merging and unmerging as the data manager's pages: from a record, "merge with another
record" finds the other entry by a POSTed look-up (no child data in a URL), shows both
side by side with which is kept, merges on a POSTed confirmation at the versions shown
(CSRF, the API's If-Match), and the merge's page undoes it with a reason; each step
audited as the API's routes are. Refusals: a practitioner is refused every page (403),
another authority's entry is a 404, a stale version or two different identifiers are
said in plain words and nothing is merged."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from index_service.settings import Settings
from tests.factories import HARINGEY, PURPOSE, Factory, child_payload, create_confirming
from tests.web import browser as real
from tests.web.scenario import Scenario, a_child_with_a_key_worker
from tests.web.test_pages import csrf
from tests.web.test_records import _signed_in as signed_in
from tests.web.test_records import assert_one_row, signed_in_data_manager
from tests.web.test_work import page_rows, sign_in_as

AYESHA = [{"kind": "legal", "given_names": "Ayesha", "family_name": "Testchild"}]
LOOK_UP = {"given_names": "Ayesha", "family_name": "Testchild"}
BORN = {"dob_day": "11", "dob_month": "2", "dob_year": "2016"}


def two_entries(factory: Factory, client: TestClient) -> tuple[Scenario, str]:
    """The scenario's child (Aisha, with the NHS number and UPN) and a second entry of
    her under another spelling, without identifiers (as a school's feed might make)."""
    scenario = a_child_with_a_key_worker(factory, client)
    dm = factory.headers_for(scenario.ealing, roles=["data_manager"], sub="dm-2")
    second = create_confirming(
        client, dm, child_payload(names=AYESHA, nhs_number=None, upn=None, addresses=[])
    )
    return scenario, second


def api_record(client: TestClient, factory: Factory, scenario: Scenario, child_id: str) -> Any:
    headers = {**factory.headers_for(scenario.ealing, roles=["data_manager"]), **PURPOSE}
    return client.get(f"/v1/children/{child_id}", headers=headers, follow_redirects=False)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def test_a_data_manager_finds_the_other_record_merges_and_undoes_with_a_reason(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, second = two_entries(factory, client)
    first = scenario.child_id
    signed_in_data_manager(browser_client)

    record = browser_client.get(f"/records/{first}")
    assert f'href="/records/{first}/merge"' in record.text
    finder = browser_client.get(f"/records/{first}/merge")
    assert finder.status_code == 200, finder.text
    assert "Find the record to merge with" in finder.text
    assert [
        r for r in page_rows(factory, "/records/{child_id}/merge") if r["status_code"] < 400
    ] == []
    sent = browser_client.post(
        f"/records/{first}/merge/find",
        data={**LOOK_UP, **BORN, "csrf_token": csrf(finder.text)},
    )
    assert sent.status_code == 303, sent.text
    assert re.fullmatch(rf"/records/{first}/merge/found/[0-9a-f-]{{36}}", sent.headers["location"])
    assert_one_row(factory, "/records/{child_id}/merge/find", "child:enquiry:create", "POST")
    answer = browser_client.get(sent.headers["location"])
    assert answer.status_code == 200, answer.text
    assert f'href="/records/{first}/merge/{second}"' in answer.text
    assert f'href="/records/{first}/merge/{first}"' not in answer.text  # never itself

    compared = browser_client.get(f"/records/{first}/merge/{second}")
    assert compared.status_code == 200, compared.text
    kept, merged = compared.text.split('id="merged"')
    assert "Aisha Testchild" in kept
    assert "Kept" in kept
    assert "Ayesha Testchild" in merged
    row = assert_one_row(factory, "/records/{child_id}/merge/{other_id}", "child:record:read")
    assert {first, second} <= set(map(str, row["child_ids"]))

    done = browser_client.post(
        f"/records/{first}/merge/{second}",
        data={
            "survivor_version": hidden(compared.text, "survivor_version"),
            "merged_version": hidden(compared.text, "merged_version"),
            "csrf_token": csrf(compared.text),
        },
    )
    assert done.status_code == 303, done.text
    result_at = done.headers["location"]
    assert re.fullmatch(rf"/records/{first}/merges/[0-9a-f-]{{36}}", result_at)
    merge_id = result_at.rsplit("/", 1)[1]
    result = browser_client.get(result_at)
    assert result.status_code == 200, result.text
    assert "Merged on" in result.text
    assert "Ayesha" in result.text  # the kept record took her name
    assert api_record(client, factory, scenario, second).status_code == 307
    merged_row = assert_one_row(
        factory, "/records/{child_id}/merge/{other_id}", "child:record:merge", "POST"
    )
    assert merged_row["detail"]["merge_id"] == merge_id
    assert second in merged_row["detail"]["changes"]
    assert merged_row["detail"]["alerts_raised"]  # the key worker is told (R4)
    listed = browser_client.get(f"/records/{first}")
    assert f'href="/records/{first}/merges/{merge_id}"' in listed.text

    undo_at = f"/records/{first}/merges/{merge_id}/undo"
    version = hidden(result.text, "version")
    no_reason = browser_client.post(
        undo_at, data={"version": version, "csrf_token": csrf(result.text)}
    )
    assert no_reason.status_code == 422
    assert "Say why the merge is being undone" in no_reason.text
    assert "govuk-error-summary" in no_reason.text
    assert api_record(client, factory, scenario, second).status_code == 307
    undone = browser_client.post(
        undo_at,
        data={"version": version, "reason": "They are twins", "csrf_token": csrf(result.text)},
    )
    assert undone.status_code == 303, undone.text
    after = browser_client.get(undone.headers["location"])
    assert "The merge was undone" in after.text
    back = api_record(client, factory, scenario, second)
    assert back.status_code == 200
    assert back.json()["status"] == "active"
    rows = list(page_rows(factory, "/records/{child_id}/merges/{merge_id}/undo"))
    assert [r["reason"] for r in rows] == ["invalid_input", None]
    assert rows[-1]["action"] == "child:record:merge"
    assert rows[-1]["detail"]["unmerge_reason"] == "They are twins"
    assert {first, second} <= set(map(str, rows[-1]["child_ids"]))


def test_a_stale_version_or_different_identifiers_merge_nothing_and_say_why(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, second = two_entries(factory, client)
    first = scenario.child_id
    signed_in_data_manager(browser_client)
    compared = browser_client.get(f"/records/{first}/merge/{second}")
    token = csrf(compared.text)
    versions = {
        "survivor_version": hidden(compared.text, "survivor_version"),
        "merged_version": hidden(compared.text, "merged_version"),
    }
    # A colleague corrects the second record through the API meanwhile.
    changed = client.patch(
        f"/v1/children/{second}",
        json={"la_reference": "EAL-9"},
        headers={
            **factory.headers_for(scenario.ealing, roles=["data_manager"]),
            **PURPOSE,
            "If-Match": f'"{versions["merged_version"]}"',
        },
    )
    assert changed.status_code == 200, changed.text
    stale = browser_client.post(
        f"/records/{first}/merge/{second}", data={**versions, "csrf_token": token}
    )
    assert stale.status_code == 409
    assert "Someone changed one of these records since you opened this page" in stale.text
    assert "Nothing was merged" in stale.text
    assert api_record(client, factory, scenario, second).json()["status"] == "active"
    assert hidden(stale.text, "merged_version") == str(int(versions["merged_version"]) + 1)

    no_token = browser_client.post(f"/records/{first}/merge/{second}", data=versions)
    assert no_token.status_code == 403
    assert api_record(client, factory, scenario, second).json()["status"] == "active"

    # Different NHS numbers: two children as recorded.
    dm = factory.headers_for(scenario.ealing, roles=["data_manager"], sub="dm-3")
    numbered = create_confirming(
        client,
        dm,
        child_payload(names=AYESHA, nhs_number="9434765919", upn=None, addresses=[]),
    )
    page = browser_client.get(f"/records/{first}/merge/{numbered}")
    refused = browser_client.post(
        f"/records/{first}/merge/{numbered}",
        data={
            "survivor_version": hidden(page.text, "survivor_version"),
            "merged_version": hidden(page.text, "merged_version"),
            "csrf_token": token,
        },
    )
    assert refused.status_code == 409
    assert "different NHS numbers" in refused.text
    assert api_record(client, factory, scenario, numbered).json()["status"] == "active"
    reasons = [
        r["reason"]
        for r in page_rows(factory, "/records/{child_id}/merge/{other_id}")
        if r["method"] == "POST"
    ]
    assert reasons == ["version_conflict", "csrf_token_missing", "identifiers_conflict"]

    itself = browser_client.get(f"/records/{first}/merge/{first}")
    assert itself.status_code == 422
    assert "a record cannot be merged with itself" in itself.text


def test_a_practitioner_is_refused_and_another_authoritys_record_is_not_found(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, second = two_entries(factory, client)
    first = scenario.child_id
    haringey = factory.organisation(type="childrens_social_care", local_authority=HARINGEY)
    theirs = create_confirming(
        client,
        factory.headers_for(haringey, roles=["data_manager"]),
        child_payload(
            names=AYESHA, nhs_number=None, upn=None, addresses=[], responsible_authority=HARINGEY
        ),
    )
    signed_in_data_manager(browser_client)
    assert browser_client.get(f"/records/{first}/merge/{theirs}").status_code == 404
    token = csrf(browser_client.get(f"/records/{first}/merge").text)
    across = browser_client.post(
        f"/records/{first}/merge/{theirs}",
        data={"survivor_version": "1", "merged_version": "1", "csrf_token": token},
    )
    assert across.status_code == 404
    assert api_record(client, factory, scenario, first).json()["status"] == "active"

    practitioner = TestClient(
        browser_client.app, base_url="https://testserver", follow_redirects=False
    )
    sign_in_as(practitioner, "ed-doctor")
    form = practitioner.get("/purpose")
    practitioner.post(
        "/purpose",
        data={"purpose": "health_care", "purpose_text": "ED", "csrf_token": csrf(form.text)},
    )
    token = csrf(practitioner.get("/search").text)
    for address in (
        f"/records/{first}/merge",
        f"/records/{first}/merge/{second}",
        f"/records/{first}/merges/{first}",
    ):
        assert practitioner.get(address).status_code == 403, address
    for address, data in (
        (f"/records/{first}/merge/find", {**LOOK_UP, **BORN}),
        (f"/records/{first}/merge/{second}", {"survivor_version": "1", "merged_version": "1"}),
        (f"/records/{first}/merges/{first}/undo", {"version": "1", "reason": "x"}),
    ):
        refused = practitioner.post(address, data={**data, "csrf_token": token})
        assert refused.status_code == 403, address
    assert api_record(client, factory, scenario, second).json()["status"] == "active"
    refusals = list(page_rows(factory, "/records/{child_id}/merge/{other_id}"))
    assert any(r["status_code"] == 403 and r["method"] == "POST" for r in refusals)


# --- In a real browser -------------------------------------------------------------------


def test_in_a_browser_a_data_manager_merges_two_records_and_undoes_it(
    settings: Settings, browser: Any, factory: Factory, client: TestClient
) -> None:
    scenario, second = two_entries(factory, client)
    first = scenario.child_id
    # One process: on a loaded machine uvicorn's supervisor killed spawned workers that
    # took longer than its health check to import the app, and the server never started.
    served = real.serve(settings, real.free_port(), SERVE_WORKERS="1")
    try:
        base = served.base
        journey = signed_in(browser, base)
        page = journey.page
        page.goto(f"/records/{first}")
        page.get_by_role("link", name="Merge with another record").click()
        page.wait_for_url(f"{base}/records/{first}/merge")
        journey.accessible()
        page.get_by_label("Given names", exact=True).fill("Ayesha")
        page.get_by_label("Family name", exact=True).fill("Testchild")
        page.locator("#dob_day").fill("11")
        page.locator("#dob_month").fill("2")
        page.locator("#dob_year").fill("2016")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(f"{base}/records/{first}/merge/found/*")
        journey.accessible()
        page.get_by_role("link", name=re.compile("Compare with Ayesha Testchild")).click()
        page.wait_for_url(f"{base}/records/{first}/merge/{second}")
        assert "Aisha Testchild" in page.locator("#kept").inner_text()
        assert "Ayesha Testchild" in page.locator("#merged").inner_text()
        journey.accessible()
        page.get_by_role("button", name="Merge these records").click()
        page.wait_for_url(f"{base}/records/{first}/merges/*")
        assert "Merged on" in page.locator("main").inner_text()
        journey.accessible()
        page.get_by_role("button", name="Undo the merge").click()
        page.wait_for_selector("text=Say why the merge is being undone")
        journey.accessible()
        page.get_by_label("Why are you undoing it?").fill("Two children after all")
        page.get_by_role("button", name="Undo the merge").click()
        page.wait_for_selector("text=The merge was undone")
        journey.accessible()
        assert not any(
            word in url.lower() for url in journey.urls for word in ("ayesha", "aisha", "2016")
        )
    finally:
        real.stop(served.process)
    assert api_record(client, factory, scenario, second).json()["status"] == "active"
