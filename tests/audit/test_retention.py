"""The personal part of old audit events is erased at retention and the chain still
verifies; tampering is found before erasure (in the personal part) and after it (in what
is chained); the erasure is the only change the trail lets through; a month's partition
is made ahead and verified on its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors
from typer.testing import CliRunner

from index_service.audit.chain import commit
from index_service.audit.retention import (
    ERASE_ACTION,
    Retention,
    ensure_partitions,
    erase_personal,
    months_from,
)
from index_service.audit.service import AuditDraft, record_event
from index_service.audit.verify import VerifyReport, run_verify
from index_service.cli import app as cli
from index_service.common import utcnow
from index_service.database import APP_ROLE, Database, as_role
from index_service.settings import Settings

CRITERIA = {"given_name": "victoria", "family_name": "climbie", "postcode": "N15 3AB"}
PURPOSE_TEXT = "Worried about Victoria Climbie after a hospital visit"


def _write(db: Database, n: int, *, personal: bool) -> list[str]:
    """`n` enquiry-like events written as requests write them, with a personal part or
    without."""
    ids = []
    for i in range(n):
        draft = AuditDraft(
            action="child:enquiry:create",
            method="POST",
            route="/v1/enquiries",
            request_id=f"req-{uuid.uuid4().hex[:8]}",
            instance="test",
            purpose="direct_care" if personal else None,
            purpose_text=PURPOSE_TEXT if personal else None,
            detail={"outcome": "not_found", "n": i}
            | (
                {"criteria": CRITERIA, "explanations": [{"name": "Victoria", "score": 0.91}]}
                if personal
                else {}
            ),
        )
        with db.transaction() as session:
            ids.append(str(record_event(session=session, draft=draft, status_code=201)))
    return ids


def _after_retention(settings: Settings) -> datetime:
    """The clock moved past the retention period of everything written now."""
    return utcnow() + timedelta(days=settings.audit_personal_retention_days, minutes=1)


def _verify(db: Database, settings: Settings, **kwargs: Any) -> VerifyReport:
    return run_verify(db=db, settings=settings, **kwargs)


def _row(database_url: str, event_id: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        cur = conn.execute(
            "SELECT purpose_text, detail, personal_salt, personal_hash FROM audit_event "
            "WHERE id = %s",
            (event_id,),
        )
        names = [d.name for d in cur.description or []]
        row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def test_the_chain_verifies_before_and_after_personal_parts_are_erased(
    db: Database,
    settings: Settings,
    database_url: str,
    sealed: Callable[[], None],
) -> None:
    personal = _write(db, 3, personal=True)
    plain = _write(db, 2, personal=False)
    sealed()
    before = _verify(db, settings)
    assert before.ok, before.problems
    assert (before.personal_checked, before.personal_erased) == (3, 0)
    assert _row(database_url, personal[0])["personal_salt"] is not None

    assert erase_personal(db, settings, _after_retention(settings)) == 3
    for event_id in personal:
        row = _row(database_url, event_id)
        assert row["purpose_text"] is None
        assert row["personal_salt"] is None
        assert row["personal_hash"] is not None  # the commitment stays chained
        assert row["detail"] == {"outcome": "not_found", "n": personal.index(event_id)}
    assert _row(database_url, plain[0])["personal_hash"] is None  # nothing to erase there

    sealed()  # the erasure's own event is chained too
    after = _verify(db, settings)
    assert after.ok, after.problems
    assert (after.personal_checked, after.personal_erased) == (0, 3)
    assert after.events_checked == before.events_checked + 1
    # The erasure is recorded as a count and a time: nothing of what was erased.
    with psycopg.connect(database_url) as conn:
        action, detail, text_ = conn.execute(
            "SELECT action, detail, purpose_text FROM audit_event WHERE action = %s",
            (ERASE_ACTION,),
        ).fetchone() or (None, None, None)
    assert action == ERASE_ACTION
    assert text_ is None
    assert detail is not None
    assert detail["erased"] == 3
    assert "climbie" not in json.dumps(detail).lower()


def test_personal_parts_younger_than_the_retention_period_stay(
    db: Database, settings: Settings, database_url: str, sealed: Callable[[], None]
) -> None:
    ids = _write(db, 2, personal=True)
    assert erase_personal(db, settings, utcnow()) == 0
    assert _row(database_url, ids[0])["purpose_text"] == PURPOSE_TEXT
    sealed()
    assert _verify(db, settings).personal_checked == 2


def test_a_commitment_holds_over_what_the_database_gives_back(
    db: Database, settings: Settings, sealed: Callable[[], None]
) -> None:
    """The commitment is made from the values the service sends; it is checked against
    the ones JSONB gives back (numbers rewritten, keys reordered, escapes)."""
    awkward = {
        "criteria": {"b": 1e16, "a": 0.1, "c": 1.0, "d": 2**60, "e": 1e-5, "f": "\u00e9\u2603"},
        "explanations": [{"score": 0.30000000000000004, "name": 'Zoë "Ann" O\'Neill'}],
    }
    draft = AuditDraft(
        action="child:enquiry:create",
        method="POST",
        route="/v1/enquiries",
        request_id="awkward",
        instance="test",
        purpose_text="tab\tand\u00a0space",
        detail=awkward,
    )
    with db.transaction() as session:
        record_event(session=session, draft=draft, status_code=201)
    sealed()
    report = _verify(db, settings)
    assert report.ok, report.problems
    assert report.personal_checked == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'child:record:read'"),
        ("subject", "'someone-else'"),
        ("occurred_at", "occurred_at - interval '1 hour'"),
        ("detail", 'detail || \'{"outcome": "match"}\''),
        ("personal_hash", "sha256(personal_hash)"),
        ("personal_hash", "NULL"),
    ],
)
def test_tampering_with_a_chained_field_is_found_after_erasure(
    db: Database,
    settings: Settings,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
    column: str,
    value: str,
) -> None:
    ids = _write(db, 4, personal=True)
    sealed()
    erase_personal(db, settings, _after_retention(settings))
    victim = ids[2]
    superuser.execute(f"UPDATE audit_event SET {column} = {value} WHERE id = %s", (victim,))  # noqa: S608
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert (report.first_bad.kind, report.first_bad.event_id) == ("altered", victim)


@pytest.mark.parametrize(
    "edit",
    [
        "purpose_text = 'Routine check'",
        "detail = jsonb_set(detail, '{criteria,family_name}', '\"smith\"')",
        "detail = detail - 'explanations'",  # a part of the personal data removed
        "personal_salt = sha256(personal_salt)",
        "purpose_text = NULL, personal_salt = NULL",  # half an erasure: criteria left
    ],
)
def test_tampering_with_the_personal_part_is_found_while_it_is_there(
    db: Database,
    settings: Settings,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
    edit: str,
) -> None:
    ids = _write(db, 4, personal=True)
    sealed()
    superuser.execute(f"UPDATE audit_event SET {edit} WHERE id = %s", (ids[1],))  # noqa: S608
    report = _verify(db, settings)
    assert [(p.kind, p.event_id) for p in report.problems] == [("personal_altered", ids[1])]


def test_personal_data_added_to_an_event_without_a_part_is_found(
    db: Database, settings: Settings, sealed: Callable[[], None], superuser: psycopg.Connection
) -> None:
    ids = _write(db, 3, personal=False)
    sealed()
    superuser.execute(
        "UPDATE audit_event SET purpose_text = 'Made up later' WHERE id = %s", (ids[0],)
    )
    report = _verify(db, settings)
    assert [(p.kind, p.event_id) for p in report.problems] == [("personal_altered", ids[0])]


def test_an_erasure_the_job_did_not_do_is_reported(
    db: Database, settings: Settings, sealed: Callable[[], None], superuser: psycopg.Connection
) -> None:
    """Someone with full access erases a part early, in the erasure's own shape: the
    chain still holds (erasure keeps it), but the job has not reached that event."""
    ids = _write(db, 3, personal=True)
    sealed()
    superuser.execute(
        "UPDATE audit_event SET purpose_text = NULL, personal_salt = NULL, "
        "detail = detail - 'criteria' - 'explanations' WHERE id = %s",
        (ids[0],),
    )
    report = _verify(db, settings)
    assert [(p.kind, p.event_id) for p in report.problems] == [("erased_out_of_turn", ids[0])]


@pytest.fixture
def owner(database_url: str) -> Iterator[psycopg.Connection]:
    """The database's owner, with the triggers on."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize(
    "edit",
    [
        "purpose_text = NULL",  # the data without its salt: the commitment stays guessable
        "personal_salt = NULL, purpose_text = NULL",  # criteria left behind
        "personal_salt = NULL, purpose_text = NULL, personal_hash = NULL, "
        "detail = detail - 'criteria' - 'explanations'",
        "personal_salt = NULL, purpose_text = NULL, action = 'x:y:z', "
        "detail = detail - 'criteria' - 'explanations'",
        "personal_salt = NULL, purpose_text = NULL, detail = '{}'",
    ],
)
def test_the_owner_can_make_no_change_but_a_whole_erasure(
    db: Database, owner: psycopg.Connection, edit: str
) -> None:
    (event_id,) = _write(db, 1, personal=True)
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        owner.execute(f"UPDATE audit_event SET {edit} WHERE id = %s", (event_id,))  # noqa: S608
    owner.execute(
        "UPDATE audit_event SET personal_salt = NULL, purpose_text = NULL, "
        "detail = detail - 'criteria' - 'explanations' WHERE id = %s",
        (event_id,),
    )
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):  # once only
        owner.execute(
            "UPDATE audit_event SET personal_salt = NULL, purpose_text = NULL WHERE id = %s",
            (event_id,),
        )


def test_the_service_erases_only_through_the_erasure_function(
    db: Database, database_url: str
) -> None:
    _write(db, 1, personal=True)
    with psycopg.connect(as_role(database_url, APP_ROLE, None), autocommit=True) as app:
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("UPDATE audit_event SET purpose_text = NULL, personal_salt = NULL")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("UPDATE audit_erasure SET erased_before = 'infinity'")
        cutoff = utcnow() + timedelta(minutes=1)
        assert app.execute("SELECT audit_erase_personal(%s, 10)", (cutoff,)).fetchone() == (1,)


def test_the_worker_hook_erases_at_most_once_an_interval(
    db: Database, settings: Settings, database_url: str, owner: psycopg.Connection
) -> None:
    retention = Retention(db, settings)
    now = _after_retention(settings)
    first = _write(db, 1, personal=True)
    retention.tick(now)
    assert _row(database_url, first[0])["purpose_text"] is None
    # Written after the first run's cutoff: the next run's to erase.
    cutoff = now - timedelta(days=settings.audit_personal_retention_days)
    (second,) = _write_at(owner, cutoff + timedelta(minutes=10), 1)
    every = timedelta(seconds=settings.audit_retention_interval_seconds)
    retention.tick(now + every - timedelta(seconds=1))
    assert _row(database_url, second)["purpose_text"] == PURPOSE_TEXT  # not yet
    retention.tick(now + every)
    assert _row(database_url, second)["purpose_text"] is None


# Partitions and one month at a time.


def _partition_of(conn: psycopg.Connection, event_id: str) -> str:
    row = conn.execute(
        "SELECT tableoid::regclass::text FROM audit_event WHERE id = %s", (event_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def _write_at(owner: psycopg.Connection, at: datetime, n: int) -> list[str]:
    """`n` events of an earlier month, with personal parts (as the service would have
    written them then), each in a transaction of its own."""
    ids = []
    for i in range(n):
        detail = {"criteria": CRITERIA, "n": i}
        salt, committed = commit(PURPOSE_TEXT, detail)
        event_id = str(uuid.uuid4())
        owner.execute(
            "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
            " child_ids, method, route, request_id, instance, detail, purpose_text,"
            " personal_salt, personal_hash) VALUES (%s, %s, 'child:enquiry:create', 'success',"
            " 201, '{}', '{}', 'POST', '/v1/enquiries', 'r', 'test', %s, %s, %s, %s)",
            (
                event_id,
                at + timedelta(minutes=i),
                json.dumps(detail),
                PURPOSE_TEXT,
                salt,
                committed,
            ),
        )
        ids.append(event_id)
    return ids


def test_the_coming_months_partitions_are_made_ahead_and_guarded(
    db: Database, owner: psycopg.Connection, database_url: str
) -> None:
    now = datetime(2031, 11, 20, tzinfo=UTC)
    names = ensure_partitions(db, now)
    assert names == ["audit_event_2031_11", "audit_event_2031_12", "audit_event_2032_01"]
    assert ensure_partitions(db, now) == names  # made once
    (event_id,) = _write_at(owner, datetime(2031, 12, 31, 23, 59, tzinfo=UTC), 1)
    assert _partition_of(owner, event_id) == "audit_event_2031_12"
    (other,) = _write_at(owner, datetime(2040, 1, 1, tzinfo=UTC), 1)
    assert _partition_of(owner, other) == "audit_event_default"
    # Its month cannot be made now (its row would be outside the default partition): the
    # worker logs it and goes on; the event stays where it is.
    assert ensure_partitions(db, datetime(2040, 1, 1, tzinfo=UTC), ahead=0) == []
    assert _partition_of(owner, other) == "audit_event_default"
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        owner.execute("TRUNCATE audit_event_2031_12")
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        owner.execute("DELETE FROM audit_event_2031_12")
    with psycopg.connect(as_role(database_url, APP_ROLE, None), autocommit=True) as app:
        # The service reaches the rows through the partitioned table only.
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("SELECT count(*) FROM audit_event_2031_12")
        assert app.execute("SELECT count(*) FROM audit_event").fetchone() == (2,)


def test_months_from_crosses_the_year() -> None:
    assert months_from(date(2026, 11, 30), 3) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]


def test_one_month_is_verified_on_its_own_from_the_checkpoint_before_it(
    db: Database,
    settings: Settings,
    owner: psycopg.Connection,
    superuser: psycopg.Connection,
    sealed: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_partitions(db, datetime(2025, 3, 1, tzinfo=UTC), ahead=0)
    ensure_partitions(db, datetime(2025, 4, 1, tzinfo=UTC), ahead=0)
    march = _write_at(owner, datetime(2025, 3, 10, tzinfo=UTC), 4)
    sealed()
    april = _write_at(owner, datetime(2025, 4, 2, tzinfo=UTC), 3)
    sealed()
    now = _write(db, 2, personal=True)
    sealed()
    report = _verify(db, settings, period=date(2025, 4, 1))
    assert report.ok, report.problems
    assert (report.period, report.period_events) == ("2025-04", 3)
    assert (report.verified_from, report.events_checked, report.head_position) == (4, 3, 7)

    superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (now[0],))
    superuser.execute("UPDATE audit_event SET purpose_text = 'x' WHERE id = %s", (march[1],))
    assert _verify(db, settings, period=date(2025, 4, 1)).ok  # neither is April's
    report = _verify(db, settings, period=date(2025, 3, 1))
    assert [(p.kind, p.event_id) for p in report.problems] == [("personal_altered", march[1])]
    assert report.verified_from == 0
    assert _verify(db, settings, period=date(2024, 1, 1)).period_events == 0

    superuser.execute("UPDATE audit_event SET reason = 'x' WHERE id = %s", (april[1],))
    from index_service import settings as settings_module

    monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
    monkeypatch.setattr("index_service.cli.get_settings", lambda: settings)
    result = CliRunner().invoke(cli, ["audit", "verify", "--period", "2025-04"])
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["period"], answer["first_bad"]["event_id"]) == ("2025-04", april[1])
    assert CliRunner().invoke(cli, ["audit", "verify", "--period", "2025-13"]).exit_code == 2


def test_the_worker_runs_the_retention_hook(
    db: Database, sealer_db: Database, settings: Settings
) -> None:
    import threading

    from index_service.cli import _worker_hooks

    hooks = _worker_hooks(db, sealer_db, settings, threading.Event())
    assert any(isinstance(getattr(h, "__self__", None), Retention) for h in hooks)
