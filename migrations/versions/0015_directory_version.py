"""The directory's version: one row whose number goes up, in the same transaction, with
every change to the tables each request reads (organisations, suspensions, trusted
issuers). A service process caches those tables and reads this number in the first
statement of each request's unit of work: when it has moved, the cache is reloaded and
the caller checked again before anything is done, so a suspension or a withdrawal takes
effect on the very next request on every instance. A row, not a sequence: a sequence
moves before the change commits, and a reader could cache the old rows under the new
number; the row's new number becomes visible exactly when the change does. (Changes made
with triggers off, as a restore in `session_replication_role = replica` makes them, must
move the number by hand: `UPDATE directory_version SET version = version + 1`.)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "index_service_app"
WATCHED = ("organisation", "suspension", "trusted_issuer")


def upgrade() -> None:
    op.execute(
        "CREATE TABLE directory_version ("
        " id boolean PRIMARY KEY DEFAULT true CHECK (id),"
        " version bigint NOT NULL)"
    )
    op.execute("INSERT INTO directory_version (id, version) VALUES (true, 1)")
    # The service reads the number and its triggers move it; it never adds or removes the row.
    op.execute(f"REVOKE ALL ON directory_version FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT, UPDATE (version) ON directory_version TO {APP_ROLE}")
    op.execute(
        """
        CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql
        SET search_path = public, pg_temp AS $$
        BEGIN
            UPDATE directory_version SET version = version + 1;
            RETURN NULL;
        END $$
        """
    )
    for table in WATCHED:
        op.execute(
            f"CREATE TRIGGER {table}_directory_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()"
        )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {table}_directory_changed ON {table}")
    op.execute("DROP FUNCTION directory_changed()")
    op.execute("DROP TABLE directory_version")
