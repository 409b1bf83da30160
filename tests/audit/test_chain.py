"""The chain and its signed checkpoints: someone with full access to the database alters,
removes or swaps events, and `audit verify` names the first bad one; a checkpoint signed
with another key is reported as forged."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from index_service.audit import checkpoints
from index_service.audit.sealer import BrokenHead, Sealer, seal
from index_service.audit.verify import VerifyReport, run_verify
from index_service.cli import app as cli
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings
from tests.audit.conftest import seal_all

Events = Callable[[int], list[str]]


def _verify(db: Database, settings: Settings) -> VerifyReport:
    return run_verify(db=db, settings=settings)


def _position_of(superuser: psycopg.Connection, event_id: str) -> int:
    row = superuser.execute(
        "SELECT position FROM audit_seal WHERE event_id = %s", (event_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_untouched_chain_verifies(
    db: Database, settings: Settings, events: Events, sealed: Callable[[], None]
) -> None:
    events(12)
    sealed()
    report = _verify(db, settings)
    assert report.ok, report.problems
    assert report.events_checked == 12
    assert report.head_position == 12
    assert report.checkpoints_checked == 1
    assert report.latest_checkpoint == 12
    assert report.unsealed_events == 0
    assert report.seq_gaps == 0


def test_events_written_after_the_last_seal_are_pending_not_bad(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
) -> None:
    events(3)
    sealed()
    events(2)
    report = _verify(db, settings)
    assert report.ok
    assert report.unsealed_events == 2
    seal_all(sealer_db)
    assert _verify(db, settings).events_checked == 5


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'child:record:nothing'"),
        ("outcome", "'refused'"),
        ("subject", "'someone-else'"),
        ("occurred_at", "occurred_at - interval '1 day'"),
        ("child_ids", "'{00000000-0000-4000-8000-00000000000c}'"),
        ("detail", "'{\"n\": 99}'"),
        ("purpose", "'direct_care'"),
    ],
)
def test_altering_one_field_of_one_event_is_found_and_named(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
    column: str,
    value: str,
) -> None:
    ids = events(8)
    sealed()
    victim = ids[4]
    edit = f"UPDATE audit_event SET {column} = {value} WHERE id = %s"  # noqa: S608
    superuser.execute(edit, (victim,))
    report = _verify(db, settings)
    assert not report.ok
    assert report.first_bad is not None
    assert report.first_bad.event_id == victim
    assert report.first_bad.kind == "altered"
    assert report.first_bad.position == _position_of(superuser, victim)


def test_deleting_one_event_is_found_and_named(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(8)
    sealed()
    superuser.execute("DELETE FROM audit_event WHERE id = %s", (ids[3],))
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert (report.first_bad.kind, report.first_bad.event_id) == ("missing_event", ids[3])


def test_deleting_an_event_with_its_seal_names_where_the_chain_breaks(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(8)
    sealed()
    position = _position_of(superuser, ids[3])
    superuser.execute("DELETE FROM audit_seal WHERE event_id = %s", (ids[3],))
    superuser.execute("DELETE FROM audit_event WHERE id = %s", (ids[3],))
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert report.first_bad.kind == "missing_position"
    assert report.first_bad.position == position + 1
    assert report.first_bad.event_id == ids[4]  # the first event whose link no longer holds


def test_swapping_two_events_is_found_and_names_the_first(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(8)
    sealed()
    first, second = ids[2], ids[5]
    p1, p2 = _position_of(superuser, first), _position_of(superuser, second)
    parked = "00000000-0000-4000-8000-0000000000ff"
    for old, new in ((first, parked), (second, first), (parked, second)):
        superuser.execute("UPDATE audit_seal SET event_id = %s WHERE event_id = %s", (new, old))
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert report.first_bad.position == min(p1, p2)
    assert report.first_bad.event_id == second  # now sitting in the first one's place
    assert {p.position for p in report.problems} >= {p1, p2}


def test_swapping_the_contents_of_two_events_is_found(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(6)
    sealed()
    superuser.execute(
        "UPDATE audit_event a SET request_id = b.request_id, detail = b.detail "
        "FROM audit_event b WHERE (a.id, b.id) IN ((%s, %s), (%s, %s))",
        (ids[1], ids[2], ids[2], ids[1]),
    )
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert report.first_bad.event_id == ids[1]


def test_a_chain_recomputed_after_an_edit_disagrees_with_the_signed_checkpoint(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    """The editor knows the encoding and rewrites every seal from the edit on: each link
    holds again, but the checkpoint signed before the edit does not."""
    ids = events(6)
    sealed()
    superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (ids[2],))
    superuser.execute("DELETE FROM audit_seal")
    seal_all(sealer_db)  # the whole chain again, over the edited event
    report = _verify(db, settings)
    assert [p.kind for p in report.problems] == ["rewritten"]
    assert report.problems[0].position == 6


def test_removing_the_newest_events_and_their_seals_is_found_by_the_checkpoint(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(5)
    sealed()
    superuser.execute("DELETE FROM audit_seal WHERE position > 3")
    superuser.execute("DELETE FROM audit_event WHERE id = ANY(%s::uuid[])", (ids[3:],))
    report = _verify(db, settings)
    assert [p.kind for p in report.problems] == ["truncated"]


def test_an_event_slipped_into_the_sealed_past_is_found(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    events(4)
    sealed()
    superuser.execute(
        "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles, child_ids,"
        " method, route, request_id, instance, detail, xid, seq) OVERRIDING SYSTEM VALUE"
        " VALUES ('00000000-0000-4000-8000-000000000001', now(), 'x', 'success', 200, '{}', '{}',"
        " 'GET', '/', 'r', 'i', '{}', '3', 0)"
    )
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert report.first_bad.kind == "unsealed_in_sealed_past"
    assert report.first_bad.event_id == "00000000-0000-4000-8000-000000000001"


def test_a_checkpoint_signed_with_another_key_is_reported_as_forged(
    db: Database, settings: Settings, events: Events, sealed: Callable[[], None]
) -> None:
    events(4)
    sealed()
    genuine = checkpoints.latest(settings.checkpoint_dir)
    assert genuine is not None
    forged = checkpoints.sign(
        Ed25519PrivateKey.generate(),
        position=genuine.position + 1,
        head=bytes(32),
        event_id=genuine.event_id,
        at=utcnow(),
    )
    checkpoints.write(settings.checkpoint_dir, forged)
    report = _verify(db, settings)
    assert [p.kind for p in report.problems] == ["forged_checkpoint"]
    assert report.problems[0].position == genuine.position + 1


def test_a_checkpoint_edited_to_match_a_new_head_fails_its_signature(
    db: Database, settings: Settings, events: Events, sealed: Callable[[], None]
) -> None:
    events(3)
    sealed()
    path = sorted(settings.checkpoint_dir.glob("checkpoint-*.json"))[0]
    content = json.loads(path.read_text())
    content["hash"] = "00" * 32
    path.write_text(json.dumps(content))
    kinds = [p.kind for p in _verify(db, settings).problems]
    assert kinds == ["forged_checkpoint", "no_checkpoint"]  # the only one was forged


def test_the_cli_names_the_first_bad_event_and_exits_1(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = events(5)
    sealed()
    from index_service import settings as settings_module

    monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
    monkeypatch.setattr("index_service.cli.get_settings", lambda: settings)
    runner = CliRunner()
    sealing = runner.invoke(cli, ["audit", "seal"])
    assert sealing.exit_code == 0, sealing.output
    assert "newest checkpoint at position 5" in sealing.stdout
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.stdout)["ok"] is True
    assert "audit chain intact: 5 events and 1 checkpoints checked" in intact.stderr
    superuser.execute("UPDATE audit_event SET reason = 'nothing' WHERE id = %s", (ids[1],))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_bad"]["event_id"] == ids[1]
    assert ids[1] in broken.stderr or "altered" in broken.stderr


def test_the_cli_fails_loudly_when_it_checked_nothing_but_events_wait_unsealed(
    settings: Settings, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing sealed is nothing verified: "intact" after checking 0 events would say the
    trail is sound when the sealer has never run."""
    events(3)
    monkeypatch.setattr("index_service.cli.get_settings", lambda: settings)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["unsealed_events"] == 3
    assert "NOT verified: 0 events and 0 checkpoints checked, but 3 events are unsealed" in (
        result.stderr
    )


def test_a_chain_no_checkpoint_covers_does_not_pass(
    db: Database, sealer_db: Database, settings: Settings, events: Events
) -> None:
    """Without a signed checkpoint a recomputed chain looks like the real one: not ok."""
    events(3)
    seal_all(sealer_db)
    assert [p.kind for p in _verify(db, settings).problems] == ["no_checkpoint"]


def test_without_a_key_to_check_checkpoints_verify_says_so_and_makes_none_up(
    db: Database, settings: Settings, events: Events, sealed: Callable[[], None]
) -> None:
    events(2)
    sealed()
    elsewhere = settings.model_copy(update={"audit_signing_key_file": settings.data_dir / "none"})
    assert [p.kind for p in _verify(db, elsewhere).problems] == ["no_verify_key"]
    assert not (settings.data_dir / "none").exists()


def test_sealing_stops_when_the_newest_sealed_event_is_removed(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    """A head whose event is gone is a broken head: new events are not chained onto it
    (that would bury the removal under links that verify), and verify names it."""
    ids = events(3)
    sealed()
    superuser.execute("DELETE FROM audit_event WHERE id = %s", (ids[-1],))
    events(2)
    with pytest.raises(BrokenHead):
        seal(sealer_db)
    report = _verify(db, settings)
    assert report.head_position == 3
    assert report.unsealed_events == 2
    assert report.first_bad is not None
    assert (report.first_bad.kind, report.first_bad.event_id) == ("missing_event", ids[-1])


def test_an_incremental_walk_starts_at_the_newest_good_checkpoint(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    events(4)
    sealed()
    later = events(3)
    seal_all(sealer_db)
    quick = run_verify(db=db, settings=settings, incremental=True)
    assert quick.ok, quick.problems
    assert (quick.verified_from, quick.events_checked, quick.head_position) == (4, 3, 7)
    superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (later[1],))
    quick = run_verify(db=db, settings=settings, incremental=True)
    assert quick.first_bad is not None
    assert (quick.first_bad.kind, quick.first_bad.event_id) == ("altered", later[1])


def test_an_incremental_walk_falls_back_to_the_start_when_the_checkpoints_seal_was_rewritten(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(4)
    sealed()
    superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (ids[0],))
    superuser.execute("DELETE FROM audit_seal")
    seal_all(sealer_db)  # the chain recomputed over the edit
    quick = run_verify(db=db, settings=settings, incremental=True)
    assert quick.verified_from == 0
    assert [p.kind for p in quick.problems] == ["rewritten"]


@pytest.mark.parametrize(
    "checkpointed", [True, False], ids=["checkpointed", "not-yet-checkpointed"]
)
def test_a_tampered_newest_seal_stops_the_sealer_and_verify_names_that_seal(
    db: Database,
    sealer_db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    checkpointed: bool,
) -> None:
    """Someone rewrites the hash of the newest seal. The sealer must not build on it (nor
    sign a checkpoint over it): `audit seal` fails loudly; and verify names that seal, at
    its position, rather than an event nobody touched."""
    ids = events(4)
    if checkpointed:
        sealed()
    else:
        seal_all(sealer_db)
    superuser.execute(
        "UPDATE audit_seal SET hash = sha256(hash)"
        " WHERE position = (SELECT max(position) FROM audit_seal)"
    )
    events(2)  # more to seal, which must not be chained onto the broken head
    from index_service import settings as settings_module

    monkeypatch.setattr(settings_module, "get_settings", lambda: settings)
    monkeypatch.setattr("index_service.cli.get_settings", lambda: settings)
    before = checkpoints.latest(settings.checkpoint_dir)
    sealing = CliRunner().invoke(cli, ["audit", "seal"])
    assert sealing.exit_code == 1, sealing.output
    assert "head" in sealing.output
    assert superuser.execute("SELECT max(position) FROM audit_seal").fetchone() == (4,)
    assert checkpoints.latest(settings.checkpoint_dir) == before  # nothing signed over it
    report = _verify(db, settings)
    assert not report.ok
    (named,) = [p for p in report.problems if p.event_id is not None]
    assert (named.position, named.event_id) == (4, ids[3])
    # With a checkpoint over the untouched events, verify can tell the seal was edited;
    # without one, the head's event and its seal disagree and either may have changed.
    assert named.kind == ("seal_altered" if checkpointed else "altered")
    assert "seal" in named.message


def test_a_tampered_seal_inside_the_chain_is_named_and_its_neighbours_are_not(
    db: Database,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    ids = events(6)
    sealed()
    superuser.execute("UPDATE audit_seal SET hash = sha256(hash) WHERE position = 3")
    report = _verify(db, settings)
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [
        ("seal_altered", 3, ids[2])
    ]


def test_the_sealer_signs_no_checkpoint_over_an_edit_since_the_last_one(
    db: Database,
    sealer_db: Database,
    sealer: Sealer,
    settings: Settings,
    events: Events,
    sealed: Callable[[], None],
    superuser: psycopg.Connection,
) -> None:
    """An event sealed after the last checkpoint, not the newest, is edited: the head
    still links to the seal before it, but what the next checkpoint would vouch for is
    broken, so none is signed; verify names the event."""
    events(4)
    sealed()
    later = events(3)
    seal_all(sealer_db)
    superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (later[1],))
    before = checkpoints.latest(settings.checkpoint_dir)
    with pytest.raises(BrokenHead):
        sealer.checkpoint(utcnow())
    assert checkpoints.latest(settings.checkpoint_dir) == before
    report = _verify(db, settings)
    assert report.first_bad is not None
    assert (report.first_bad.kind, report.first_bad.event_id) == ("altered", later[1])
