"""The data manager's printable subject access report: the same report as the API's, on
a GOV.UK page, audited once with the session's purpose; another authority's child is the
same 404 as none, and a practitioner is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_pre_birth_enquiries import MOTHER, unborn_payload
from tests.factories import HARINGEY, Factory, other_child
from tests.web.scenario import KEY_WORKER, a_child_with_a_key_worker
from tests.web.test_records import assert_one_row, signed_in_data_manager
from tests.web.test_work import page_rows, sign_in_as


def test_a_data_manager_prints_the_subject_access_report_of_their_authoritys_child(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    signed_in_data_manager(browser_client)
    record = browser_client.get(f"/records/{scenario.child_id}")
    assert f'href="/records/{scenario.child_id}/subject-access"' in record.text
    shown = browser_client.get(f"/records/{scenario.child_id}/subject-access")
    assert shown.status_code == 200, shown.text
    for part in ("Subject access report", "Aisha Testchild", "Where each field came from"):
        assert part in shown.text
    assert KEY_WORKER in shown.text  # who works with the child
    assert "Who looked at the record, and why" in shown.text
    assert 'href="/audit/review.css"' in shown.text  # the print stylesheet
    row = assert_one_row(
        factory, "/records/{child_id}/subject-access", "child:record:subject_access"
    )
    assert [str(c) for c in row["child_ids"]] == [scenario.child_id]


def test_another_authoritys_child_is_404_and_a_practitioner_is_refused(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    a_child_with_a_key_worker(factory, client)
    haringey = factory.organisation(type="childrens_social_care", local_authority=HARINGEY)
    theirs = client.post(
        "/v1/children",
        json=other_child(responsible_authority=HARINGEY, addresses=[]),
        headers=factory.headers_for(haringey, roles=["data_manager"]),
    ).json()["id"]
    signed_in_data_manager(browser_client)
    assert browser_client.get(f"/records/{theirs}/subject-access").status_code == 404
    practitioner = TestClient(
        browser_client.app, base_url="https://testserver", follow_redirects=False
    )
    sign_in_as(practitioner, "ed-doctor")
    assert practitioner.get(f"/records/{theirs}/subject-access").status_code == 403
    statuses = sorted(
        r["status_code"] for r in page_rows(factory, "/records/{child_id}/subject-access")
    )
    assert statuses == [403, 404]


def test_an_unborn_childs_printable_report_shows_the_expectant_mother(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario = a_child_with_a_key_worker(factory, client)
    made = client.post(
        "/v1/children",
        json=unborn_payload(),
        headers=factory.headers_for(scenario.ealing, roles=["data_manager"]),
    )
    assert made.status_code == 201, made.text
    signed_in_data_manager(browser_client)
    shown = browser_client.get(f"/records/{made.json()['id']}/subject-access")
    assert shown.status_code == 200, shown.text
    part = shown.text.split('id="mother"')[1].split("Who has worked with the child")[0]
    assert f"{MOTHER['given_names']} {MOTHER['family_name']}" in part
    assert MOTHER["nhs_number"] in part
    assert "17 April 1998" in part
