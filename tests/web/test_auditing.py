"""The auditor's pages, in-process: a person found by name, email or organisation and what
they looked at; who looked at a child; the six misuse reports; the trail's check (never
"intact" when nothing was checked); the serious-case-review report as a page, a PDF whose
text holds the summary and every event in order, and CSV and FHIR downloads. An auditor
sees their authority's part of the trail only; a practitioner is refused every page; each
search and report is itself an audit event."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from index_service.access.devkeys import mint_dev_token
from index_service.access.tokens import VerifiedClaims
from index_service.audit.retention import erase_personal
from index_service.audit.schemas import MisuseReportName
from index_service.audit.sealer import Sealer
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import DEV_ISSUER, Settings
from index_service.web import sessions
from tests.audit.conftest import seal_all
from tests.factories import EALING, HARINGEY, PURPOSE, VALID_NHS_NUMBER, Factory, child_payload
from tests.web import browser as real
from tests.web.test_pages import csrf, state_purpose
from tests.web.test_work import sign_in_as

DOCTOR = "Dr Priya Shah"  # the ed-doctor persona: DEMO-EAL-05, Ealing
MANAGER = "Dana Manager"
AUDITOR = "Robin Clarke"  # the auditor persona: DEMO-EAL-01, Ealing
TEACHER = "Hattie Bell"  # a Haringey school's practitioner


@dataclass
class Looked:
    child_id: str
    child_name: str


def _token(factory: Factory, subject: str, name: str, org: str, roles: list[str]) -> str:
    return mint_dev_token(
        factory.settings,
        subject=subject,
        name=name,
        email=f"{subject}@example.test",
        organisation=org,
        roles=roles,
    )


def _api(factory: Factory, subject: str, name: str, org: str, roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(factory, subject, name, org, roles)}", **PURPOSE}


def an_ealing_child_looked_at(factory: Factory, client: TestClient, web_app: FastAPI) -> Looked:
    """An Ealing child; the ED doctor (who has signed in to the pages once, so her email is
    in the trail) looks her up twice through the API, a Haringey teacher once."""
    manager = _api(factory, "eal-dm", MANAGER, "DEMO-EAL-01", ["data_manager"])
    created = client.post(
        "/v1/children",
        # The number traced: a look-up by it alone is a match (model v4).
        json=child_payload(responsible_authority=EALING, nhs_number_status="verified_trace"),
        headers=manager,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    factory.organisation(
        type="school", local_authority=HARINGEY, code="DEMO-HRY-11", name="Haringey Park School"
    )
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as doctor_web:
        sign_in_as(doctor_web, "ed-doctor")
    doctor = _api(factory, "demo-ed-doctor", DOCTOR, "DEMO-EAL-05", ["practitioner"])
    teacher = _api(factory, "hry-teacher", TEACHER, "DEMO-HRY-11", ["practitioner"])
    for headers in (doctor, teacher, doctor):
        found = client.post("/v1/enquiries", json={"nhs_number": VALID_NHS_NUMBER}, headers=headers)
        assert found.status_code in (200, 201), found.text
    name = body["names"][0]
    return Looked(child_id=body["id"], child_name=f"{name['given_names']} {name['family_name']}")


def sign_in_with(client: TestClient, factory: Factory, org: str, roles: list[str]) -> None:
    """A session for someone no persona is (a Haringey auditor), as a sign-in would make."""
    claims = VerifiedClaims(
        issuer=DEV_ISSUER,
        subject=f"auditor-{org}",
        name="Ola Auditor",
        email="ola@example.test",
        organisation_code=org,
        roles=roles,
    )
    with factory.db.transaction() as session:
        token = sessions.start(session=session, claims=claims, signed_in_with="development")
    client.cookies.set(sessions.SESSION_COOKIE, token, domain="testserver.local")
    client.cookies.set(sessions.SESSION_COOKIE, token)


def rows(factory: Factory, route: str) -> list[dict[str, Any]]:
    return [r for r in factory.audit_rows() if r["route"] == route]


def people_links(html: str) -> list[str]:
    return re.findall(r'href="(/audit/people/activity\?[^"]+)"', html)


@pytest.fixture
def looked(
    factory: Factory, client: TestClient, web_app: FastAPI, personas_organisations: dict[str, str]
) -> Looked:
    return an_ealing_child_looked_at(factory, client, web_app)


def test_an_auditor_finds_a_person_by_name_email_or_organisation_and_sees_what_they_did(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    sign_in_as(browser_client, "auditor")
    home = browser_client.get("/audit")
    assert home.status_code == 200, home.text
    assert 'href="/audit"' in home.text  # in the menu
    for words in ("shah", "priya.shah@ed", "emergency department"):
        found = browser_client.get("/audit/people", params={"q": words})
        assert found.status_code == 200, found.text
        assert DOCTOR in found.text, words
    searched = rows(factory, "/audit/people")
    # Under the personal key an administrator's people search uses: erased at retention.
    assert [r["detail"]["person_search"] for r in searched] == [
        "shah",
        "priya.shah@ed",
        "emergency department",
    ]
    assert {(r["action"], r["outcome"]) for r in searched} == {("audit:event:search", "success")}
    # The pages' sign-in and the API's looks are one person: one link.
    [link] = [href for href in people_links(found.text) if "demo-ed-doctor" in href]
    activity = browser_client.get(link.replace("&amp;", "&"))
    assert activity.status_code == 200, activity.text
    assert f"What {DOCTOR} did" in activity.text
    # In plain words (audit/actions.py), counted and each of the two, never as codes.
    assert activity.text.count("made an enquiry") >= 3
    assert "made an enquiry that matched" in activity.text
    assert "child:enquiry:create" not in activity.text
    assert re.search(r"Children named: <strong>1</strong>", activity.text)
    [row] = rows(factory, "/audit/people/activity")
    assert row["action"] == "audit:report:read"
    assert row["detail"]["filter"]["subject"] == "demo-ed-doctor"
    # A person who has only ever used the API (the teacher's system) is found by the email
    # of their token, kept with their events in the audit row's detail.
    by_token = browser_client.get("/audit/people", params={"q": "hry-teacher@example"})
    assert TEACHER in by_token.text
    assert DOCTOR not in by_token.text
    nobody = browser_client.get("/audit/people", params={"q": "Nobody Atall"})
    assert "Nobody in your part of the audit trail matches" in nobody.text
    short = browser_client.get("/audit/people", params={"q": "x"})
    assert short.status_code == 422
    assert "govuk-error-summary" in short.text


def test_who_looked_at_a_child_and_an_auditor_sees_only_their_authoritys_part(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    sign_in_as(browser_client, "auditor")
    shown = browser_client.get("/audit/child", params={"child_id": looked.child_id})
    assert shown.status_code == 200, shown.text
    assert DOCTOR in shown.text
    assert TEACHER in shown.text  # not our people, but our child
    assert "made an enquiry" in shown.text
    assert "registered a child&#39;s record" in shown.text
    assert "child:enquiry:create" not in shown.text
    [row] = rows(factory, "/audit/child")
    assert row["action"] == "audit:report:read"
    assert [str(c) for c in row["child_ids"]] == [looked.child_id]
    bad = browser_client.get("/audit/child", params={"child_id": "not-an-id"})
    assert bad.status_code == 422

    browser_client.post("/sign-out", data={"csrf_token": csrf(shown.text)})
    sign_in_with(browser_client, factory, "DEMO-HRY-01", ["auditor"])
    theirs = browser_client.get("/audit/child", params={"child_id": looked.child_id})
    assert theirs.status_code == 404  # Ealing's child: not Haringey's to report on
    review = browser_client.get(f"/audit/children/{looked.child_id}/review")
    assert review.status_code == 404
    assert browser_client.get(f"/audit/children/{looked.child_id}/events.csv").status_code == 404
    found = browser_client.get("/audit/people", params={"q": "e"})
    assert found.status_code == 422
    doctor = browser_client.get("/audit/people", params={"q": "Shah"})
    assert DOCTOR not in doctor.text  # an Ealing doctor's look at an Ealing child
    teacher = browser_client.get("/audit/people", params={"q": "Bell"})
    assert TEACHER in teacher.text  # Haringey's own people


def test_an_auditor_finds_the_child_by_a_search_as_an_enquiry_and_sees_who_looked(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    """No id needed: names, date of birth and postcode, as an enquiry, with the auditor's
    purpose; the candidates are their authority's children only; the search is audited
    with its criteria and the children shown; it is no enquiry (nothing is opened)."""
    sign_in_as(browser_client, "auditor")
    unstated = browser_client.get("/audit/child/find")
    assert unstated.headers["location"] == "/purpose?next=/audit/child/find"
    state_purpose(browser_client, "audit")
    form = browser_client.get("/audit/child/find")
    assert form.status_code == 200, form.text
    assert "Find the child to audit" in form.text
    assert 'action="/audit/child/find"' in form.text
    search = {
        "given_names": "Aisha",
        "family_name": "Testchild",
        "dob_day": "11",
        "dob_month": "2",
        "dob_year": "2016",
        "address_line1": "1 Synthetic Row",
        "town": "London",
        "postcode": "W5 2AA",
    }
    assert 'name="address_line1"' in form.text  # the look-up form's address, as a search's
    enquiries_before = factory.count("enquiry")
    found = browser_client.post("/audit/child/find", data={**search, "csrf_token": csrf(form.text)})
    assert found.status_code == 200, found.text
    [link] = re.findall(r'href="(/audit/child\?child_id=[0-9a-f-]+)"', found.text)
    assert link == f"/audit/child?child_id={looked.child_id}"
    assert looked.child_name in found.text
    assert "W5" in found.text
    assert factory.count("enquiry") == enquiries_before  # an auditor's search is no enquiry
    [row] = rows(factory, "/audit/child/find")
    assert (row["action"], row["outcome"], row["method"]) == (
        "audit:report:read",
        "success",
        "POST",
    )
    assert row["purpose"] is not None
    # Under the personal key an enquiry's criteria use (`audit/chain.py`): never chained.
    assert "filter" not in row["detail"]
    criteria = row["detail"]["criteria"]
    assert (criteria["family_name"], criteria["address_line1"], criteria["town"]) == (
        "Testchild",
        "1 Synthetic Row",
        "London",
    )
    assert [str(c) for c in row["child_ids"]] == [looked.child_id]
    who = browser_client.get(link)
    assert DOCTOR in who.text
    assert TEACHER in who.text

    too_little = browser_client.post(
        "/audit/child/find", data={"family_name": "Testchild", "csrf_token": csrf(form.text)}
    )
    assert too_little.status_code == 400
    assert "Give more to search on" in too_little.text
    nobody = browser_client.post(
        "/audit/child/find",
        data={
            **search,
            "given_names": "Zebedee",
            "family_name": "Nobodyelse",
            "csrf_token": csrf(form.text),
        },
    )
    assert nobody.status_code == 200
    assert 'id="none"' in nobody.text
    assert browser_client.post("/audit/child/find", data=search).status_code == 403  # CSRF

    browser_client.post("/sign-out", data={"csrf_token": csrf(form.text)})
    sign_in_with(browser_client, factory, "DEMO-HRY-01", ["auditor"])
    state_purpose(browser_client, "audit")
    theirs = browser_client.get("/audit/child/find")
    assert theirs.status_code == 200, theirs.text
    elsewhere = browser_client.post(
        "/audit/child/find", data={**search, "csrf_token": csrf(theirs.text)}
    )
    assert elsewhere.status_code == 200
    assert looked.child_id not in elsewhere.text  # Ealing's child: not Haringey's to audit
    assert looked.child_name not in elsewhere.text


SEARCH = {
    "given_names": "Aisha",
    "family_name": "Testchild",
    "dob_day": "11",
    "dob_month": "2",
    "dob_year": "2016",
    "postcode": "W5 2AA",
}


def test_a_shielded_child_found_by_an_auditor_shows_only_that_a_record_exists(
    browser_client: TestClient, client: TestClient, factory: Factory, looked: Looked
) -> None:
    """The auditor's search shows candidates as every search does
    (`access/views.summary_fields`): of a shielded child, not its name, date of birth or
    district, only that a record exists and whose it is; and the access is kept for the
    data manager's alert (R7), as an enquiry's would be."""
    manager = _api(factory, "eal-dm", MANAGER, "DEMO-EAL-01", ["data_manager"])
    etag = client.get(f"/v1/children/{looked.child_id}", headers=manager).headers["ETag"]
    shield = client.put(
        f"/v1/children/{looked.child_id}/shield", headers={**manager, "If-Match": etag}
    )
    assert shield.status_code == 200, shield.text
    accesses_before = factory.count("shielded_access")
    sign_in_as(browser_client, "auditor")
    state_purpose(browser_client, "audit")
    form = browser_client.get("/audit/child/find")
    found = browser_client.post("/audit/child/find", data={**SEARCH, "csrf_token": csrf(form.text)})
    assert found.status_code == 200, found.text
    [link] = re.findall(r'href="(/audit/child\?child_id=[0-9a-f-]+)"', found.text)
    assert link == f"/audit/child?child_id={looked.child_id}"  # the auditor can still choose it
    assert "A shielded record" in found.text
    for withheld in ("Aisha", "Testchild", "W5", "2016"):
        assert withheld not in found.text, withheld
    with factory.db.session() as session:
        kept = session.execute(
            text("SELECT child_id, action, organisation_code FROM shielded_access")
        ).all()
    assert factory.count("shielded_access") == accesses_before + 1
    assert (str(kept[-1][0]), kept[-1][1], kept[-1][2]) == (
        looked.child_id,
        "audit:report:read",
        "DEMO-EAL-01",
    )


def test_an_auditors_searches_are_erased_at_retention_and_the_trail_still_verifies(
    browser_client: TestClient, factory: Factory, looked: Looked, sealer_db: Database
) -> None:
    """What an auditor searched on (a child's names, birth date and postcode; a person's
    name) is personal data: kept under the trail's personal keys, it is erased when its
    retention period ends and the chain verifies before and after."""
    sign_in_as(browser_client, "auditor")
    state_purpose(browser_client, "audit")
    form = browser_client.get("/audit/child/find")
    found = browser_client.post("/audit/child/find", data={**SEARCH, "csrf_token": csrf(form.text)})
    assert found.status_code == 200, found.text
    assert browser_client.get("/audit/people", params={"q": "Shah"}).status_code == 200
    [child_search] = rows(factory, "/audit/child/find")
    [people_search] = rows(factory, "/audit/people")
    assert child_search["detail"]["criteria"]["family_name"] == "Testchild"
    assert people_search["detail"]["person_search"] == "Shah"

    def sealed() -> None:
        seal_all(sealer_db)
        Sealer(sealer_db, factory.settings).checkpoint(utcnow())

    sealed()
    assert run_verify(db=factory.db, settings=factory.settings).ok

    later = utcnow() + timedelta(days=factory.settings.audit_personal_retention_days, minutes=1)
    assert erase_personal(factory.db, factory.settings, later) >= 2
    by_id = {r["id"]: r for r in factory.audit_rows()}
    for searched in (child_search, people_search):
        erased = by_id[searched["id"]]
        assert erased["personal_salt"] is None, searched["route"]
        assert not {"criteria", "person_search", "filter"} & set(erased["detail"])
        for personal in ("Testchild", "Aisha", "2016-02-11", "W5 2AA", "Shah"):
            assert personal not in json.dumps(erased["detail"]), personal
    assert by_id[child_search["id"]]["detail"]["returned"] == 1  # the rest stays
    sealed()
    after = run_verify(db=factory.db, settings=factory.settings)
    assert after.ok, after.problems


def test_a_practitioner_is_refused_every_auditor_page_and_each_refusal_is_recorded(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    sign_in_as(browser_client, "ed-doctor")
    home = browser_client.get("/")
    assert 'href="/audit"' not in home.text
    child = looked.child_id
    for path, route in (
        ("/audit", "/audit"),
        ("/audit/child", "/audit/child"),
        ("/audit/child/find", "/audit/child/find"),
        ("/audit/people?q=Shah", "/audit/people"),
        ("/audit/reports/out-of-hours", "/audit/reports/{name}"),
        ("/audit/verify", "/audit/verify"),
        (f"/audit/children/{child}/review", "/audit/children/{child_id}/review"),
        (f"/audit/children/{child}/review.pdf", "/audit/children/{child_id}/review.pdf"),
        (f"/audit/children/{child}/events.csv", "/audit/children/{child_id}/events.csv"),
        (
            f"/audit/children/{child}/events.fhir.json",
            "/audit/children/{child_id}/events.fhir.json",
        ),
    ):
        refused = browser_client.get(path)
        assert refused.status_code == 403, path
        [row] = rows(factory, route)
        assert (row["outcome"], row["reason"]) == ("refused", "permission_denied")
    assert (
        browser_client.post("/audit/verify", data={"csrf_token": csrf(home.text)}).status_code
        == 403
    )


def test_the_six_misuse_reports_have_plain_titles_and_are_each_recorded(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    sign_in_as(browser_client, "auditor")
    home = browser_client.get("/audit")
    titles = re.findall(r'href="/audit/reports/([a-z-]+)">([^<]+)</a>', home.text)
    assert [t[0] for t in titles] == [r.value for r in MisuseReportName]
    for name, title in titles:
        shown = browser_client.get(f"/audit/reports/{name}", params={"from": "2026-01-01"})
        assert shown.status_code == 200, shown.text
        assert f">{title}</h1>" in shown.text.replace("&#39;", "'")
    recorded = rows(factory, "/audit/reports/{name}")
    assert [r["detail"]["report"] for r in recorded] == [r.value for r in MisuseReportName]
    assert browser_client.get("/audit/reports/nothing-like-it").status_code == 404
    assert browser_client.get("/audit/reports/out-of-hours?from=31-12-2026").status_code == 422


def test_the_trail_check_never_says_intact_when_nothing_was_checked(
    browser_client: TestClient, factory: Factory, looked: Looked, sealer_db: Database
) -> None:
    sign_in_as(browser_client, "auditor")
    form = browser_client.get("/audit/verify")
    assert form.status_code == 200, form.text
    assert "Newest checkpoint" in form.text
    no_token = browser_client.post("/audit/verify", data={"walk": "full"})
    assert no_token.status_code == 403
    quick = browser_client.post(
        "/audit/verify", data={"walk": "incremental", "csrf_token": csrf(form.text)}
    )
    assert quick.status_code == 200, quick.text
    checked = int(re.search(r"Events checked</dt><dd[^>]*>(\d+)", quick.text).group(1))  # type: ignore[union-attr]
    if checked == 0:
        assert "Intact" not in quick.text
        assert "0 events were checked" in quick.text
    seal_all(sealer_db)
    Sealer(sealer_db, factory.settings).checkpoint(utcnow())
    full = browser_client.post(
        "/audit/verify", data={"walk": "full", "csrf_token": csrf(form.text)}
    )
    checked = int(re.search(r"Events checked</dt><dd[^>]*>(\d+)", full.text).group(1))  # type: ignore[union-attr]
    assert checked > 0
    assert "Intact" in full.text, full.text.split("Result")[1][:1500]
    assert f"{checked} events checked, none altered" in full.text
    verified = rows(factory, "/audit/verify")
    assert [r["method"] for r in verified] == ["GET", "POST", "POST", "POST"]
    assert verified[-1]["detail"]["ok"] is True


def test_the_serious_case_review_report_as_a_page_a_pdf_and_downloads(
    browser_client: TestClient, factory: Factory, looked: Looked
) -> None:
    from pypdf import PdfReader

    sign_in_as(browser_client, "auditor")
    base = f"/audit/children/{looked.child_id}"
    page = browser_client.get(f"{base}/review")
    assert page.status_code == 200, page.text
    assert looked.child_name in page.text
    assert '<link rel="stylesheet" href="/audit/review.css">' in page.text
    assert browser_client.get("/audit/review.css").headers["content-type"].startswith("text/css")
    summary = "4 events by 3 people from 3 agencies; 0 alerts raised."
    assert summary in re.sub(r"\s+", " ", page.text), page.text.split('id="summary"')[1][:300]
    order = [MANAGER, DOCTOR, TEACHER, DOCTOR]  # the record made, then the three looks
    events = page.text.split('id="events"')[1]
    assert re.findall(rf"({MANAGER}|{DOCTOR}|{TEACHER})", events) == order
    assert re.findall(r"registered a child&#39;s record|made an enquiry that matched", events) == [
        "registered a child&#39;s record",
        *["made an enquiry that matched"] * 3,
    ]
    assert "child:" not in events  # no action codes

    pdf = browser_client.get(f"{base}/review.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = re.sub(r"\s+", " ", text)
    assert looked.child_name in text
    # The page just shown is in the PDF: an auditor's report naming the child is a look too.
    assert "5 events by 4 people from 3 agencies; 0 alerts raised." in text
    listed = text.split("Every event, in order")[1]
    found = re.findall(rf"({MANAGER}|{DOCTOR}|{TEACHER}|{AUDITOR})", listed)
    assert found == [*order, AUDITOR]
    assert listed.count("made an enquiry that matched") == 3
    assert "read an audit report" in listed
    assert "child:" not in listed
    assert "audit:report" not in listed

    exported = browser_client.get(f"{base}/events.csv")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(lines) == 6  # and the PDF's
    fhir = browser_client.get(f"{base}/events.fhir.json")
    assert json.loads(fhir.text)["resourceType"] == "Bundle"
    recorded = [r for r in factory.audit_rows() if r["route"].startswith("/audit/children/")]
    assert [(r["action"], r["detail"].get("format")) for r in recorded] == [
        ("audit:report:read", None),
        ("audit:report:read", "pdf"),
        ("audit:event:export", "csv"),
        ("audit:event:export", "fhir"),
    ]
    assert all([str(c) for c in r["child_ids"]] == [looked.child_id] for r in recorded)


def test_in_a_browser_an_auditor_finds_a_practitioner_by_name_and_produces_the_review(
    settings: Settings,
    browser: Any,
    factory: Factory,
    client: TestClient,
    web_app: FastAPI,
    personas_organisations: dict[str, str],
    tmp_path: Path,
) -> None:
    """Against the served app: the auditor finds the doctor by name, sees what she looked
    at, follows the child to who looked at her and to the review, and downloads its PDF;
    axe finds nothing on any of these pages."""
    from pypdf import PdfReader

    looked = an_ealing_child_looked_at(factory, client, web_app)
    port = real.free_port()
    base = f"http://127.0.0.1:{port}"
    served = real.serve(settings, port)
    try:
        context = browser.new_context(
            base_url=base, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        real.loopback_only(context)
        journey = real.Journey(page=context.new_page(), base=base)
        page = journey.page
        page.goto("/sign-in/as")
        page.get_by_role("button", name=f"Sign in as {AUDITOR}").click()
        page.wait_for_url(f"{base}/purpose")
        page.get_by_role("link", name="Audit").click()
        page.wait_for_url(f"{base}/audit")
        journey.accessible()
        page.get_by_role("link", name="What did a person look at").click()
        page.get_by_role("button", name="Find").click()
        page.wait_for_url(f"{base}/audit/people?q=")
        journey.accessible()
        page.get_by_label("Name, email or organisation").fill("x")
        page.get_by_role("button", name="Find").click()
        page.locator(".govuk-error-summary").wait_for()
        journey.accessible()
        page.get_by_label("Name, email or organisation").fill("priya")
        page.get_by_role("button", name="Find").click()
        page.wait_for_url(f"{base}/audit/people?q=priya")
        found = page.locator("main").inner_text()
        assert DOCTOR in found, found
        page.locator("main table a", has_text=DOCTOR).first.click()
        page.wait_for_url(f"{base}/audit/people/activity?*")
        journey.accessible()
        assert "made an enquiry that matched" in page.locator("#events").inner_text()
        assert page.locator("#distinct-children").inner_text() == "Children named: 1"
        page.locator("#events").get_by_role("link").first.click()
        page.wait_for_url(f"{base}/audit/child?child_id={looked.child_id}")
        journey.accessible()
        assert TEACHER in page.locator("main").inner_text()
        page.get_by_role("link", name="Serious case review report for this child").click()
        page.wait_for_url(f"{base}/audit/children/{looked.child_id}/review")
        journey.accessible()
        assert page.locator("#child-name").inner_text() == looked.child_name
        page.emulate_media(media="print")
        assert not page.locator(".govuk-header").is_visible()  # the print stylesheet
        page.emulate_media(media="screen")
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download this report as a PDF").click()
        saved = tmp_path / "review.pdf"
        downloading.value.save_as(saved)
        text = " ".join(p.extract_text() for p in PdfReader(saved).pages)
        assert "events by" in text
        assert looked.child_name in text
        page.goto("/audit/child")
        page.get_by_role("link", name="Find the child by name").click()
        page.wait_for_url(f"{base}/purpose?next=/audit/child/find")
        page.get_by_label("Auditing how the index has been used").check()
        page.get_by_label("In a few words, why?").fill("Case review")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{base}/audit/child/find")
        journey.accessible()
        page.get_by_role("button", name="Search").click()
        page.locator(".govuk-error-summary").wait_for()
        journey.accessible()
        page.get_by_label("Given names", exact=True).fill("Aisha")
        page.get_by_label("Family name", exact=True).fill("Testchild")
        page.locator("#dob_day").fill("11")
        page.locator("#dob_month").fill("2")
        page.locator("#dob_year").fill("2016")
        page.get_by_role("button", name="Search").click()
        page.locator("#candidates").wait_for()
        assert page.url == f"{base}/audit/child/find"  # no child's details in the address
        journey.accessible()
        page.locator("#candidates").get_by_role("link", name=looked.child_name).click()
        page.wait_for_url(f"{base}/audit/child?child_id={looked.child_id}")
        assert DOCTOR in page.locator("main").inner_text()
        for report in MisuseReportName:
            page.goto(f"/audit/reports/{report.value}")
            journey.accessible()
        page.goto("/audit/verify")
        journey.accessible()
        page.get_by_role("button", name="Check now").click()
        page.locator("#checked").wait_for()
        journey.accessible()
        context.close()
    finally:
        real.stop(served.process)
