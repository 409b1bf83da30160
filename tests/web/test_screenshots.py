"""`make screenshots`: each page at 1280px and 375px wide, into screenshots/
(git-ignored), for people to look at: the look-up journey, a practitioner's own pages
(record my involvement, raise a flag, my recent enquiries), the key worker's (my alerts,
an alert, my children), the designated manager's (team inbox, enquiry-only contacts) and
the auditor's (audit, people, who looked, the child found by a search, the review on screen
and for print, a report, the check), the data manager's merge (the look-up, the two
records side by side, the merge and its undo) and the administrator's (organisations,
identity providers, suspensions, webhook endpoints). Runs only when SCREENSHOTS is set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.settings import Settings
from tests.factories import HARINGEY, VALID_NHS_NUMBER, Factory
from tests.web import browser as real
from tests.web.scenario import a_child_with_a_key_worker, age_today

OUT = Path(__file__).resolve().parents[2] / "screenshots"
WIDTHS = (1280, 375)
ADMIN_PAGES = (
    "/admin/organisations",
    "/admin/organisations/new",
    "/admin/identity-providers",
    "/admin/identity-providers/new",
    "/admin/suspensions?person=Priya",
    "/admin/webhooks",
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("SCREENSHOTS"), reason="make screenshots sets SCREENSHOTS"
)


def test_screenshots_of_every_page(
    settings: Settings, browser: Any, factory: Factory, client: TestClient
) -> None:
    a_child_with_a_key_worker(factory, client)
    factory.organisation(  # the key worker's and the designated manager's
        type="childrens_social_care",
        local_authority=HARINGEY,
        code="DEMO-HRY-01",
        name="Haringey Children's Services",
        contact_phone="020 7946 0300",
    )
    factory.organisation(type="index_operator", code="DEMO-OPS", name="Index operator")
    port = real.free_port()
    served = real.serve(settings, port)
    OUT.mkdir(exist_ok=True)
    try:
        for width in WIDTHS:
            context = browser.new_context(
                base_url=served.base, viewport={"width": width, "height": 800}
            )
            real.loopback_only(context)
            _walk(context.new_page(), width)
            context.close()
    finally:
        real.stop(served.process)


def _walk(page: Any, width: int) -> None:
    def shot(name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.evaluate("async () => { await document.fonts.ready; }")
        page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)

    page.goto("/sign-in")
    shot("01-sign-in")
    page.goto("/sign-in/as")
    shot("02-sign-in-as")
    page.get_by_role("button", name="Sign in as Dr Priya Shah").click()
    page.get_by_role("button", name="Continue").click()
    shot("03-purpose-error")
    page.get_by_label("I am providing health care to the child").check()
    page.get_by_label("In a few words, why?").fill("ED attendance")
    page.get_by_role("button", name="Continue").click()
    shot("04-search")
    page.get_by_label("Family name", exact=True).fill("Smith")
    page.get_by_role("button", name="Search").click()
    shot("05-search-error")
    page.get_by_label("Family name", exact=True).fill("Testchild")
    page.get_by_label("Or age in years").fill(str(age_today()))
    page.get_by_label("Postcode").fill("W5 2AA")
    page.get_by_role("button", name="Search").click()
    shot("06-results")
    if page.get_by_role("button", name="Open this record").count():
        page.get_by_role("button", name="Open this record").first.click()
        shot("07-record")
    entry = page.url
    page.get_by_role("link", name="Record my involvement").click()
    page.get_by_role("button", name="Record my involvement").click()
    shot("11-involvement-error")
    page.get_by_label("Your service").fill("Paediatric emergency")
    page.get_by_label("Another role").check()
    page.get_by_role("button", name="Record my involvement").click()
    shot("12-involvement-recorded")
    page.goto(entry)
    page.get_by_role("link", name="Raise a flag").click()
    shot("13-flag")
    page.get_by_role("button", name="Raise the flag").click()
    shot("14-flag-error")
    page.get_by_label("Concern raised").check()
    page.get_by_label("Area of concern").select_option("parenting_capacity")
    page.get_by_role("button", name="Raise the flag").click()
    shot("15-flag-raised")
    page.goto("/search")
    page.get_by_label("Given names", exact=True).fill("Zara")
    page.get_by_label("Family name", exact=True).fill("Unknownperson")
    page.get_by_label("Day", exact=True).fill("3")
    page.get_by_label("Month", exact=True).fill("4")
    page.get_by_label("Year", exact=True).fill("2015")
    page.get_by_role("button", name="Search").click()
    shot("08-not-found")
    page.goto("/my-enquiries")
    shot("16-my-enquiries")
    page.goto("/")
    shot("17-home")
    page.goto("/help")
    shot("09-help")
    page.get_by_role("button", name="Sign out").click()
    shot("10-signed-out")
    for persona, pages in (
        ("Sam Okafor", ("/alerts", "/my-children")),
        ("Morgan Ellis", ("/inbox", "/enquiry-contacts")),
        ("Dana Manager", ("/records", "/records/gaps", "/records/overdue", "/records/new")),
    ):
        page.goto("/sign-in/as")
        page.get_by_role("button", name=f"Sign in as {persona}").click()
        page.get_by_label("I am worried about a child's safety or welfare").check()
        page.get_by_label("In a few words, why?").fill("My alerts")
        page.get_by_role("button", name="Continue").click()
        for address in pages:
            page.goto(address)
            shot(f"20-{address.strip('/').replace('/', '-')}")
            opened = page.locator('a[href^="/alerts/"]')
            if opened.count():
                opened.first.click()
                shot("21-alert")
        page.get_by_role("button", name="Sign out").click()
    page.goto("/sign-in/as")  # the administrator's pages
    page.get_by_role("button", name="Sign in as Ash Admin").click()
    for address in ADMIN_PAGES:
        page.goto(address)
        shot("40-" + address.strip("/").replace("/", "-").replace("?person=", "-"))
    page.get_by_role("button", name="Sign out").click()


def test_screenshots_of_the_auditors_pages(
    settings: Settings,
    browser: Any,
    factory: Factory,
    client: TestClient,
    web_app: Any,
    personas_organisations: dict[str, str],
) -> None:
    """The auditor's pages (Robin Clarke, Ealing), on a child the ED doctor looked up."""
    from tests.web.test_auditing import an_ealing_child_looked_at

    looked = an_ealing_child_looked_at(factory, client, web_app)
    port = real.free_port()
    served = real.serve(settings, port)
    OUT.mkdir(exist_ok=True)
    review = f"/audit/children/{looked.child_id}/review"
    pages = (
        ("30-audit", "/audit"),
        ("31-audit-people", "/audit/people?q=priya"),
        ("32-audit-child", f"/audit/child?child_id={looked.child_id}"),
        ("33-audit-review", review),
        ("34-audit-report", "/audit/reports/out-of-hours"),
        ("35-audit-verify", "/audit/verify"),
    )
    try:
        for width in WIDTHS:
            context = browser.new_context(
                base_url=served.base, viewport={"width": width, "height": 800}
            )
            real.loopback_only(context)
            page = context.new_page()
            page.goto("/sign-in/as")
            page.get_by_role("button", name="Sign in as Robin Clarke").click()
            page.wait_for_url("**/purpose")
            for name, address in pages:
                page.goto(address)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)
            page.goto("/audit/people?q=priya")
            page.locator("main table a").first.click()
            page.wait_for_url("**/audit/people/activity?*")
            page.screenshot(path=str(OUT / f"36-audit-person-{width}.png"), full_page=True)
            page.goto("/purpose?next=/audit/child/find")
            page.get_by_label("Auditing how the index has been used").check()
            page.get_by_label("In a few words, why?").fill("Case review")
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url("**/audit/child/find")
            page.screenshot(path=str(OUT / f"38-audit-child-find-{width}.png"), full_page=True)
            page.locator("#nhs_number").fill(VALID_NHS_NUMBER)
            page.get_by_role("button", name="Search").click()
            page.locator("#candidates").wait_for()
            page.screenshot(path=str(OUT / f"39-audit-child-found-{width}.png"), full_page=True)
            page.goto(review)
            page.emulate_media(media="print")
            page.screenshot(path=str(OUT / f"37-audit-review-print-{width}.png"), full_page=True)
            context.close()
    finally:
        real.stop(served.process)


def test_screenshots_of_the_merge_pages(
    settings: Settings, browser: Any, factory: Factory, client: TestClient
) -> None:
    """A data manager merges two entries of one child and undoes it: the look-up, the
    records side by side, the merge's page and the undo's reason."""
    from tests.web.test_merges import two_entries
    from tests.web.test_records import _signed_in as signed_in

    scenario, second = two_entries(factory, client)
    first = scenario.child_id
    served = real.serve(settings, real.free_port(), SERVE_WORKERS="1")
    OUT.mkdir(exist_ok=True)
    try:
        page = signed_in(browser, served.base).page
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"/records/{first}/merge")
            page.screenshot(path=str(OUT / f"50-merge-find-{width}.png"), full_page=True)
            page.goto(f"/records/{first}/merge/{second}")
            page.screenshot(path=str(OUT / f"51-merge-compare-{width}.png"), full_page=True)
        page.get_by_role("button", name="Merge these records").click()
        page.wait_for_url("**/merges/*")
        merged = page.url
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(merged)
            page.screenshot(path=str(OUT / f"52-merge-done-{width}.png"), full_page=True)
        page.get_by_role("button", name="Undo the merge").click()
        page.wait_for_selector("text=Say why the merge is being undone")
        page.screenshot(path=str(OUT / "53-merge-undo-reason-375.png"), full_page=True)
    finally:
        real.stop(served.process)
