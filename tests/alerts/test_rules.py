"""The rules R1 to R8 as pure functions: a table of events and whom each alerts."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from index_service.alerts import rules
from index_service.alerts.calendar import add_working_days
from index_service.alerts.rules import Actor, EarlierContact, Neighbour, Worker

HOSPITAL, SCHOOL, CSC = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
CHILD, OTHER_CHILD, CONTACT, EARLIER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

NURSE = Actor("iss", "nurse", "Nia Nurse", None, HOSPITAL, "H1")
KEY_WORKER = Worker("iss", "kate", "Kate", "kate@x.example", CSC, is_key_worker=True)
LEAD = Worker("iss", "lee", "Lee", None, SCHOOL, is_lead_professional=True)
TEACHER = Worker("iss", "tom", "Tom", None, SCHOOL)
NO_LOGIN = Worker(None, None, "Paper Record", None, SCHOOL, is_key_worker=True)
NURSE_AS_WORKER = Worker("iss", "nurse", "Nia Nurse", None, HOSPITAL, is_lead_professional=True)
COLLEAGUE = Worker("iss", "sam", "Sam", None, HOSPITAL, is_key_worker=True)
ALLOCATED_BY_EMAIL = Worker(
    None, None, "Alex", "Alex@Ealing.example", CSC, is_allocated_worker=True, authority="E1"
)


def keys(drafts: list[rules.AlertDraft]) -> list[str]:
    return [d.recipient.key for d in drafts]


@pytest.mark.parametrize(
    ("workers", "expected"),
    [
        pytest.param(
            [KEY_WORKER, LEAD, TEACHER], ["person:iss|kate", "person:iss|lee"], id="key+lead"
        ),
        pytest.param([TEACHER], [], id="no key worker or lead professional"),
        pytest.param([NO_LOGIN], [], id="a worker with no identity nor email cannot be alerted"),
        pytest.param(
            [ALLOCATED_BY_EMAIL], ["email:alex@ealing.example"], id="allocated, by email only"
        ),
        pytest.param([COLLEAGUE], [], id="same organisation as the enquirer"),
        pytest.param([NURSE_AS_WORKER], [], id="the enquirer themselves"),
    ],
)
def test_r1(workers: list[Worker], expected: list[str]) -> None:
    drafts = rules.r1_enquiry_about_known_child(actor=NURSE, child_id=CHILD, workers=workers)
    assert keys(drafts) == expected
    assert all(d.rule == rules.Rule.R1 and d.child_id == CHILD for d in drafts)


def test_r2_alerts_the_other_childs_key_worker_or_else_its_authoritys_designated_managers() -> None:
    with_worker = Neighbour(OTHER_CHILD, "E09000014", (KEY_WORKER,))
    without = Neighbour(uuid.uuid4(), "E09000014", ())
    drafts = rules.r2_enquiry_at_plan_address(
        actor=NURSE, child_id=CHILD, neighbours=[with_worker, without]
    )
    assert keys(drafts) == ["person:iss|kate", "team:designated_managers:E09000014"]
    assert drafts[0].child_id == OTHER_CHILD  # about the child on the plan
    assert (
        rules.r2_enquiry_at_plan_address(
            actor=NURSE, child_id=OTHER_CHILD, neighbours=[with_worker]
        )
        == []
    )  # not the child itself


def test_r3() -> None:
    earlier = EarlierContact(EARLIER, Worker("iss", "pc", "PC", None, SCHOOL), "E09000014")
    drafts = rules.r3_second_enquiry(
        actor=NURSE, contact_id=CONTACT, lives_in="E09000014", earlier=[earlier]
    )
    assert keys(drafts) == ["team:designated_managers:E09000014", "person:iss|pc"]
    assert {d.enquiry_contact_id for d in drafts} == {EARLIER}  # the child as first known
    mine = EarlierContact(EARLIER, NURSE_AS_WORKER, "E09000014")
    for none in ([mine], []):
        assert (
            rules.r3_second_enquiry(
                actor=NURSE, contact_id=CONTACT, lives_in="E09000014", earlier=none
            )
            == []
        )


def test_r3_tells_the_designated_managers_where_the_newest_enquiry_says_the_child_lives() -> None:
    haringey = EarlierContact(EARLIER, Worker("iss", "pc", "PC", None, SCHOOL), "E09000014")
    drafts = rules.r3_second_enquiry(
        actor=NURSE, contact_id=CONTACT, lives_in="E09000009", earlier=[haringey, haringey]
    )
    assert keys(drafts) == [
        "team:designated_managers:E09000014",
        "person:iss|pc",
        "team:designated_managers:E09000009",
    ]
    assert drafts[-1].enquiry_contact_id == CONTACT  # the newest enquirer's own contact


def test_r4_tells_everyone_involved_key_worker_first_but_not_the_actor() -> None:
    drafts = rules.r4_change_to_child(
        actor=NURSE,
        child_id=CHILD,
        reason="flag_raised",
        about="f1",
        workers=[TEACHER, KEY_WORKER, NURSE_AS_WORKER, NO_LOGIN],
    )
    assert keys(drafts) == ["person:iss|kate", "person:iss|tom"]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            "E09000009",
            "E09000014",
            [
                "team:designated_managers:E09000009",
                "team:designated_managers:E09000014",
                "person:iss|kate",
            ],
            id="moved",
        ),
        pytest.param("E09000009", "E09000009", [], id="same authority"),
        pytest.param(None, "E09000014", [], id="no address before"),
    ],
)
def test_r5(before: str | None, after: str | None, expected: list[str]) -> None:
    drafts = rules.r5_moved_authority(
        actor=NURSE,
        child_id=CHILD,
        from_authority=before,
        to_authority=after,
        workers=[KEY_WORKER, TEACHER],
    )
    assert keys(drafts) == expected


def test_r6_and_r7_go_to_the_authoritys_team_inboxes() -> None:
    [r6] = rules.r6_not_acknowledged(
        alert_id=uuid.uuid4(), child_id=CHILD, responsible_authority="E09000014"
    )
    assert r6.recipient.key == "team:designated_managers:E09000014"
    [r7] = rules.r7_shielded_record_reached(
        actor=NURSE, child_id=CHILD, responsible_authority="E09000014"
    )
    assert r7.recipient.key == "team:data_managers:E09000014"


@pytest.mark.parametrize(
    ("raised", "days", "due"),
    [
        pytest.param("2026-11-24T10:00", 1, "2026-11-25T10:00", id="Tuesday to Wednesday"),
        pytest.param("2026-11-27T17:00", 1, "2026-11-30T17:00", id="Friday to Monday"),
        pytest.param("2026-11-28T09:00", 1, "2026-12-01T09:00", id="Saturday counts from Monday"),
        pytest.param("2026-12-24T12:00", 1, "2026-12-29T12:00", id="Christmas and Boxing Day"),
        pytest.param("2026-04-02T12:00", 1, "2026-04-07T12:00", id="Good Friday, Easter Monday"),
        pytest.param("2026-11-27T17:00", 3, "2026-12-02T17:00", id="three working days"),
    ],
)
def test_working_days_skip_weekends_and_bank_holidays_of_england(
    raised: str, days: int, due: str
) -> None:
    assert add_working_days(datetime.fromisoformat(raised), days) == datetime.fromisoformat(due)


def test_r1_an_allocated_worker_without_a_login_is_alerted_by_email_for_their_authority() -> None:
    [draft] = rules.r1_enquiry_about_known_child(
        actor=NURSE, child_id=CHILD, workers=[ALLOCATED_BY_EMAIL]
    )
    recipient = draft.recipient
    assert (recipient.issuer, recipient.email, recipient.authority) == (
        None,
        "Alex@Ealing.example",
        "E1",
    )


def test_r4_does_not_alert_the_practitioner_of_the_involvement_itself() -> None:
    involvement = uuid.uuid4()
    named = Worker(None, None, "Alex", "alex@x.example", CSC, involvement_id=involvement)
    drafts = rules.r4_change_to_child(
        actor=NURSE,
        child_id=CHILD,
        reason="involvement_started",
        about=str(involvement),
        workers=[named, KEY_WORKER],
        about_sensitive=True,
    )
    assert keys(drafts) == ["person:iss|kate"]
    assert drafts[0].about_sensitive is True


def test_r8_alerts_the_raiser_and_the_data_managers_once_per_review_date() -> None:
    flag = uuid.uuid4()
    raiser = rules.Recipient(issuer="iss", subject="kate")
    drafts = rules.r8_flag_past_review(
        flag_id=flag,
        child_id=CHILD,
        review_date=date(2026, 11, 1),
        raiser=raiser,
        responsible_authority="E1",
    )
    assert keys(drafts) == ["person:iss|kate", "team:data_managers:E1"]
    assert {d.about for d in drafts} == {f"{flag}@2026-11-01"}
    assert not any(d.escalates for d in drafts)


def test_a_merge_tells_every_reachable_worker_key_worker_first_but_not_the_data_manager() -> None:
    data_manager = Actor("iss", "kate", "Kate", None, CSC, "C1")  # also the key worker here
    drafts = rules.r4_record_lifecycle(
        actor=data_manager,
        child_id=CHILD,
        reason="records_merged",
        about=str(OTHER_CHILD),
        workers=[TEACHER, NO_LOGIN, LEAD, KEY_WORKER],
    )
    assert keys(drafts) == ["person:iss|lee", "person:iss|tom"]
    assert all((d.rule, d.reason, d.escalates) == ("R4", "records_merged", True) for d in drafts)


def test_an_archive_by_the_scheduler_tells_every_worker_and_is_not_escalated() -> None:
    drafts = rules.r4_record_lifecycle(
        actor=None,
        child_id=CHILD,
        reason="record_archived",
        about=str(CHILD),
        workers=[TEACHER, KEY_WORKER, KEY_WORKER],
    )
    assert keys(drafts) == ["person:iss|kate", "person:iss|tom"]
    assert not any(d.escalates for d in drafts)
    with pytest.raises(AssertionError):
        rules.r4_record_lifecycle(
            actor=None, child_id=CHILD, reason="flag_raised", about="", workers=[]
        )
