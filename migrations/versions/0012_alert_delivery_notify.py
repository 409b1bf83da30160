"""A queued alert delivery wakes the workers: NOTIFY on the `alert_delivery` channel when
deliveries are inserted (once per statement, delivered at commit, so a worker never
looks for a row it cannot see yet). Workers LISTEN and poll only as a fallback.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION alert_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('alert_delivery', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER alert_delivery_queued AFTER INSERT ON alert_delivery "
        "FOR EACH STATEMENT EXECUTE FUNCTION alert_delivery_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER alert_delivery_queued ON alert_delivery")
    op.execute("DROP FUNCTION alert_delivery_notify()")
