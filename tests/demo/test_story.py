"""`index-service demo`: the Climbié scenario walked through a served process's HTTP
API, as a visitor would run it after `make run`: what it says, what it leaves behind
(the key worker's acknowledged alert, Haringey's R3 alert, one audit row per request),
that it tells the same story when run again, and that it says plainly what is wrong
when the service or the demo data is missing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from index_service.demo.cases import SCENARIO, STORY_CHILDREN, UNKNOWN
from index_service.demo.personas import persona
from index_service.demo.seed import seed_demo_data
from index_service.demo.story import ACKNOWLEDGEMENT
from index_service.settings import DEV_ISSUER, Settings
from tests.factories import Factory
from tests.factories.processes import BIN
from tests.factories.processes import free_port as _free_port
from tests.test_serve import Served, _serve


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    yield from _serve(settings)


@pytest.fixture
def seeded(factory: Factory, settings: Settings) -> None:
    with factory.db.transaction() as session:
        seed_demo_data(session=session, children=12, seed=7, once=False, settings=settings)


def _demo(env: dict[str, str], base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "index-service"), "demo", "--base-url", base],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )


def _rows(factory: Factory, sql: str, **params: Any) -> list[dict[str, Any]]:
    with factory.db.session() as session:
        return [dict(r) for r in session.execute(text(sql), params).mappings()]


def test_the_demo_walks_the_scenario_through_the_api(
    seeded: None, served: Served, factory: Factory
) -> None:
    before = len(factory.audit_rows())
    walked = _demo(served.env, served.base)
    assert walked.returncode == 0, walked.stdout + walked.stderr
    said = walked.stdout
    doctor, key_worker = persona("ed-doctor"), persona("key-worker")
    for expected in (
        f"1. {doctor.name}",
        f"The record is {SCENARIO.name}'s: one child, known by two names.",
        f"Who to contact first: {key_worker.name}, key worker, Haringey children's social care",
        "R1: Someone from another agency enquired about a child you are the key worker",
        f"From {doctor.name}, Ealing emergency department (demo)",
        f'{key_worker.name} acknowledges it: "{ACKNOWLEDGEMENT}"',
        "R4: Someone started working with a child you are working with.",
        "No record. The index says: No record was found. This is not evidence",
        "Whom to call: Haringey children's social care (demo)",
        "R3: A second agency enquired about a child the index does not hold.",
        f"2 enquiry-only contacts seem to be about {UNKNOWN.name}",
    ):
        assert expected in said, said
    # No child data but the synthetic names: no date of birth, postcode or NHS number.
    for child in STORY_CHILDREN:
        for detail in (child.nhs_number, child.postcode, child.date_of_birth):
            assert detail is None or str(detail) not in said
    assert UNKNOWN.postcode not in said
    assert UNKNOWN.date_of_birth.isoformat() not in said

    # What it left behind: the key worker's acknowledged alert, with the note...
    [r1] = _rows(
        factory,
        "SELECT * FROM alert WHERE rule = 'R1' AND recipient_subject = :sub "
        "AND actor_subject = :doctor",
        sub=key_worker.subject,
        doctor=doctor.subject,
    )
    assert r1["acknowledged_note"] == ACKNOWLEDGEMENT
    assert r1["recipient_issuer"] == DEV_ISSUER
    # ... Haringey's designated managers' R3 alert, and one audit row per request, each
    # that touched child data with its stated purpose.
    assert _rows(
        factory,
        "SELECT id FROM alert WHERE rule = 'R3' AND recipient_team = 'designated_managers' "
        "AND recipient_authority = 'E09000014'",
    )
    events = factory.audit_rows()[before:]
    assert {e["outcome"] for e in events} == {"success"}
    assert all(e["purpose"] for e in events if e["action"].startswith("child:"))
    assert {e["subject"] for e in events} >= {
        persona(k).subject
        for k in ("ed-doctor", "key-worker", "police-officer", "school-dsl", "designated-manager")
    }


def test_run_again_it_tells_the_same_story_without_doubling_anything(
    seeded: None, served: Served, factory: Factory
) -> None:
    assert _demo(served.env, served.base).returncode == 0
    again = _demo(served.env, served.base)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "It was acknowledged on an earlier run of this walk" in again.stdout
    assert "is already recorded as working with her" in again.stdout
    officer = persona("police-officer")
    assert (
        len(
            _rows(
                factory,
                "SELECT id FROM involvement WHERE practitioner_subject = :s "
                "AND service = 'Child abuse investigation team'",
                s=officer.subject,
            )
        )
        == 1
    )
    # Repeats within 24 hours are one alert: still one R1 from the doctor.
    assert (
        len(
            _rows(
                factory,
                "SELECT id FROM alert WHERE rule = 'R1' AND actor_subject = :s",
                s=persona("ed-doctor").subject,
            )
        )
        == 1
    )


def test_without_the_demo_data_it_says_to_load_it(served: Served) -> None:
    walked = _demo(served.env, served.base)
    assert walked.returncode == 1
    assert "index-service seed-demo" in walked.stderr


def test_without_a_service_it_says_how_to_start_one(settings: Settings) -> None:
    nobody = f"http://127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "DATA_DIR": str(settings.data_dir),
    }
    walked = _demo(env, nobody)
    assert walked.returncode == 1
    assert f"no index service answers at {nobody}" in walked.stderr
    assert "make run" in walked.stderr
