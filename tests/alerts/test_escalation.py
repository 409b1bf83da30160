"""R6 with a controllable clock: an alert raised on a Friday evening escalates on Monday
evening, not over the weekend; and each overdue alert escalates once, however many
schedulers tick."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import col, select

from index_service.alerts import scheduler
from index_service.alerts.models import Alert, Rule, Team
from index_service.alerts.rules import AlertDraft, Recipient
from index_service.alerts.service import AlertTiming, Occasion, raise_alerts
from index_service.settings import Settings
from tests.factories import EALING, Factory

FRIDAY_EVENING = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
TIMING = AlertTiming(repeat_window=timedelta(hours=24), acknowledge_working_days=1)


def _raise_alert(factory: Factory, at: datetime, about: str = "") -> uuid.UUID:
    """An alert to Ealing's data managers (R7), raised at `at`."""
    draft = AlertDraft(
        Rule.R7,
        "shielded_record_reached",
        Recipient.inbox(Team.DATA_MANAGERS, EALING),
        about=about or str(uuid.uuid4()),
    )
    with factory.db.transaction() as session:
        [alert] = raise_alerts(
            session=session,
            drafts=[draft],
            occasion=Occasion(actor=None, occurred_at=at),
            timing=TIMING,
        )
        return alert.id


def _escalations(factory: Factory) -> list[Alert]:
    with factory.db.session() as session:
        return list(session.exec(select(Alert).where(col(Alert.rule) == "R6")).all())


def test_an_alert_raised_on_friday_evening_escalates_on_monday_evening(
    factory: Factory, settings: Settings, client: TestClient
) -> None:
    alert_id = _raise_alert(factory, FRIDAY_EVENING)
    for moment in (
        FRIDAY_EVENING + timedelta(hours=1),
        datetime(2026, 11, 28, 17, 1, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 29, 17, 1, tzinfo=UTC),  # Sunday
        datetime(2026, 11, 30, 16, 59, tzinfo=UTC),  # Monday, a minute early
    ):
        scheduler.tick(db=factory.db, settings=settings, now=moment)
        assert _escalations(factory) == [], moment
    scheduler.tick(db=factory.db, settings=settings, now=datetime(2026, 11, 30, 17, 1, tzinfo=UTC))
    [escalation] = _escalations(factory)
    assert escalation.escalation_of == alert_id
    assert (escalation.recipient_team, escalation.recipient_authority) == (
        "designated_managers",
        EALING,
    )
    designated = factory.headers(roles=["designated_manager"])
    listed = client.get("/v1/alerts", headers=designated).json()["items"]
    assert [(a["rule"], a["escalation_of"]) for a in listed] == [("R6", str(alert_id))]


def test_concurrent_schedulers_escalate_each_alert_once(
    factory: Factory, settings: Settings
) -> None:
    ids = {_raise_alert(factory, FRIDAY_EVENING) for n in range(20)}
    later = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    threads = [
        threading.Thread(
            target=scheduler.tick, kwargs={"db": factory.db, "settings": settings, "now": later}
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    escalated = [e.escalation_of for e in _escalations(factory)]
    assert sorted(map(str, escalated)) == sorted(map(str, ids))
