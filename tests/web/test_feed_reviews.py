"""The feed review queue as pages, in-process: the data manager's open feed rows with who
sent them, when, why (in plain words), the names and date of birth as sent and the
candidates as links to their records; each decision (the same child as a candidate, a
different child, ignore) POSTed with CSRF, resolved by the API's service, audited with
the session's purpose and confirmed by a banner; a row decided already or a candidate
not chosen said in plain words; another authority's rows unseen and unreachable; anyone
but a data manager refused; the count linked from /records."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from index_service.feeds.models import FeedReview
from index_service.settings import Settings
from tests.factories import EALING, HARINGEY, Factory, other_child
from tests.web import browser as real
from tests.web.scenario import a_child_with_a_key_worker
from tests.web.test_pages import csrf
from tests.web.test_records import _signed_in as signed_in
from tests.web.test_records import assert_one_row, signed_in_data_manager
from tests.web.test_work import page_rows, sign_in_as

ROUTE = "/records/reviews/{review_id}"


def queued(
    factory: Factory,
    candidates: list[str],
    *,
    authority: str = EALING,
    reason: str = "possible_match",
    given_names: str = "Zara",
) -> str:
    """A feed row the matcher could not decide, as `feeds/service.py` queues one."""
    record = other_child(responsible_authority=authority)
    record["names"] = [{"kind": "legal", "given_names": given_names, "family_name": "Feedrow"}]
    review = FeedReview(
        feed_id=uuid.uuid4(),
        organisation_code="FEEDORG1",
        source_record_id="S-1",
        responsible_authority=authority,
        record={"record": record, "groups": ["names"]},
        candidate_ids=[uuid.UUID(c) for c in candidates],
        reason=reason,
    )
    with factory.db.transaction() as session:
        session.add(review)
    return str(review.id)


def stored(factory: Factory, review_id: str) -> FeedReview:
    with factory.db.session() as session:
        review = session.exec(select(FeedReview).where(FeedReview.id == uuid.UUID(review_id))).one()
        session.expunge(review)
        return review


def decide(client: TestClient, review_id: str, decision: str) -> tuple[int, str]:
    page = client.get("/records/reviews")
    sent = client.post(
        f"/records/reviews/{review_id}",
        data={"decision": decision, "csrf_token": csrf(page.text)},
    )
    if sent.status_code != 303:
        return sent.status_code, sent.text
    assert sent.headers["location"].startswith("/records/reviews?done=")
    return 303, client.get(sent.headers["location"]).text


def test_the_list_shows_the_row_its_reason_and_its_candidates_and_is_audited(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    review_id = queued(factory, [child_id])
    signed_in_data_manager(browser_client)

    home = browser_client.get("/records")
    assert 'href="/records/reviews"' in home.text
    assert "Feed rows waiting for a decision (1)" in home.text

    shown = browser_client.get("/records/reviews")
    assert shown.status_code == 200, shown.text
    assert "Zara Feedrow" in shown.text
    assert "FEEDORG1" in shown.text
    assert "not closely enough to be sure" in shown.text
    assert f'href="/records/{child_id}"' in shown.text
    assert f'action="/records/reviews/{review_id}"' in shown.text
    assert f'value="same_child:{child_id}"' in shown.text
    row = assert_one_row(factory, "/records/reviews", "child:feed:review")
    assert child_id in str(row["child_ids"])


def test_the_same_child_updates_the_candidate_and_is_audited_with_the_purpose(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    review_id = queued(factory, [child_id])
    signed_in_data_manager(browser_client)
    status, text = decide(browser_client, review_id, f"same_child:{child_id}")
    assert status == 303, text
    assert "The row was added to the child&#39;s record" in text
    assert "Zara Feedrow" not in text
    review = stored(factory, review_id)
    assert (review.status, str(review.child_id)) == ("same_child", child_id)
    row = assert_one_row(factory, ROUTE, "child:feed:review", "POST")
    assert child_id in str(row["child_ids"])
    assert row["detail"]["decision"] == "same_child"


def test_a_different_child_makes_a_new_entry_and_ignore_changes_nothing(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    different = queued(factory, [child_id])
    ignored = queued(factory, [child_id], reason="several_rows_for_one_child", given_names="Yara")
    signed_in_data_manager(browser_client)
    assert "more than one row for this child" in browser_client.get("/records/reviews").text

    status, text = decide(browser_client, different, "different_child")
    assert status == 303, text
    assert "A new entry was made from the row" in text
    made = stored(factory, different)
    assert made.status == "different_child"
    assert made.child_id is not None
    assert str(made.child_id) != child_id
    new_record = browser_client.get(f"/records/{made.child_id}")
    assert new_record.status_code == 200
    assert "Zara" in new_record.text

    status, text = decide(browser_client, ignored, "ignored")
    assert status == 303, text
    assert "The row was ignored" in text
    assert "No rows are waiting for a decision" in text
    left = stored(factory, ignored)
    assert (left.status, left.child_id) == ("ignored", None)

    rows = [r for r in page_rows(factory, ROUTE) if r["status_code"] < 400]
    assert sorted(r["detail"]["decision"] for r in rows) == ["different_child", "ignored"]
    for row in rows:
        assert (row["action"], row["purpose"]) == ("child:feed:review", "safeguarding_concern")
    [new_entry] = [r for r in rows if r["detail"]["decision"] == "different_child"]
    assert str(made.child_id) in str(new_entry["child_ids"])


def test_problems_are_said_in_plain_words_and_nothing_changes(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    review_id = queued(factory, [child_id])
    signed_in_data_manager(browser_client)

    status, text = decide(browser_client, review_id, f"same_child:{uuid.uuid4()}")
    assert status == 422
    assert "Choose which child it is the same as" in text
    status, text = decide(browser_client, review_id, "")
    assert status == 422
    assert "Choose what this row is" in text
    assert stored(factory, review_id).status == "open"

    assert decide(browser_client, review_id, "ignored")[0] == 303
    status, text = decide(browser_client, review_id, "different_child")
    assert status == 409
    assert "Someone has already decided this row" in text
    assert stored(factory, review_id).status == "ignored"

    no_token = browser_client.post(f"/records/reviews/{review_id}", data={"decision": "ignored"})
    assert no_token.status_code == 403


def test_an_archived_child_is_said_in_plain_words_and_nothing_changes(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    review_id = queued(factory, [child_id])
    with factory.db.transaction() as session:
        session.execute(
            text("UPDATE child SET status = 'archived', archived_at = now() WHERE id = :c"),
            {"c": child_id},
        )
    signed_in_data_manager(browser_client)

    status, text_shown = decide(browser_client, review_id, f"same_child:{child_id}")

    assert status == 409
    assert "archived and takes no new details" in text_shown
    assert stored(factory, review_id).status == "open"


def test_another_authoritys_rows_are_unseen_and_a_practitioner_is_refused(
    browser_client: TestClient, client: TestClient, factory: Factory
) -> None:
    a_child_with_a_key_worker(factory, client)
    theirs = queued(factory, [], authority=HARINGEY, given_names="Haringeyrow")
    signed_in_data_manager(browser_client)
    shown = browser_client.get("/records/reviews")
    assert "Haringeyrow" not in shown.text
    assert "No rows are waiting for a decision" in shown.text
    assert "Feed rows waiting for a decision (0)" in browser_client.get("/records").text
    status, text = decide(browser_client, theirs, "ignored")
    assert status == 404
    assert "This row is no longer waiting for a decision" in text
    assert stored(factory, theirs).status == "open"

    practitioner = TestClient(
        browser_client.app, base_url="https://testserver", follow_redirects=False
    )
    sign_in_as(practitioner, "ed-doctor")
    form = practitioner.get("/purpose")
    practitioner.post(
        "/purpose",
        data={"purpose": "health_care", "purpose_text": "ED", "csrf_token": csrf(form.text)},
    )
    assert practitioner.get("/records/reviews").status_code == 403
    token = csrf(practitioner.get("/search").text)
    refused = practitioner.post(
        f"/records/reviews/{theirs}", data={"decision": "ignored", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert stored(factory, theirs).status == "open"
    assert re.search(r"/records/reviews", practitioner.get("/search").text) is None


# --- In a real browser -------------------------------------------------------------------


def test_in_a_browser_a_data_manager_decides_a_queued_row_and_the_pages_are_accessible(
    settings: Settings, browser: Any, factory: Factory, client: TestClient
) -> None:
    child_id = a_child_with_a_key_worker(factory, client).child_id
    review_id = queued(factory, [child_id])
    served = real.serve(settings, real.free_port())
    try:
        base = served.base
        journey = signed_in(browser, base)
        page = journey.page
        page.goto("/records")
        page.get_by_role("link", name="Feed rows waiting for a decision (1)").click()
        page.wait_for_url(f"{base}/records/reviews")
        journey.accessible()
        assert "Zara Feedrow" in page.locator("main").inner_text()
        page.get_by_label("This is the same child as record 1").check()
        page.get_by_role("button", name="Save decision").click()
        page.wait_for_url(f"{base}/records/reviews?done=same_child")
        assert "The row was added to the child's record" in page.locator("main").inner_text()
        journey.accessible()
        assert not any("zara" in url.lower() or "feedrow" in url.lower() for url in journey.urls)
    finally:
        real.stop(served.process)
    assert stored(factory, review_id).status == "same_child"


@pytest.mark.parametrize("start", ["%C2%B2", "x", "9" * 5000])
def test_an_odd_page_start_is_the_first_page_not_a_500(
    browser_client: TestClient, client: TestClient, factory: Factory, start: str
) -> None:
    """`?from=` read by `forms.whole_number`: "²" passes `str.isdigit`, then `int` refuses
    it; anything not a number starts at the first row, and a number too long for `int`
    is past the last."""
    child_id = a_child_with_a_key_worker(factory, client).child_id
    queued(factory, [child_id])
    signed_in_data_manager(browser_client)
    shown = browser_client.get(f"/records/reviews?from={start}")
    assert shown.status_code == 200, shown.text
    assert ("Zara Feedrow" in shown.text) is (len(start) < 10)
