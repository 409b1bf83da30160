"""The audit trail over its life: `audit_event` partitioned by month, the personal part of
each event committed to with a salted hash (chain version 2, `audit/chain.py`) so that it
can be erased at retention and the chain still verifies, and the erasure itself.

- `audit_event` becomes a table partitioned by RANGE (occurred_at), one partition a
  month (`audit_event_YYYY_MM`) and a default one; its primary key is (id, occurred_at),
  as a partitioned table's must hold the partition key. The existing rows are copied
  over, with their `seq` and `xid`.
- `audit_ensure_partition(month)`: makes a month's partition (the worker makes the
  coming months' ahead), with the statement trigger that refuses TRUNCATE (row triggers
  are cloned onto partitions, statement triggers are not) and no privileges of its own
  for the service's roles (they reach the rows through the parent).
- The append-only trigger lets one UPDATE through: the erasure of a committed personal
  part (salt, purpose text and the personal keys of `detail` set to nothing, everything
  else unchanged). Only the owner may update at all; the service reaches it through
  `audit_erase_personal(cutoff, batch)`, which erases up to `batch` events older than
  `cutoff`, oldest first, and remembers how far it got (`audit_erasure`).
- Re-chaining: every existing seal's version-1 link is checked first (the migration
  stops if one does not hold: re-chaining a damaged trail would launder it), then each
  event with a personal part gets its salt and commitment, and every seal its version-2
  hash, its version-1 hash kept in `v1_hash` (what version-1 checkpoints are checked
  against). Versioning the format instead, with old rows left on version 1, would leave
  those rows' personal data inside the chained bytes: they could never be erased
  without breaking the chain, and they are the first to reach retention.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from index_service.audit.chain import (
    EVENT_COLUMNS,
    GENESIS,
    PERSONAL_DETAIL_KEYS,
    commit,
    link,
    link_v1,
)

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "index_service_app"
SEALER_ROLE = "index_service_sealer"
BATCH = 5000
PERSONAL_KEYS_SQL = "ARRAY[" + ", ".join(f"'{k}'" for k in PERSONAL_DETAIL_KEYS) + "]::text[]"
INSERTABLE = (
    "id",
    "occurred_at",
    "action",
    "outcome",
    "status_code",
    "reason",
    "issuer",
    "subject",
    "actor_name",
    "organisation",
    "roles",
    "child_ids",
    "purpose",
    "purpose_text",
    "method",
    "route",
    "request_id",
    "instance",
    "client_address",
    "user_agent",
    "detail",
    "personal_salt",
    "personal_hash",
)
UNCHANGED_BY_ERASURE = [
    c for c in ("seq", "xid", *INSERTABLE) if c not in ("purpose_text", "detail", "personal_salt")
]
INDEXES = (
    ("ix_audit_event_id", "(id)"),
    ("ix_audit_event_action", "(action)"),
    ("ix_audit_event_child_ids", "USING gin (child_ids)"),
    ("ix_audit_event_issuer_subject", "(issuer, subject)"),
    ("ix_audit_event_occurred_at", "(occurred_at)"),
    ("ix_audit_event_organisation", "(organisation)"),
    ("ix_audit_event_request_id", "(request_id)"),
    ("ix_audit_event_subject", "(subject)"),
    ("ix_audit_event_xid_seq", "(xid, seq)"),
)


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("LOCK TABLE audit_event, audit_seal IN ACCESS EXCLUSIVE MODE")
    _functions()
    op.execute(
        "CREATE TABLE audit_event_partitioned (LIKE audit_event INCLUDING DEFAULTS "
        "INCLUDING IDENTITY) PARTITION BY RANGE (occurred_at)"
    )
    op.execute("ALTER TABLE audit_event_partitioned ADD COLUMN personal_salt bytea")
    op.execute("ALTER TABLE audit_event_partitioned ADD COLUMN personal_hash bytea")
    op.execute(
        "ALTER TABLE audit_event_partitioned ADD CONSTRAINT pk_audit_event "
        "PRIMARY KEY (id, occurred_at)"
    )
    op.execute("ALTER TABLE audit_event RENAME TO audit_event_v1")
    op.execute("ALTER TABLE audit_event_partitioned RENAME TO audit_event")
    first = bind.execute(sa.text("SELECT min(occurred_at) FROM audit_event_v1")).scalar()
    now = datetime.now(UTC)
    month = (first or now).astimezone(UTC).date().replace(day=1)
    last = _add_months(now.date().replace(day=1), 2)
    while month <= last:
        bind.execute(sa.text("SELECT audit_ensure_partition(:m)"), {"m": month})
        month = _add_months(month, 1)
    op.execute("CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT")
    _guard_partition("audit_event_default")
    columns = ", ".join(c for c in ("seq", "xid", *INSERTABLE) if not c.startswith("personal"))
    op.execute(
        f"INSERT INTO audit_event ({columns}) OVERRIDING SYSTEM VALUE "
        f"SELECT {columns} FROM audit_event_v1"
    )
    op.execute("DROP TABLE audit_event_v1")
    for name, spec in INDEXES:
        op.execute(f"CREATE INDEX {name} ON audit_event {spec}")
    op.execute("CREATE UNIQUE INDEX uq_audit_event_seq ON audit_event (seq, occurred_at)")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_event', 'seq'), "
        "coalesce((SELECT max(seq) FROM audit_event), 0) + 1, false)"
    )
    _commit_personal_parts(bind)
    op.add_column("audit_seal", sa.Column("v1_hash", sa.LargeBinary(), nullable=True))
    _rechain(bind)
    _triggers()
    _grants()


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _guard_partition(name: str) -> None:
    op.execute(
        f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(f"REVOKE ALL ON {name} FROM {APP_ROLE}, {SEALER_ROLE}")


def _functions() -> None:
    op.execute(
        f"""
        CREATE FUNCTION audit_ensure_partition(month date) RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
          start date := date_trunc('month', month)::date;
          name text := 'audit_event_' || to_char(start, 'YYYY_MM');
        BEGIN
          PERFORM pg_advisory_xact_lock(hashtext('audit_ensure_partition'));
          IF to_regclass(name) IS NOT NULL THEN
            RETURN name;
          END IF;
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)',
            name, to_char(start, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char(start + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
          EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
            'EXECUTE FUNCTION audit_refuse_change()', name || '_no_truncate', name);
          EXECUTE format('REVOKE ALL ON %I FROM {APP_ROLE}, {SEALER_ROLE}', name);
          RETURN name;
        END $$
        """
    )
    op.execute(
        """
        CREATE TABLE audit_erasure (
          only_row boolean DEFAULT true NOT NULL,
          erased_before timestamptz NOT NULL,
          CONSTRAINT pk_audit_erasure PRIMARY KEY (only_row)
        )
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION audit_erase_personal(cutoff timestamptz, batch integer) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
          mark timestamptz;
          erased integer;
        BEGIN
          -- One eraser at a time; no row yet: nothing erased yet.
          PERFORM pg_advisory_xact_lock(hashtext('audit_erase_personal'));
          SELECT coalesce(max(erased_before), '-infinity') INTO mark FROM audit_erasure;
          IF cutoff <= mark THEN
            RETURN 0;
          END IF;
          WITH due AS (
            SELECT id, occurred_at FROM audit_event
            WHERE occurred_at >= mark AND occurred_at < cutoff AND personal_salt IS NOT NULL
            ORDER BY occurred_at LIMIT batch
          ), done AS (
            UPDATE audit_event e
            SET purpose_text = NULL, personal_salt = NULL,
                detail = e.detail - {PERSONAL_KEYS_SQL}
            FROM due
            WHERE e.id = due.id AND e.occurred_at = due.occurred_at
              AND e.personal_salt IS NOT NULL
            RETURNING 1
          )
          SELECT count(*) INTO erased FROM done;
          IF erased < batch THEN
            INSERT INTO audit_erasure (only_row, erased_before) VALUES (true, cutoff)
            ON CONFLICT (only_row) DO UPDATE SET erased_before = excluded.erased_before;
          END IF;
          RETURN erased;
        END $$
        """
    )


def _commit_personal_parts(bind: sa.Connection) -> None:
    """Salt and commitment for every existing event with a personal part."""
    after = -1
    select = sa.text(
        "SELECT id, occurred_at, seq, purpose_text, detail FROM audit_event "
        f"WHERE seq > :after AND (purpose_text IS NOT NULL OR detail ?| {PERSONAL_KEYS_SQL}) "
        "ORDER BY seq LIMIT :n"
    )
    update = sa.text(
        "UPDATE audit_event SET personal_salt = :salt, personal_hash = :hash "
        "WHERE id = :id AND occurred_at = :at"
    )
    while rows := bind.execute(select, {"after": after, "n": BATCH}).mappings().all():
        changes = []
        for row in rows:
            salt, committed = commit(row["purpose_text"], row["detail"])
            changes.append(
                {"salt": salt, "hash": committed, "id": row["id"], "at": row["occurred_at"]}
            )
        bind.execute(update, changes)
        after = rows[-1]["seq"]


def _rechain(bind: sa.Connection) -> None:
    """Check each version-1 link, then replace it with the version-2 one."""
    select = sa.text(
        f"SELECT s.position, s.hash AS sealed_hash, s.event_id AS sealed_id, {EVENT_COLUMNS} "
        "FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id "
        "WHERE s.position > :after ORDER BY s.position LIMIT :n"
    )
    update = sa.text("UPDATE audit_seal SET hash = :hash, v1_hash = :v1 WHERE position = :position")
    op.execute("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only")
    after, v1, v2 = 0, GENESIS, GENESIS
    while rows := bind.execute(select, {"after": after, "n": BATCH}).mappings().all():
        changes = []
        for row in rows:
            position = row["position"]
            sealed = bytes(row["sealed_hash"])
            if position != after + 1 or row["id"] is None or link_v1(v1, position, row) != sealed:
                raise RuntimeError(
                    f"the audit chain does not verify at position {position} (event "
                    f"{row['sealed_id']}): not re-chaining it; run `index-service audit verify`"
                )
            v1, v2 = sealed, link(v2, position, row)
            changes.append({"hash": v2, "v1": sealed, "position": position})
            after = position
        bind.execute(update, changes)
    op.execute("ALTER TABLE audit_seal ENABLE TRIGGER audit_seal_append_only")


def _triggers() -> None:
    unchanged = ", ".join(f"NEW.{c}" for c in UNCHANGED_BY_ERASURE)
    before = ", ".join(f"OLD.{c}" for c in UNCHANGED_BY_ERASURE)
    op.execute(
        f"""
        CREATE FUNCTION audit_event_guard_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          -- The one change allowed: erasing a committed personal part, nothing else.
          IF TG_OP = 'UPDATE'
             AND OLD.personal_salt IS NOT NULL AND OLD.personal_hash IS NOT NULL
             AND NEW.personal_salt IS NULL AND NEW.purpose_text IS NULL
             AND NEW.detail = OLD.detail - {PERSONAL_KEYS_SQL}
             AND ROW({unchanged}) IS NOT DISTINCT FROM ROW({before})
          THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'the audit trail is append-only: % on % is refused',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_stamp_xid BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_stamp_xid()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_guard_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )


def _grants() -> None:
    op.execute(f"REVOKE ALL ON audit_event, audit_erasure FROM {APP_ROLE}, {SEALER_ROLE}")
    op.execute(f"GRANT SELECT ON audit_event, audit_erasure TO {APP_ROLE}, {SEALER_ROLE}")
    op.execute(f"GRANT INSERT ({', '.join(INSERTABLE)}) ON audit_event TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE {_identity_sequence()} TO {APP_ROLE}")
    for function in ("audit_ensure_partition(date)", "audit_erase_personal(timestamptz, integer)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def _identity_sequence() -> str:
    name = op.get_bind().execute(sa.text("SELECT pg_get_serial_sequence('audit_event', 'seq')"))
    return str(name.scalar_one())


def downgrade() -> None:
    """Back to one unpartitioned table and the version-1 chain, recomputed from the
    events: possible only while no personal part has been erased (version 1 chains it)."""
    bind = op.get_bind()
    op.execute("LOCK TABLE audit_event, audit_seal IN ACCESS EXCLUSIVE MODE")
    erased = bind.execute(
        sa.text(
            "SELECT count(*) FROM audit_event "
            "WHERE personal_hash IS NOT NULL AND personal_salt IS NULL"
        )
    ).scalar_one()
    if erased:
        raise RuntimeError(
            f"{erased} audit events have had their personal part erased: version 1 of the "
            "chain cannot hold them; restore a backup taken before 0020 instead"
        )
    select = sa.text(
        f"SELECT s.position, s.hash AS sealed_hash, s.event_id AS sealed_id, {EVENT_COLUMNS} "
        "FROM audit_seal s LEFT JOIN audit_event e ON e.id = s.event_id "
        "WHERE s.position > :after ORDER BY s.position LIMIT :n"
    )
    update = sa.text("UPDATE audit_seal SET hash = :hash WHERE position = :position")
    op.execute("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only")
    after, v1, v2 = 0, GENESIS, GENESIS
    while rows := bind.execute(select, {"after": after, "n": BATCH}).mappings().all():
        changes = []
        for row in rows:
            position = row["position"]
            sealed = bytes(row["sealed_hash"])
            if position != after + 1 or row["id"] is None or link(v2, position, row) != sealed:
                raise RuntimeError(f"the audit chain does not verify at position {position}")
            v1, v2 = link_v1(v1, position, row), sealed
            changes.append({"hash": v1, "position": position})
            after = position
        bind.execute(update, changes)
    op.execute("ALTER TABLE audit_seal ENABLE TRIGGER audit_seal_append_only")
    op.drop_column("audit_seal", "v1_hash")
    columns = ", ".join(c for c in ("seq", "xid", *INSERTABLE) if not c.startswith("personal"))
    op.execute(
        "CREATE TABLE audit_event_plain (LIKE audit_event INCLUDING DEFAULTS INCLUDING IDENTITY)"
    )
    op.execute("ALTER TABLE audit_event_plain DROP COLUMN personal_salt")
    op.execute("ALTER TABLE audit_event_plain DROP COLUMN personal_hash")
    op.execute(
        f"INSERT INTO audit_event_plain ({columns}) OVERRIDING SYSTEM VALUE "
        f"SELECT {columns} FROM audit_event"
    )
    op.execute("DROP TABLE audit_event")  # its partitions, indexes and triggers go with it
    op.execute("ALTER TABLE audit_event_plain RENAME TO audit_event")
    op.execute("ALTER TABLE audit_event ADD CONSTRAINT audit_event_pkey PRIMARY KEY (id)")
    op.execute("ALTER TABLE audit_event ADD CONSTRAINT uq_audit_event_seq UNIQUE (seq)")
    for name, spec in INDEXES:
        if name != "ix_audit_event_id":
            op.execute(f"CREATE INDEX {name} ON audit_event {spec}")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_event', 'seq'), "
        "coalesce((SELECT max(seq) FROM audit_event), 0) + 1, false)"
    )
    op.execute(
        "CREATE TRIGGER audit_event_stamp_xid BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_stamp_xid()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(f"REVOKE ALL ON audit_event FROM {APP_ROLE}, {SEALER_ROLE}")
    op.execute(f"GRANT SELECT ON audit_event TO {APP_ROLE}, {SEALER_ROLE}")
    v1_columns = ", ".join(c for c in INSERTABLE if not c.startswith("personal"))
    op.execute(f"GRANT INSERT ({v1_columns}) ON audit_event TO {APP_ROLE}")
    op.execute("DROP FUNCTION audit_event_guard_change()")
    op.execute("DROP FUNCTION audit_erase_personal(timestamptz, integer)")
    op.execute("DROP FUNCTION audit_ensure_partition(date)")
    op.execute("DROP TABLE audit_erasure")
