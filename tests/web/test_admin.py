"""The administrator's pages, in-process: organisations (codes checked against the public
lists, contacts corrected with the front door's rule, suspended as a whole), identity
providers (registered with OpenID Connect settings and claim mapping, tested with a
failure said in plain words, withdrawn), suspensions of a person found by name in the
audit trail, webhook endpoints; the access policy (a non-administrator is refused, an
administrator is refused on every child page); CSRF on every form; one audit row for
each administrative act."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.demo.personas import persona
from tests.factories import Factory
from tests.factories.processes import free_port
from tests.web import browser as real
from tests.web.browser import Journey
from tests.web.test_browser import sign_in_as as doctor_signs_in
from tests.web.test_pages import csrf
from tests.web.test_work import sign_in_as

ED_CODE = "DEMO-EAL-05"
ED_DOCTOR = "Dr Priya Shah"


@pytest.fixture(autouse=True)
def operator(personas_organisations: dict[str, str], factory: Factory) -> None:
    """The index's operator, where the administrator persona works."""
    factory.organisation(code="DEMO-OPS", type="index_operator", name="Index operator")


def rows(factory: Factory, action: str) -> list[dict[str, Any]]:
    return [r for r in factory.audit_rows() if r["action"] == action]


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf(page.text)


def test_a_non_administrator_is_refused_every_administrator_page(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "data-manager")
    for path in (
        "/admin/organisations",
        "/admin/organisations/new",
        "/admin/identity-providers",
        "/admin/identity-providers/new",
        "/admin/suspensions",
        "/admin/webhooks",
    ):
        assert browser_client.get(path).status_code == 403, path
    assert "/admin/" not in browser_client.get("/").text  # not in the menu either
    refused = rows(factory, "admin:organisation:read")
    assert refused
    assert refused[-1]["outcome"] != "success"


def test_an_administrator_sees_no_child_page(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "administrator")
    home = browser_client.get("/")
    assert home.status_code == 200
    assert "Look a child up" not in home.text
    for href in ("/admin/organisations", "/admin/identity-providers", "/admin/suspensions"):
        assert f'href="{href}"' in home.text
    some, other = uuid.uuid4(), uuid.uuid4()
    for path in (
        "/search",
        f"/enquiries/{some}",
        f"/enquiries/{some}/children/{other}",
        f"/enquiries/{some}/children/{other}/involvement",
        f"/enquiries/{some}/children/{other}/flag",
        f"/involvements/{some}",
        f"/flags/{some}",
        "/alerts",
        f"/alerts/{some}",
        "/inbox",
        "/my-children",
        "/my-enquiries",
        "/enquiry-contacts",
    ):
        answer = browser_client.get(path)
        assert answer.status_code == 403, (path, answer.status_code)
    token = form_token(browser_client, "/admin/organisations")
    looked = browser_client.post("/search", data={"csrf_token": token, "family_name": "Smith"})
    assert looked.status_code == 403
    assert all(
        not r["child_ids"] for r in factory.audit_rows() if r["subject"] == "demo-administrator"
    )


def test_organisations_added_with_codes_checked_and_contacts_corrected(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "administrator")
    listed = browser_client.get("/admin/organisations")
    assert listed.status_code == 200
    assert ED_CODE in listed.text
    token = form_token(browser_client, "/admin/organisations/new")
    organisation = {
        "name": "Hillingdon children's social care",
        "code": "HIL-CSC",
        "type": "childrens_social_care",
        "local_authority": "E09999999",  # not on the published list
        "contact_phone": "020 7946 0300",
        "out_of_hours_phone": "",
    }
    bad = browser_client.post("/admin/organisations", data={**organisation, "csrf_token": token})
    assert bad.status_code == 422
    assert "There is a problem" in bad.text
    assert 'href="#local_authority"' in bad.text
    no_duty_team = browser_client.post(
        "/admin/organisations",
        data={**organisation, "local_authority": "E09000017", "csrf_token": token},
    )
    assert no_duty_team.status_code == 422
    assert 'href="#out_of_hours_phone"' in no_duty_team.text
    assert "out_of_hours_phone (emergency duty team)" in no_duty_team.text
    assert browser_client.post("/admin/organisations", data=organisation).status_code == 403
    added = browser_client.post(
        "/admin/organisations",
        data={
            **organisation,
            "local_authority": "E09000017",
            "out_of_hours_phone": "020 7946 0399",
            "csrf_token": token,
        },
    )
    assert added.status_code == 303, added.text
    page = browser_client.get(added.headers["location"])
    assert "Organisation added" in page.text
    assert 'value="020 7946 0399"' in page.text
    organisation_id = added.headers["location"].split("/")[3].split("?")[0]
    [created] = [r for r in rows(factory, "admin:organisation:create") if r["status_code"] == 303]
    assert created["detail"]["organisation_code"] == "HIL-CSC"

    contacts = f"/admin/organisations/{organisation_id}/contacts"
    unreachable = browser_client.post(
        contacts,
        data={"contact_phone": "020 7946 0300", "out_of_hours_phone": "", "csrf_token": token},
    )
    assert unreachable.status_code == 422
    assert "out-of-hours phone" in unreachable.text
    saved = browser_client.post(
        contacts,
        data={
            "contact_phone": "020 7946 0301",
            "contact_email": "front.door@hillingdon.example",
            "out_of_hours_phone": "020 7946 0398",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    again = browser_client.get(saved.headers["location"])
    assert "Contacts saved" in again.text
    assert 'value="020 7946 0398"' in again.text
    updates = rows(factory, "admin:organisation:update")
    assert [r["status_code"] for r in updates] == [422, 303]
    assert updates[-1]["detail"]["organisation_id"] == organisation_id

    suspended = browser_client.post(
        "/admin/suspensions",
        data={"organisation_code": "HIL-CSC", "reason": "Leaving the index", "csrf_token": token},
    )
    assert suspended.status_code == 303
    assert "Suspended since" in browser_client.get(f"/admin/organisations/{organisation_id}").text


def provider_form(issuer: str, **changes: str) -> dict[str, str]:
    return {
        "issuer": issuer,
        "jwks_url": f"{issuer}/jwks",
        "organisations": ED_CODE,
        "display_name": "West London Trust",
        "discovery_url": f"{issuer}/.well-known/openid-configuration",
        "client_id": "index",
        "client_secret_env": "WLT_SECRET",
        "client_secret_file": "",
        "scopes": "openid profile email",
        "claim_subject": "sub",
        "claim_name": "name",
        "claim_email": "email",
        "claim_organisation": "org_code",
        "static_organisation": "",
        "claim_roles": "nhsid_nrbac_roles",
        "roles_field": "role_code",
        "role_values": "R8000 = practitioner",
        **changes,
    }


def test_an_identity_provider_registered_tested_and_withdrawn(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "administrator")
    token = form_token(browser_client, "/admin/identity-providers/new")
    issuer = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    bad = browser_client.post(
        "/admin/identity-providers",
        data={
            **provider_form(issuer, role_values="R8000 practitioner", scopes="profile"),
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert 'href="#role_values"' in bad.text
    assert 'href="#scopes"' in bad.text
    assert "their value = our role" in bad.text
    csc = browser_client.post(
        "/admin/identity-providers",
        data={**provider_form(issuer, organisations="DEMO-EAL-01"), "csrf_token": token},
    )
    assert csc.status_code in (403, 409, 422), csc.text  # never for children's social care
    registered = browser_client.post(
        "/admin/identity-providers", data={**provider_form(issuer), "csrf_token": token}
    )
    assert registered.status_code == 303, registered.text
    listed = browser_client.get(registered.headers["location"])
    assert "West London Trust" in listed.text
    assert issuer in listed.text
    [record] = [r for r in rows(factory, "admin:issuer:register") if r["status_code"] == 303]
    assert record["detail"]["issuer"] == issuer
    [issuer_id] = re.findall(
        r'action="/admin/identity-providers/([0-9a-f-]{36})/test"', listed.text
    )

    tested = browser_client.post(
        f"/admin/identity-providers/{issuer_id}/test", data={"csrf_token": token}
    )
    assert tested.status_code == 200
    assert "It failed" in tested.text
    assert "could not be reached" in tested.text
    assert rows(factory, "admin:issuer:read")[-1]["detail"]["probe"] == "failed"
    assert (
        browser_client.post(f"/admin/identity-providers/{issuer_id}/test").status_code == 403
    )  # CSRF

    withdrawn = browser_client.post(
        f"/admin/identity-providers/{issuer_id}/withdraw", data={"csrf_token": token}
    )
    assert withdrawn.status_code == 303
    assert "Withdrawn" in browser_client.get("/admin/identity-providers").text
    assert rows(factory, "admin:issuer:withdraw")[-1]["detail"]["issuer"] == issuer


def test_a_person_found_by_name_is_suspended_signed_out_and_the_suspension_lifted(
    web_app: Any, personas_organisations: dict[str, str], factory: Factory
) -> None:
    with (
        TestClient(web_app, base_url="https://testserver", follow_redirects=False) as doctor,
        TestClient(web_app, base_url="https://testserver", follow_redirects=False) as admin,
    ):
        sign_in_as(doctor, "ed-doctor")  # the sign-in leaves the doctor in the audit trail
        sign_in_as(admin, "administrator")
        found = admin.get("/admin/suspensions", params={"person": "priya"})
        assert found.status_code == 200
        assert ED_DOCTOR in found.text
        assert ED_CODE in found.text
        subject = persona("ed-doctor").subject
        assert f'name="subject" value="{subject}"' in found.text
        issuer = re.search(r'name="issuer" value="([^"]+)"', found.text)
        assert issuer is not None
        token = csrf(found.text)
        no_reason = admin.post(
            "/admin/suspensions",
            data={
                "issuer": issuer.group(1),
                "subject": subject,
                "person": "priya",
                "csrf_token": token,
            },
        )
        assert no_reason.status_code == 422
        assert "Say why you are suspending them" in no_reason.text
        suspended = admin.post(
            "/admin/suspensions",
            data={
                "issuer": issuer.group(1),
                "subject": subject,
                "reason": "Looked up a relative",
                "csrf_token": token,
            },
        )
        assert suspended.status_code == 303, suspended.text
        row = [r for r in rows(factory, "admin:suspension:create") if r["status_code"] == 303][-1]
        assert row["detail"]["suspended"] == {"issuer": issuer.group(1), "subject": subject}
        out = doctor.get("/")
        assert out.status_code == 303
        assert out.headers["location"] == "/sign-in?signed_out=user_suspended"

        listed = admin.get("/admin/suspensions")
        assert "Looked up a relative" in listed.text
        [suspension_id] = re.findall(
            r'action="/admin/suspensions/([0-9a-f-]{36})/lift"', listed.text
        )
        lifted = admin.post(f"/admin/suspensions/{suspension_id}/lift", data={"csrf_token": token})
        assert lifted.status_code == 303
        assert "Nobody is suspended" in admin.get("/admin/suspensions").text
        assert (
            rows(factory, "admin:suspension:lift")[-1]["detail"]["suspension_id"] == suspension_id
        )


def test_webhook_endpoints_added_with_their_secret_shown_once_and_withdrawn(
    browser_client: TestClient, personas_organisations: dict[str, str], factory: Factory
) -> None:
    sign_in_as(browser_client, "administrator")
    token = form_token(browser_client, "/admin/webhooks")
    unknown = browser_client.post(
        "/admin/webhooks",
        data={"organisation_code": "NOPE-1", "url": "http://127.0.0.1:9/in", "csrf_token": token},
    )
    assert unknown.status_code == 422
    assert "No such organisation" in unknown.text
    added = browser_client.post(
        "/admin/webhooks",
        data={"organisation_code": ED_CODE, "url": "http://127.0.0.1:9/in", "csrf_token": token},
    )
    assert added.status_code == 200
    assert "whsec_" in added.text
    assert "whsec_" not in browser_client.get("/admin/webhooks").text
    [endpoint_id] = re.findall(r'action="/admin/webhooks/([0-9a-f-]{36})/withdraw"', added.text)
    registered = [r for r in rows(factory, "admin:webhook:register") if r["status_code"] == 200]
    assert registered[-1]["detail"]["webhook_endpoint_id"] == endpoint_id
    withdrawn = browser_client.post(
        f"/admin/webhooks/{endpoint_id}/withdraw", data={"csrf_token": token}
    )
    assert withdrawn.status_code == 303
    assert "Stopped" in browser_client.get("/admin/webhooks").text


def test_administrator_and_national_auditor_together_cannot_sign_in(
    browser_client: TestClient,
    personas_organisations: dict[str, str],
    factory: Factory,
    monkeypatch: Any,
) -> None:
    from index_service.access.roles import Role
    from index_service.web import sign_in

    both = replace(persona("administrator"), roles=(Role.ADMINISTRATOR, Role.NATIONAL_AUDITOR))
    monkeypatch.setattr(sign_in, "persona", lambda key: both)  # a persona holding both roles
    page = browser_client.get("/sign-in/as")
    refused = browser_client.post(
        "/sign-in/as", data={"persona": "administrator", "csrf_token": csrf(page.text)}
    )
    assert refused.status_code == 403
    assert "You cannot sign in to this service" in refused.text
    assert "both the administrator and the national auditor roles" in refused.text
    row = rows(factory, "web:sign_in")[-1]
    assert (row["outcome"] != "success", row["reason"]) == (True, "conflicting_roles")


@pytest.fixture
def served_with_provider(settings: Any, browser: Any) -> Iterator[tuple[str, str]]:
    """The served app and a real OpenID provider nobody has registered yet: (base, its
    issuer)."""
    app_port, op_port = real.free_ports(2)
    base = f"http://127.0.0.1:{app_port}"
    provider = real.start_provider(op_port, f"{base}/sign-in/callback", {"someone": {}})
    try:
        served = real.serve(settings, app_port)
        try:
            yield base, provider.issuer
        finally:
            real.stop(served.process)
    finally:
        real.stop(provider.process)


def journey_of(browser: Any, base: str) -> Journey:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    real.loopback_only(context)
    journey = Journey(page=context.new_page(), base=base)
    journey.watch()
    return journey


def register_provider(journey: Journey, issuer: str, name: str) -> None:
    page = journey.page
    page.goto("/admin/identity-providers/new")
    for field, value in provider_form(issuer, display_name=name).items():
        if field in ("claim_subject", "claim_name", "claim_email", "scopes") or not value:
            continue  # the form's own defaults
        page.fill(f"#{field}", value)
    page.get_by_role("button", name="Register the provider").click()
    page.get_by_text("Identity provider registered").wait_for()


def test_an_administrator_registers_and_tests_a_provider_suspends_a_user_and_sees_no_child_page(
    served_with_provider: tuple[str, str], browser: Any, factory: Factory
) -> None:
    base, issuer = served_with_provider
    doctor = journey_of(browser, base)
    doctor_signs_in(doctor, base, "Dr Priya Shah", "ED attendance")  # now in the audit trail

    admin = journey_of(browser, base)
    page = admin.page
    page.goto("/sign-in/as")
    page.get_by_role("button", name="Sign in as Ash Admin").click()
    page.goto("/")
    admin.accessible()
    for address in ("/admin/organisations", "/admin/organisations/new", "/admin/webhooks"):
        page.goto(address)
        admin.accessible()
    page.goto("/admin/organisations")
    page.get_by_role("link", name="Demo emergency department EAL").click()
    admin.accessible()

    page.goto("/admin/identity-providers/new")
    admin.accessible()
    register_provider(admin, issuer, "West London Trust")
    admin.accessible()
    page.get_by_role("button", name="Test this provider West London Trust").click()
    page.get_by_text("It works").wait_for()
    said = page.locator("main").inner_text()
    assert "its discovery document and 1 signing key" in said or "signing keys" in said
    assert f"Issuer: {issuer}" in said
    assert f"Token endpoint: {issuer}" in said
    admin.accessible()

    nowhere = f"http://127.0.0.1:{real.free_port()}"
    register_provider(admin, nowhere, "Closed Trust")
    page.get_by_role("button", name="Test this provider Closed Trust").click()
    page.get_by_text("It failed").wait_for()
    said = page.locator("main").inner_text()
    assert f"The discovery document at {nowhere}" in said
    assert "could not be reached" in said
    admin.accessible()

    page.goto("/admin/suspensions")
    page.get_by_label("Their name, or the user id").fill("Priya")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("heading", name="Dr Priya Shah").wait_for()
    admin.accessible()
    page.get_by_label("Why are you suspending Dr Priya Shah?").fill("Looked up a relative")
    page.get_by_role("button", name="Suspend Dr Priya Shah").click()
    page.get_by_text("Suspended: they are signed out at their next request").wait_for()
    assert "Looked up a relative" in page.locator("main").inner_text()
    admin.accessible()
    doctor.page.goto("/search")
    doctor.page.get_by_text("your account is suspended", exact=False).wait_for()

    for child_page in ("/search", "/alerts", "/my-enquiries", "/inbox"):
        answer = page.goto(child_page)
        assert answer is not None
        assert answer.status == 403, child_page
        assert "You cannot do that" in page.locator("h1").inner_text()
    admin.accessible()
    page.goto("/admin/organisations")
    page.get_by_role("link", name="Demo childrens social care HRY").click()
    page.get_by_label("Why are you deactivating it?").fill("Left the index")
    page.get_by_role("button", name="Deactivate this organisation").click()
    page.get_by_text("Organisation deactivated").wait_for()
    assert "Left the index" in page.locator("#status").inner_text()
    admin.accessible()
    page.get_by_role("button", name="Reactivate this organisation").click()
    page.get_by_text("Organisation reactivated").wait_for()
    admin.accessible()
    assert not any(
        r["child_ids"] for r in factory.audit_rows() if r["subject"] == "demo-administrator"
    )


def test_an_organisation_deactivated_ends_its_peoples_sessions_and_is_reactivated(
    browser_client: TestClient,
    web_app: Any,
    personas_organisations: dict[str, str],
    factory: Factory,
) -> None:
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as doctor:
        sign_in_as(doctor, "ed-doctor")
        assert doctor.get("/").status_code == 200
        sign_in_as(browser_client, "administrator")
        listed = browser_client.get("/admin/organisations")
        [ed_id] = re.findall(
            r'href="/admin/organisations/([0-9a-f-]{36})">Demo emergency', listed.text
        )
        shown = browser_client.get(f"/admin/organisations/{ed_id}")
        assert "Deactivate this organisation" in shown.text
        action = f"/admin/organisations/{ed_id}/deactivate"
        assert browser_client.post(action, data={"reason": "Closed"}).status_code == 403  # CSRF
        blank = browser_client.post(action, data={"reason": "", "csrf_token": csrf(shown.text)})
        assert blank.status_code == 422
        assert "Say why you are deactivating it" in blank.text
        done = browser_client.post(
            action, data={"reason": "The department closed", "csrf_token": csrf(shown.text)}
        )
        assert done.status_code == 303, done.text
        after = browser_client.get(done.headers["location"])
        assert "Organisation deactivated" in after.text
        assert "The department closed" in after.text
        assert "Reactivate this organisation" in after.text
        assert "Deactivated" in browser_client.get("/admin/organisations").text

        out = doctor.get("/")  # her next request: her session ends
        assert out.status_code == 303
        assert out.headers["location"] == "/sign-in?signed_out=organisation_not_participating"
        assert doctor.get("/").headers["location"] == "/sign-in"  # and stays ended

        back = browser_client.post(
            f"/admin/organisations/{ed_id}/reactivate", data={"csrf_token": csrf(after.text)}
        )
        assert back.status_code == 303
        assert "Taking part" in browser_client.get(f"/admin/organisations/{ed_id}").text
        sign_in_as(doctor, "ed-doctor")
        assert doctor.get("/").status_code == 200
    own = re.findall(r'href="/admin/organisations/([0-9a-f-]{36})">Index operator', listed.text)
    assert "cannot be deactivated" in browser_client.get(f"/admin/organisations/{own[0]}").text
    acts = [(r["route"], r["status_code"]) for r in rows(factory, "admin:organisation:deactivate")]
    assert acts == [
        ("/admin/organisations/{organisation_id}/deactivate", 403),
        ("/admin/organisations/{organisation_id}/deactivate", 422),
        ("/admin/organisations/{organisation_id}/deactivate", 303),
        ("/admin/organisations/{organisation_id}/reactivate", 303),
    ]
