"""Tamper-evident audit: the service's own database role, which may only insert into and
read the audit tables, and the sealer's, which alone appends to the chain; triggers that refuse UPDATE, DELETE and TRUNCATE on them; each
event's place in commit order (`xid`, `seq`); and `audit_seal`, the hash chain the sealer
appends to.

The role `index_service_app` is made here if it does not exist (a DBA may make it
beforehand, with a password). Migrations keep running as the owner; every table the owner
makes from now on is granted to the role by default privileges.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from index_service.audit.models import XID8

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "index_service_app"
SEALER_ROLE = "index_service_sealer"
APPEND_ONLY = ("audit_event", "audit_seal")
EVENT_COLUMNS = (
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
)


def upgrade() -> None:
    op.add_column(
        "audit_event",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
    )
    op.add_column(
        "audit_event",
        sa.Column("xid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
    )
    op.create_unique_constraint("uq_audit_event_seq", "audit_event", ["seq"])
    op.create_index("ix_audit_event_xid_seq", "audit_event", ["xid", "seq"])
    op.create_index("ix_audit_event_issuer_subject", "audit_event", ["issuer", "subject"])
    op.create_table(
        "audit_seal",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("xid", XID8(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )
    op.execute(
        """
        CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'the audit trail is append-only: % on % is refused',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    # The writing transaction is the database's word, whatever an INSERT says.
    op.execute(
        """
        CREATE FUNCTION audit_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.xid := pg_current_xact_id();
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_event_stamp_xid BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_stamp_xid()"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    _grant_service_role()


def _make_role(role: str) -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            CREATE ROLE {role} LOGIN;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )
    op.execute(
        f"DO $$ BEGIN EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {role}', "
        "current_database()); END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")


def _grant_service_role() -> None:
    _make_role(APP_ROLE)
    # The sealer alone appends to the chain: it reads events and adds seals, nothing more.
    _make_role(SEALER_ROLE)
    op.execute(f"GRANT SELECT ON audit_event TO {SEALER_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON audit_seal TO {SEALER_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}"
    )
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}")
    # An event's place (seq, xid) is the database's alone: the role may insert every other
    # column, so it cannot override the identity (OVERRIDING SYSTEM VALUE needs the column).
    op.execute(f"REVOKE INSERT ON audit_seal FROM {APP_ROLE}")  # the sealer's alone
    op.execute(f"REVOKE INSERT ON audit_event FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT ({', '.join(EVENT_COLUMNS)}) ON audit_event TO {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {SEALER_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {SEALER_ROLE}")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM {SEALER_ROLE}', "
        "current_database()); END $$"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM {APP_ROLE}', "
        "current_database()); END $$"
    )
    op.drop_table("audit_seal")  # the triggers go with their tables
    for table in APPEND_ONLY[:1]:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute("DROP TRIGGER audit_event_stamp_xid ON audit_event")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.execute("DROP FUNCTION audit_stamp_xid()")
    op.drop_index("ix_audit_event_issuer_subject", table_name="audit_event")
    op.drop_index("ix_audit_event_xid_seq", table_name="audit_event")
    op.drop_constraint("uq_audit_event_seq", "audit_event", type_="unique")
    op.drop_column("audit_event", "xid")
    op.drop_column("audit_event", "seq")
