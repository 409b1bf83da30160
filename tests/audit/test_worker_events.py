"""The worker's own acts are audit events too, each in the transaction of the act: alerts
its scheduler raises (R6 escalations), deliveries that end (delivered or given up)."""

from __future__ import annotations

from datetime import UTC, datetime

from index_service.alerts import scheduler
from index_service.alerts.delivery import deliver_due
from index_service.database import Database
from index_service.settings import Settings
from tests.alerts.test_delivery import Mailbox, raise_alert, settings_for
from tests.alerts.test_escalation import FRIDAY_EVENING, _raise_alert
from tests.factories import Factory


def test_an_escalation_raised_by_the_scheduler_is_an_audit_event(
    factory: Factory, settings: Settings
) -> None:
    alert_id = _raise_alert(factory, FRIDAY_EVENING)
    scheduler.tick(db=factory.db, settings=settings, now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    [event] = [r for r in factory.audit_rows() if r["action"] == "alert:raise"]
    assert event["method"] == "SYSTEM"
    assert event["route"] == "worker:scheduler"
    assert event["subject"] is None
    assert event["detail"]["rule"] == "R6"
    assert len(event["detail"]["alerts_raised"]) == 1
    assert event["detail"]["alerts_raised"][0] != str(alert_id)  # the escalation's own id


def test_a_delivered_alert_and_an_abandoned_one_are_audit_events(
    db: Database, settings: Settings, factory: Factory
) -> None:
    mailbox = Mailbox()
    mailbox.start()
    try:
        now = datetime(2026, 12, 1, 9, tzinfo=UTC)
        delivered, _ = raise_alert(db, at=now, email_to="duty@ealing.example")
        deliver_due(db=db, settings=settings_for(settings, mailbox), worker_name="w", now=now)
        unsent, _ = raise_alert(db, at=now, email_to="duty@ealing.example")
        deliver_due(db=db, settings=settings, worker_name="w", now=now)  # no SMTP_HOST
    finally:
        mailbox.stop()
    rows = {r["detail"].get("alert_id"): r for r in factory.audit_rows()}
    assert rows[str(delivered.id)]["action"] == "alert:delivery:delivered"
    assert rows[str(delivered.id)]["outcome"] == "success"
    assert rows[str(unsent.id)]["action"] == "alert:delivery:abandoned"
    assert rows[str(unsent.id)]["reason"] == "email is not configured"
    assert rows[str(unsent.id)]["outcome"] == "failed"
