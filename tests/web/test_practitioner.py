"""A practitioner's own pages, in-process: from the child's entry they found, record my
involvement and raise a flag (only the kinds their agency may raise offered; another kind
posted is refused by the service, as the API's is); the reach rule (a child the caller
did not find, or found too long ago, is refused); my recent enquiries, mine only; CSRF on
every form; one audit row per page with the session's purpose. The look-up form's address
(line 1, line 2, town) reaches the enquiry's criteria, and tells apart two children of one
name at one postcode."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.flags.models import FlagKind
from index_service.web import practice
from tests.access.test_objects import principal
from tests.factories import VALID_NHS_NUMBER, Factory, child_payload, create_confirming
from tests.web.scenario import KEY_WORKER, Scenario, a_child_with_a_key_worker
from tests.web.test_pages import csrf, state_purpose
from tests.web.test_work import page_rows, sign_in_as

INVOLVEMENT_ROUTE = "/enquiries/{enquiry_id}/children/{child_id}/involvement"
FLAG_ROUTE = "/enquiries/{enquiry_id}/children/{child_id}/flag"
NEXT_YEAR = date.today() + timedelta(days=365)


def found(client: TestClient, scenario: Scenario) -> tuple[str, str]:
    """The ED doctor looks the child up by NHS number and opens the entry: its address
    and the enquiry's id."""
    page = client.get("/search")
    answered = client.post(
        "/search", data={"nhs_number": VALID_NHS_NUMBER, "csrf_token": csrf(page.text)}
    )
    assert answered.status_code == 303, answered.text
    address = answered.headers["location"]
    enquiry_id = address.rsplit("/", 1)[1]
    shown = client.get(address).text
    if "Possible matches" in shown:
        opened = client.post(
            f"{address}/open", data={"child_id": scenario.child_id, "csrf_token": csrf(shown)}
        )
        address = opened.headers["location"]
    return address, enquiry_id


def doctor_with_the_child(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> tuple[Scenario, str, str]:
    scenario = a_child_with_a_key_worker(factory, client)
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    address, enquiry_id = found(browser_client, scenario)
    return scenario, address, enquiry_id


def test_the_doctor_records_their_involvement_from_the_childs_entry(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, address, enquiry_id = doctor_with_the_child(browser_client, client, factory)
    entry = browser_client.get(address).text
    form_address = f"/enquiries/{enquiry_id}/children/{scenario.child_id}/involvement"
    assert f'href="{form_address}"' in entry
    form = browser_client.get(form_address)
    assert form.status_code == 200, form.text
    assert 'value="lead_professional"' in form.text
    assert 'value="key_worker"' not in form.text  # a social worker's role only
    assert form.text.index("govuk-back-link") > form.text.index("<main")  # in a landmark
    token = csrf(form.text)
    valid = {"service": "Paediatric emergency", "role": "other", "practitioner_phone": ""}

    assert browser_client.post(form_address, data=valid).status_code == 403
    invalid = browser_client.post(
        form_address, data={**valid, "service": "", "role": "", "csrf_token": token}
    )
    assert invalid.status_code == 422
    assert "govuk-error-summary" in invalid.text
    assert 'href="#service"' in invalid.text
    assert 'href="#role"' in invalid.text
    assert "govuk-error-message" in invalid.text
    not_offered = browser_client.post(
        form_address, data={**valid, "role": "key_worker", "csrf_token": token}
    )
    assert not_offered.status_code == 403
    done = browser_client.post(form_address, data={**valid, "csrf_token": token})
    assert done.status_code == 303, done.text
    assert re.fullmatch(r"/involvements/[0-9a-f-]{36}", done.headers["location"])
    confirmed = browser_client.get(done.headers["location"])
    assert confirmed.status_code == 200, confirmed.text
    assert "Involvement recorded" in confirmed.text
    assert "Paediatric emergency" in confirmed.text

    rows = page_rows(factory, INVOLVEMENT_ROUTE)
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("refused", "csrf_token_missing"),
        ("refused", "invalid_input"),
        ("refused", "not_a_key_worker"),
        ("success", None),
    ]
    assert rows[-1]["action"] == "child:involvement:record"
    assert (rows[-1]["purpose"], rows[-1]["purpose_text"]) == ("health_care", "ED attendance")
    assert [str(c) for c in rows[-1]["child_ids"]] == [scenario.child_id]
    assert done.headers["location"].endswith(rows[-1]["detail"]["involvement_id"])


def test_the_reach_rule_refuses_a_child_not_found_or_found_too_long_ago(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, _address, enquiry_id = doctor_with_the_child(browser_client, client, factory)
    form_address = f"/enquiries/{enquiry_id}/children/{scenario.child_id}/involvement"
    token = csrf(browser_client.get(form_address).text)
    valid = {"service": "Paediatric emergency", "role": "other", "csrf_token": token}
    stranger = "00000000-0000-4000-8000-000000000001"
    not_found = browser_client.post(
        f"/enquiries/{enquiry_id}/children/{stranger}/involvement", data=valid
    )
    assert not_found.status_code == 404
    with factory.db.transaction() as session:
        session.execute(text("UPDATE enquiry SET created_at = created_at - interval '400 days'"))
    too_old = browser_client.post(form_address, data=valid)
    assert too_old.status_code == 404
    assert "search for the child first" in too_old.text
    rows = page_rows(factory, INVOLVEMENT_ROUTE)
    assert [(r["outcome"], r["status_code"]) for r in rows] == [("refused", 404), ("refused", 404)]


def test_the_doctor_raises_only_a_kind_of_flag_their_agency_may(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, address, enquiry_id = doctor_with_the_child(browser_client, client, factory)
    form_address = f"/enquiries/{enquiry_id}/children/{scenario.child_id}/flag"
    assert f'href="{form_address}"' in browser_client.get(address).text
    form = browser_client.get(form_address)
    assert form.status_code == 200, form.text
    offered = set(re.findall(r'name="kind" type="radio" value="([a-z_]+)"', form.text))
    assert offered == {"early_help", "concern_raised"}
    token = csrf(form.text)
    review = {
        "review_day": str(NEXT_YEAR.day),
        "review_month": str(NEXT_YEAR.month),
        "review_year": str(NEXT_YEAR.year),
    }
    concern = {"kind": "concern_raised", "area_of_concern": "parenting_capacity", **review}

    assert browser_client.post(form_address, data=concern).status_code == 403
    missing = browser_client.post(
        form_address, data={"kind": "concern_raised", "review_year": "1999", "csrf_token": token}
    )
    assert missing.status_code == 422
    assert 'href="#area_of_concern"' in missing.text
    assert 'href="#review_day"' in missing.text
    refused = browser_client.post(
        form_address, data={"kind": "missing_from_home", **review, "csrf_token": token}
    )
    assert refused.status_code == 403
    raised = browser_client.post(form_address, data={**concern, "csrf_token": token})
    assert raised.status_code == 303, raised.text
    assert re.fullmatch(r"/flags/[0-9a-f-]{36}", raised.headers["location"])
    shown = browser_client.get(raised.headers["location"])
    assert shown.status_code == 200, shown.text
    assert "Flag raised" in shown.text
    assert "Concern raised" in shown.text

    rows = page_rows(factory, FLAG_ROUTE)
    assert [(r["outcome"], r["reason"]) for r in rows] == [
        ("refused", "csrf_token_missing"),
        ("refused", "invalid_input"),
        ("refused", "flag_not_yours_to_raise"),
        ("success", None),
    ]
    assert rows[-1]["purpose"] == "health_care"
    assert rows[-1]["detail"]["kind"] == "concern_raised"


def test_my_recent_enquiries_lists_mine_only_and_the_home_page_links_my_pages(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    scenario, _address, enquiry_id = doctor_with_the_child(browser_client, client, factory)
    colleague = factory.headers_for(
        scenario.emergency_department, roles=["practitioner"], sub="another-doctor"
    )
    theirs = client.post(
        "/v1/enquiries",
        json={"nhs_number": VALID_NHS_NUMBER},
        headers={**colleague, "Purpose-Of-Use": "health_care", "Purpose-Text": "ED"},
    )
    assert theirs.status_code in (200, 201), theirs.text
    home = browser_client.get("/").text
    assert 'href="/my-enquiries"' in home
    assert 'href="/inbox"' not in home  # a designated manager's
    listed = browser_client.get("/my-enquiries")
    assert listed.status_code == 200, listed.text
    assert f'href="/enquiries/{enquiry_id}"' in listed.text
    assert theirs.json()["id"] not in listed.text
    assert VALID_NHS_NUMBER in listed.text.replace(" ", "")
    [row] = page_rows(factory, "/my-enquiries")
    assert (row["action"], row["outcome"], row["purpose"]) == (
        "child:enquiry:open",
        "success",
        "health_care",
    )
    assert row["detail"]["enquiry_ids"] == [enquiry_id]
    assert browser_client.get(f"/enquiries/{enquiry_id}").status_code == 200


BY_NAME = {
    "given_names": "Aisha",
    "family_name": "Testchild",
    "dob_day": "11",
    "dob_month": "2",
    "dob_year": "2016",
    "postcode": "W5 2AA",
}


def test_the_address_on_the_look_up_form_reaches_the_enquiry_and_tells_neighbours_apart(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    """Two children of one name and date of birth at one postcode, in different houses
    (confirmed different children by their data manager): by name, date of birth and
    postcode the doctor is shown both; with the house and street and the town, the one
    living there is the match (model v4's address levels: `current` against
    `same_street`). The address is in the audit row's criteria as searched on."""
    scenario = a_child_with_a_key_worker(factory, client)
    neighbour = child_payload(
        nhs_number=None,
        upn=None,
        addresses=[
            {
                "line1": "7 Synthetic Row",
                "town": "London",
                "postcode": "W5 2AA",
                "local_authority": "E09000009",
                "from_date": "2020-01-01",
            }
        ],
    )
    create_confirming(client, factory.data_manager(), neighbour)
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    form = browser_client.get("/search").text
    for name in ("address_line1", "address_line2", "town"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', form)
        assert tag is not None, name
        assert 'autocomplete="off"' in tag.group(0)  # the browser's address is not the child's

    postcode_only = browser_client.post("/search", data={**BY_NAME, "csrf_token": csrf(form)})
    assert postcode_only.status_code == 303, postcode_only.text
    shown = browser_client.get(postcode_only.headers["location"]).text
    assert "Possible matches" in shown
    with_address = browser_client.post(
        "/search",
        data={
            **BY_NAME,
            "address_line1": "1 SYNTHETIC ROW",
            "address_line2": "",
            "town": "London",
            "csrf_token": csrf(form),
        },
    )
    assert with_address.status_code == 303, with_address.text
    assert "Synthetic" not in with_address.headers["location"]
    answer = browser_client.get(with_address.headers["location"]).text
    assert "Possible matches" not in answer
    assert KEY_WORKER in answer  # the match: who to contact first

    searches = [r for r in page_rows(factory, "/search") if r["method"] == "POST"]
    assert [r["detail"]["outcome"] for r in searches] == ["possible_matches", "match"]
    criteria = searches[1]["detail"]["criteria"]
    assert (criteria["address_line1"], criteria["town"]) == ("1 SYNTHETIC ROW", "London")
    assert "address_line2" not in criteria  # left blank: not a criterion
    assert [str(c) for c in searches[1]["child_ids"]] == [scenario.child_id]
    levels = [e["fields"]["address"]["level"] for e in searches[1]["detail"]["explanations"]]
    assert levels == ["current"]  # the neighbour, at `same_street`, is not shown
    mine = browser_client.get("/my-enquiries").text
    assert "Address line 1: 1 SYNTHETIC ROW" in mine


def test_the_address_fields_are_checked_as_the_api_checks_them(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    a_child_with_a_key_worker(factory, client)
    sign_in_as(browser_client, "ed-doctor")
    state_purpose(browser_client)
    form = browser_client.get("/search").text
    refused = browser_client.post(
        "/search",
        data={**BY_NAME, "address_line1": "1" * 201, "town": "L" * 101, "csrf_token": csrf(form)},
    )
    assert refused.status_code == 422
    assert 'href="#address_line1"' in refused.text  # the error summary
    assert 'id="address_line1-error"' in refused.text  # and the field's own message
    assert 'id="town-error"' in refused.text
    assert "Enter the town or city in 100 characters or fewer" in refused.text
    assert factory.count("enquiry") == 0


def test_the_purpose_page_asks_why_you_are_using_the_index(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    a_child_with_a_key_worker(factory, client)
    sign_in_as(browser_client, "ed-doctor")
    asked = browser_client.get("/my-enquiries")
    assert asked.headers["location"] == "/purpose?next=/my-enquiries"
    page = browser_client.get(asked.headers["location"]).text
    assert "Why are you using the index?" in page
    assert page_rows(factory, "/my-enquiries") == []


@pytest.mark.parametrize(
    ("org_type", "roles", "kinds", "key_worker"),
    [
        ("childrens_social_care", ("social_worker",), set(FlagKind) - {"missing_education"}, True),
        ("police", ("practitioner",), {"early_help", "concern_raised", "missing_from_home"}, False),
        ("school", ("practitioner",), {"early_help", "concern_raised", "missing_education"}, False),
    ],
)
def test_the_forms_offer_what_access_allows_the_callers_agency(
    org_type: str, roles: tuple[str, ...], kinds: set[str], key_worker: bool
) -> None:
    caller = principal(org_type, roles)
    assert set(practice.kinds_for(caller)) == kinds
    assert ("key_worker" in practice.roles_for(caller)) is key_worker


SAMPLES = {"text": "Sam Okafor", "category": "neglect", "concern": "parenting_capacity"}


@pytest.mark.parametrize("kind", list(FlagKind))
def test_the_flag_form_asks_for_all_each_kind_carries(kind: FlagKind) -> None:
    """Every field a kind requires (`flags/schemas.py`) has its place on the form."""
    data: dict[str, object] = {"kind": kind.value, "review_date": NEXT_YEAR}
    for name, _, kind_of_input in practice.EXTRAS[kind]:
        data[name] = NEXT_YEAR if kind_of_input == "date" else SAMPLES[kind_of_input]
    if kind is FlagKind.LOOKED_AFTER:
        data["responsible_authority"] = "E09000009"
    practice._FLAG.validate_python(data)
