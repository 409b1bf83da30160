"""The journeys in a real browser (Debian's Chromium, driven by Playwright) against the
served app, the test PostgreSQL and a real OpenID provider (npm `oidc-provider`): an ED
doctor signs in through their trust's provider, states a purpose, looks a child up by
name, age and postcode, opens the possible match and sees the key worker first; a
not-found look-up names the front door and its out-of-hours number, by keyboard alone.
axe-core checks every page; no child data is in any URL the browser visited or kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from index_service.settings import Settings
from tests.factories import Factory
from tests.web import browser as real
from tests.web.browser import Journey
from tests.web.scenario import (
    KEY_WORKER,
    KEY_WORKER_PHONE,
    OUT_OF_HOURS_PHONE,
    a_child_with_a_key_worker,
    age_today,
    the_key_workers_child,
)

ED_CODE = "TRUST-ED-01"
DOCTOR = "ed-doctor-1"
RANDOM_PARAMETERS = frozenset({"state", "nonce", "code", "code_challenge", "iss", "session_state"})
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHILD_DATA_IN_URLS = (
    "testchild",
    "aisha",
    "w5",
    "2aa",
    "9992914173",
    "age_years",
    "family",
    "synthetic",
)


@pytest.fixture
def site(settings: Settings, browser: Any) -> Iterator[tuple[str, str]]:
    """The served app and the provider its ED staff sign in through: (base, issuer)."""
    app_port, op_port = real.free_ports(2)
    base = f"http://127.0.0.1:{app_port}"
    provider = real.start_provider(
        op_port,
        f"{base}/sign-in/callback",
        {
            DOCTOR: {
                "name": "Dr Test Doctor",
                "email": "test.doctor@trust.example",
                "org_code": ED_CODE,
                "nhsid_nrbac_roles": [
                    {"role_code": "S8000:G8000:R8000", "org_code": ED_CODE},
                    {"role_code": "S0080:G0450:R5080", "org_code": ED_CODE},
                ],
            }
        },
    )
    try:
        import json

        issuer = real.trusted_issuer(provider.issuer, [ED_CODE])
        served = real.serve(settings, app_port, TRUSTED_ISSUERS=json.dumps([issuer]))
        try:
            yield base, provider.issuer
        finally:
            real.stop(served.process)
    finally:
        real.stop(provider.process)


def new_journey(browser: Any, base: str) -> Journey:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    real.loopback_only(context)
    journey = Journey(page=context.new_page(), base=base)
    journey.watch()
    return journey


def assert_no_child_data_in_urls(journey: Journey) -> None:
    kept = journey.urls + journey.history()
    for url in kept:
        if not url.startswith(journey.base):
            # Refused by loopback_only (never left the machine), or the provider's own
            # sign-in and sign-out pages: ours lead there with no child data, and their
            # paths are random ids that may spell "w5" or "2aa" by chance.
            continue
        # Ids and the sign-in's random values may hold "2aa" by chance (the postcode's
        # inward code): they are left out of what is searched.
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in RANDOM_PARAMETERS]
        words = UUID.sub("<id>", f"{parts.path}?{urlencode(query)}".lower())
        assert not any(text in words for text in CHILD_DATA_IN_URLS), url


def test_an_ed_doctor_signs_in_through_the_trust_looks_a_child_up_and_sees_the_key_worker_first(
    site: tuple[str, str], browser: Any, factory: Factory, client: TestClient
) -> None:
    base, _issuer = site
    a_child_with_a_key_worker(factory, client, ed_code=ED_CODE)
    journey = new_journey(browser, base)
    page = journey.page

    page.goto("/sign-in")
    journey.accessible()
    page.get_by_role("button", name="Sign in with Test NHS Trust").click()
    # The provider's own (development) login and consent pages.
    page.locator("input[name=login]").fill(DOCTOR)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # consent: continue
    page.wait_for_url(f"{base}/purpose")
    assert "Dr Test Doctor" in page.locator("#who-i-am").inner_text()
    assert "Ealing Hospital emergency department" in page.locator("#who-i-am").inner_text()
    assert "Practitioner" in page.locator("#who-i-am").inner_text()  # R8000, mapped
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-session")
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Lax",
        "/",
    )
    journey.accessible()

    page.get_by_label("I am providing health care to the child").check()
    page.get_by_label("In a few words, why?").fill("ED attendance, injury unexplained")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/search")
    journey.accessible()

    page.get_by_label("Family name", exact=True).fill("Testchild")
    page.get_by_label("Or age in years").fill(str(age_today()))
    page.get_by_label("Address line 1").fill("1 Synthetic Row")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("W5 2AA")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{base}/enquiries/*")
    journey.accessible()
    heading = page.locator("h1").inner_text()
    if heading == "Possible matches":
        page.get_by_role("button", name="Open this record").first.click()
        page.wait_for_url(f"{base}/enquiries/*/children/*")
        journey.accessible()
    first_card = page.locator(".app-key-contact").first
    assert f"Key worker: {KEY_WORKER}" in first_card.inner_text()
    assert KEY_WORKER_PHONE in first_card.inner_text()
    text = page.locator("main").inner_text()
    assert text.index(KEY_WORKER) < text.index("The child")  # who to contact, first

    rows = [r for r in factory.audit_rows() if r["subject"] == DOCTOR]
    child_rows = [r for r in rows if r["action"].startswith("child:")]
    assert [r["action"] for r in child_rows] == (
        ["child:enquiry:create", "child:enquiry:open"]
        if heading == "Possible matches"
        else ["child:enquiry:create"]
    )
    assert {(r["purpose"], r["purpose_text"], r["outcome"]) for r in child_rows} == {
        ("health_care", "ED attendance, injury unexplained", "success")
    }
    criteria = child_rows[0]["detail"]["criteria"]
    assert (criteria["address_line1"], criteria["town"]) == ("1 Synthetic Row", "London")
    assert [r["action"] for r in rows if not r["action"].startswith("child:")] == ["web:sign_in"]
    assert_no_child_data_in_urls(journey)


def test_not_found_by_keyboard_alone_names_the_front_door_and_its_out_of_hours_number(
    site: tuple[str, str], browser: Any, factory: Factory, client: TestClient
) -> None:
    base, _issuer = site
    a_child_with_a_key_worker(factory, client)  # the persona's organisations, and a child
    journey = new_journey(browser, base)
    page = journey.page
    page.goto("/sign-in/as")
    journey.accessible()
    tab_to(page, "document.activeElement.innerText.includes('Sign in as Dr Priya Shah')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/purpose")
    tab_to(page, "document.activeElement.value === 'safeguarding_concern'")
    page.keyboard.press("Space")  # a radio is chosen with the space bar
    tab_to(page, "document.activeElement.id === 'purpose_text'")
    page.keyboard.type("Child brought in by a neighbour")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/search")
    for field, text in (
        ("given_names", "Zara"),
        ("family_name", "Unknownperson"),
        ("dob_day", "3"),
        ("dob_month", "4"),
        ("dob_year", "2015"),
    ):
        tab_to(page, f"document.activeElement.id === '{field}'")
        page.keyboard.type(text)
    tab_to(page, "document.activeElement.innerText === 'Search'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/enquiries/*")
    assert page.locator("h1").inner_text() == "No record found"
    assert "This is not evidence that the child is safe" in page.locator("main").inner_text()
    front_door = page.locator("#front-door").inner_text()
    assert "Ealing" in front_door
    main = page.locator("main").inner_text()
    assert OUT_OF_HOURS_PHONE in main
    journey.accessible()
    page.goto("/help")
    journey.accessible()
    assert_no_child_data_in_urls(journey)


def sign_in_as(journey: Journey, base: str, who: str, purpose_text: str) -> None:
    """The development 'sign in as', then the purpose (asked for by the first page that
    shows child data, and back to it after)."""
    page = journey.page
    page.goto("/sign-in/as")
    page.get_by_role("button", name=f"Sign in as {who}").click()
    page.wait_for_url(f"{base}/purpose")
    page.get_by_label("I am worried about a child's safety or welfare").check()
    page.get_by_label("In a few words, why?").fill(purpose_text)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/search")


def test_the_key_worker_acknowledges_the_r1_alert_and_the_manager_sees_r3_and_the_contacts(
    site: tuple[str, str], browser: Any, factory: Factory, client: TestClient
) -> None:
    base, _issuer = site
    the_key_workers_child(factory, client)  # the ED doctor's look-up raised R1; two, R3
    journey = new_journey(browser, base)
    page = journey.page
    sign_in_as(journey, base, "Sam Okafor", "Following up my alerts")
    page.get_by_role("link", name="My alerts").click()
    page.wait_for_url(f"{base}/alerts")
    journey.accessible()
    row = page.locator("#alert-list tbody tr").first
    assert "Aisha Testchild" in row.inner_text()
    assert "To acknowledge" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/alerts/*")
    journey.accessible()
    assert page.locator("#child-name").inner_text() == "Aisha Testchild"
    who = page.locator("#who-enquired").inner_text()
    assert "Dr Test Doctor" in who
    assert "020 7946 0500" in who
    page.get_by_label("What did you do? (optional)").fill("Called the ED back")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{base}/alerts/*?acknowledged=1")
    journey.accessible()
    assert "Called the ED back" in page.locator("#acknowledged").inner_text()
    page.get_by_role("link", name="My children").click()
    page.wait_for_url(f"{base}/my-children")
    journey.accessible()
    assert "Aisha Testchild" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/sign-in*")

    sign_in_as(journey, base, "Morgan Ellis", "Team inbox")
    page.get_by_role("link", name="Team inbox").click()
    page.wait_for_url(f"{base}/inbox")
    journey.accessible()
    inbox = page.locator("#alert-list").inner_text()
    assert "A second agency enquired about a child the index does not hold" in inbox
    page.get_by_label("What happened").select_option("R3")
    page.get_by_role("button", name="Show alerts").click()
    page.wait_for_url(f"{base}/inbox?*")
    journey.accessible()
    assert page.locator("#alert-list tbody tr").count() == 1
    page.get_by_role("link", name="Enquiry-only contacts").first.click()
    page.wait_for_url(f"{base}/enquiry-contacts")
    journey.accessible()
    groups = page.locator(".app-contact-group")
    assert groups.count() == 2
    assert "2 enquirers" in page.locator("main").inner_text()
    page.get_by_label("Why close it?").first.fill("Referred; record created")
    page.get_by_role("button", name="Close this contact").first.click()
    page.wait_for_url(f"{base}/enquiry-contacts?closed=1")
    journey.accessible()
    assert page.get_by_role("button", name="Close this contact").count() == 2

    rows = [r for r in factory.audit_rows() if r["subject"] == "demo-key-worker"]
    pages = [(r["route"], r["purpose"]) for r in rows if r["route"].startswith("/")]
    assert ("/alerts", "safeguarding_concern") in pages
    assert ("/alerts/{alert_id}/acknowledge", "safeguarding_concern") in pages
    assert_no_child_data_in_urls(journey)


def test_a_practitioner_records_their_involvement_raises_a_flag_and_finds_their_enquiries(
    site: tuple[str, str], browser: Any, factory: Factory, client: TestClient
) -> None:
    base, _issuer = site
    a_child_with_a_key_worker(factory, client)
    journey = new_journey(browser, base)
    page = journey.page
    sign_in_as(journey, base, "Dr Priya Shah", "ED attendance")
    page.get_by_label("NHS number").fill("999 291 4173")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{base}/enquiries/*")
    if page.get_by_role("button", name="Open this record").count():
        page.get_by_role("button", name="Open this record").first.click()
        page.wait_for_url(f"{base}/enquiries/*/children/*")
    entry = page.url
    page.get_by_role("link", name="Record my involvement").click()
    page.wait_for_url(f"{base}/enquiries/*/children/*/involvement")
    journey.accessible()
    page.get_by_role("button", name="Record my involvement").click()
    page.locator(".govuk-error-summary").wait_for()  # the same address: wait for the answer
    journey.accessible()  # the error summary and inline errors
    page.get_by_label("Your service").fill("Paediatric emergency")
    page.get_by_label("Another role").check()
    page.get_by_role("button", name="Record my involvement").click()
    page.wait_for_url(f"{base}/involvements/*")
    journey.accessible()
    assert "Paediatric emergency" in page.locator("main").inner_text()
    page.goto(entry)
    page.get_by_role("link", name="Raise a flag").click()
    page.wait_for_url(f"{base}/enquiries/*/children/*/flag")
    journey.accessible()
    assert page.get_by_label("Child protection plan").count() == 0  # not the ED's to raise
    page.get_by_role("button", name="Raise the flag").click()
    page.locator(".govuk-error-summary").wait_for()
    journey.accessible()
    page.get_by_label("Concern raised").check()
    page.get_by_label("Area of concern").select_option("parenting_capacity")
    page.get_by_role("button", name="Raise the flag").click()
    page.wait_for_url(f"{base}/flags/*")
    journey.accessible()
    page.get_by_role("link", name="My recent enquiries").click()
    page.wait_for_url(f"{base}/my-enquiries")
    journey.accessible()
    assert page.locator("main table tbody tr").count() == 1
    page.goto("/")
    journey.accessible()
    assert_no_child_data_in_urls(journey)


def tab_to(page: Any, focused: str, presses: int = 80) -> None:
    """Press Tab until the focused element is the one `focused` (JavaScript) describes."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => Boolean({focused})"):
            return
    raise AssertionError(f"Tab never reached: {focused}")


def test_the_key_worker_sees_and_acknowledges_the_alert_an_ed_doctors_look_up_raised(
    site: tuple[str, str], browser: Any, factory: Factory, client: TestClient
) -> None:
    """The whole of the first journey: the doctor signs in through the trust's provider
    and looks the child up by name, age and postcode on the pages; the child's key
    worker then signs in and finds that very look-up as an R1 alert naming the child,
    and acknowledges it with a note."""
    base, _issuer = site
    the_key_workers_child(factory, client, api_look_up=False)
    factory.organisation(
        type="emergency_department",
        code=ED_CODE,
        name="Ealing Hospital emergency department",
        contact_phone="020 7946 0500",
    )
    journey = new_journey(browser, base)
    page = journey.page
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Test NHS Trust").click()
    page.locator("input[name=login]").fill(DOCTOR)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # consent: continue
    page.wait_for_url(f"{base}/purpose")
    page.get_by_label("I am providing health care to the child").check()
    page.get_by_label("In a few words, why?").fill("ED attendance")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/search")
    page.get_by_label("Family name", exact=True).fill("Testchild")
    page.get_by_label("Or age in years").fill(str(age_today()))
    page.get_by_label("Postcode").fill("W5 2AA")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{base}/enquiries/*")
    if page.locator("h1").inner_text() == "Possible matches":
        page.get_by_role("button", name="Open this record").first.click()
        page.wait_for_url(f"{base}/enquiries/*/children/*")
    first_card = page.locator(".app-key-contact").first
    assert "Key worker" in first_card.inner_text()
    assert KEY_WORKER_PHONE in first_card.inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # at the trust's provider
    page.wait_for_url(f"{base}/sign-in*")

    sign_in_as(journey, base, "Sam Okafor", "Following up my alerts")
    page.get_by_role("link", name="My alerts").click()
    page.wait_for_url(f"{base}/alerts")
    journey.accessible()
    row = page.locator("#alert-list tbody tr").first
    assert "Aisha Testchild" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/alerts/*")
    journey.accessible()
    assert page.locator("#child-name").inner_text() == "Aisha Testchild"
    assert "Dr Test Doctor" in page.locator("#who-enquired").inner_text()
    page.get_by_label("What did you do? (optional)").fill("Rang the ED; child known to us")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{base}/alerts/*?acknowledged=1")
    journey.accessible()
    assert "Rang the ED; child known to us" in page.locator("#acknowledged").inner_text()
    acknowledged = [r for r in factory.audit_rows() if r["subject"] == "demo-key-worker"]
    assert any(r["action"] == "alert:inbox:acknowledge" for r in acknowledged), [
        r["action"] for r in acknowledged
    ]
    assert_no_child_data_in_urls(journey)


def test_signing_out_ends_the_session_at_the_trusts_provider_too(
    site: tuple[str, str], browser: Any, factory: Factory
) -> None:
    """On a shared workstation, the next person to press "Sign in with ..." after a
    sign-out must be asked who they are, not let through the provider as the doctor
    who just left: signing out goes through the provider's end-session endpoint
    (RP-initiated logout) and comes back to the signed-out page."""
    base, issuer = site
    factory.organisation(
        type="emergency_department", code=ED_CODE, name="Ealing Hospital emergency department"
    )
    journey = new_journey(browser, base)
    page = journey.page
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Test NHS Trust").click()
    page.locator("input[name=login]").fill(DOCTOR)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # consent: continue
    page.wait_for_url(f"{base}/purpose")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{issuer}/**")  # the provider asks to confirm
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{base}/sign-in?signed_out=signed_out")
    assert "You have signed out" in page.locator("main").inner_text()
    journey.accessible()
    assert not [c for c in page.context.cookies() if c["name"] == "__Host-session"]

    page.get_by_role("button", name="Sign in with Test NHS Trust").click()
    page.wait_for_url(f"{issuer}/**")
    assert page.locator("input[name=login]").is_visible()  # asked again, not let through
    actions = [r["action"] for r in factory.audit_rows() if r["subject"] == DOCTOR]
    assert actions == ["web:sign_in", "web:sign_out"]
