"""Migration 0020 on a trail written under chain version 1: it checks every version-1
link, re-chains under version 2 with commitments to the personal parts, and the trail
then verifies (the version-1 checkpoints against the version-1 hashes kept), before and
after erasure. A damaged version-1 chain is not re-chained."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command

from index_service.audit import checkpoints
from index_service.audit.chain import GENESIS, link_v1
from index_service.audit.retention import erase_personal
from index_service.audit.sealer import Sealer
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.database import APP_ROLE, SEALER_ROLE, Database, as_role, open_database
from index_service.migrations_state import alembic_config
from index_service.settings import Settings

V1_COLUMNS = (
    "e.id, e.seq, e.xid::text AS xid, e.occurred_at, e.action, e.outcome, e.status_code,"
    " e.reason, e.issuer, e.subject, e.actor_name, e.organisation, e.roles, e.child_ids,"
    " e.purpose, e.purpose_text, e.method, e.route, e.request_id, e.instance,"
    " e.client_address, e.user_agent, e.detail"
)


def _v1_trail(url: str, settings: Settings) -> list[str]:
    """Five events written, sealed and checkpointed as version 1 did it; their ids."""
    with psycopg.connect(url, autocommit=True) as owner:
        for i in range(5):
            purpose_text = "Concerned about a sibling" if i % 2 else None
            detail = {"n": i} | ({"criteria": {"family_name": "smith"}} if i == 1 else {})
            owner.execute(
                "INSERT INTO audit_event (id, occurred_at, action, outcome, status_code, roles,"
                " child_ids, method, route, request_id, instance, detail, purpose_text)"
                " VALUES (gen_random_uuid(), now(), 'child:enquiry:create', 'success', 201,"
                " '{}', '{}', 'POST', '/v1/enquiries', %s, 'test', %s, %s)",
                (f"r{i}", json.dumps(detail), purpose_text),
            )
        cur = owner.execute(f"SELECT {V1_COLUMNS} FROM audit_event e ORDER BY e.xid, e.seq")  # noqa: S608
        names = [d.name for d in cur.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        previous = GENESIS
        for position, row in enumerate(rows, start=1):
            previous = link_v1(previous, position, row)
            owner.execute(
                "INSERT INTO audit_seal (position, event_id, hash, xid, seq, sealed_at)"
                " VALUES (%s, %s, %s, %s::xid8, %s, now())",
                (position, row["id"], previous, row["xid"], row["seq"]),
            )
    signed = checkpoints.sign(
        checkpoints.signing_key(settings),
        position=5,
        head=previous,
        event_id=str(rows[-1]["id"]),
        at=utcnow(),
        version=1,
    )
    checkpoints.write(settings.checkpoint_dir, signed)
    return [str(r["id"]) for r in rows]


@pytest.fixture
def old(scratch_database: str, tmp_path: Path, settings: Settings) -> Settings:
    command.upgrade(alembic_config(scratch_database), "0015")
    return settings.model_copy(update={"database_url": scratch_database, "data_dir": tmp_path})


def _open(url: str, role: str) -> Database:
    return open_database(as_role(url, role, None), pool_size=1, application_name="rechain")


def test_a_version_1_trail_is_rechained_and_verifies_before_and_after_erasure(
    old: Settings, scratch_database: str
) -> None:
    ids = _v1_trail(scratch_database, old)
    command.upgrade(alembic_config(scratch_database), "head")
    db, sealer_db = _open(scratch_database, APP_ROLE), _open(scratch_database, SEALER_ROLE)
    try:
        with psycopg.connect(scratch_database) as owner:
            committed = owner.execute(
                "SELECT count(*) FROM audit_event WHERE personal_hash IS NOT NULL"
            ).fetchone()
            kept = owner.execute("SELECT count(v1_hash) FROM audit_seal").fetchone()
        assert committed == (2,)  # the events with a purpose text or criteria
        assert kept == (5,)
        # No version-2 checkpoint yet: the sealer signs one on its next tick.
        assert [p.kind for p in run_verify(db=db, settings=old).problems] == ["no_checkpoint"]
        signed = Sealer(sealer_db, old).checkpoint(utcnow())
        assert signed is not None
        assert (signed.version, signed.position) == (2, 5)
        report = run_verify(db=db, settings=old)
        assert report.ok, report.problems
        assert (report.checkpoints_checked, report.personal_checked) == (2, 2)

        later = utcnow() + timedelta(days=old.audit_personal_retention_days, minutes=1)
        assert erase_personal(db, old, later) == 2
        report = run_verify(db=db, settings=old)
        assert report.ok, report.problems
        assert report.personal_erased == 2

        with psycopg.connect(scratch_database, autocommit=True) as superuser:
            superuser.execute("SET session_replication_role = replica")
            superuser.execute("UPDATE audit_seal SET v1_hash = sha256(v1_hash) WHERE position = 5")
            superuser.execute("UPDATE audit_event SET reason = 'x' WHERE id = %s", (ids[2],))
        kinds = [(p.kind, p.position) for p in run_verify(db=db, settings=old).problems]
        assert ("altered", 3) in kinds
        assert ("rewritten", 5) in kinds  # the version-1 checkpoint no longer agrees
    finally:
        db.close()
        sealer_db.close()


def test_a_damaged_version_1_trail_is_not_rechained(old: Settings, scratch_database: str) -> None:
    ids = _v1_trail(scratch_database, old)
    with psycopg.connect(scratch_database, autocommit=True) as superuser:
        superuser.execute("SET session_replication_role = replica")
        superuser.execute("UPDATE audit_event SET action = 'x:y:z' WHERE id = %s", (ids[3],))
    with pytest.raises(Exception, match="does not verify at position 4"):
        command.upgrade(alembic_config(scratch_database), "head")
    with psycopg.connect(scratch_database) as owner:
        assert owner.execute("SELECT version_num FROM alembic_version").fetchone() == ("0015",)
