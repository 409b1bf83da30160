"""Raising alerts and queueing their deliveries (`alerts/service.py`): an organisation an
administrator deactivated is sent nothing, by email or webhook; its alerts stay in the
index (where an unacknowledged one escalates, R6)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from index_service.alerts.models import Alert, AlertDelivery, WebhookEndpoint
from index_service.common import utcnow
from index_service.organisations.models import Organisation
from tests.api.test_enquiry_rules import People
from tests.factories import HARINGEY, Factory


@pytest.fixture
def people(client: TestClient, factory: Factory) -> People:
    return People(
        client=client,
        factory=factory,
        csc=factory.organisation(),
        haringey_csc=factory.organisation(local_authority=HARINGEY),
        hospital=factory.organisation(type="emergency_department"),
        police=factory.organisation(type="police"),
        school=factory.organisation(type="school"),
    )


def _webhook(people: People, organisation: Organisation) -> None:
    with people.factory.db.transaction() as session:
        session.add(
            WebhookEndpoint(
                organisation_id=organisation.id,
                url="https://receiver.example.test/hooks/school",
                secret="whsec_" + "A" * 32,
                active=True,
                created_by="test-admin",
            )
        )


def _deliveries_to(people: People, subject: str) -> dict[uuid.UUID, list[str]]:
    """Each alert to this person (by subject), with the channels of its outbox rows."""
    with people.factory.db.session() as session:
        alerts = session.exec(select(Alert).where(col(Alert.recipient_subject) == subject)).all()
        found: dict[uuid.UUID, list[str]] = {}
        for alert in alerts:
            rows = session.exec(
                select(AlertDelivery).where(col(AlertDelivery.alert_id) == alert.id)
            ).all()
            found[alert.id] = sorted(r.channel for r in rows)
        return found


def _deactivate(people: People, organisation: Organisation) -> None:
    with people.factory.db.transaction() as session:
        row = session.get(Organisation, organisation.id)
        assert row is not None
        row.deactivated_at = utcnow()
        row.deactivated_by = "test-admin"
        row.deactivation_reason = "Closed in March"
        session.add(row)


def test_a_deactivated_organisation_is_sent_no_email_nor_webhook(people: People) -> None:
    """The school's teacher works with the child; while the school takes part, an alert
    to her goes by email and to the school's webhook. Once the school is deactivated, the
    next alert to her is still raised (the index keeps it) but nothing is queued."""
    child_id = people.child()
    teacher = people.as_(people.school, "t-tom")
    people.involve(child_id, teacher, found=True)
    _webhook(people, people.school)
    officer = people.as_(people.police, "pc-pat")
    people.involve(child_id, officer, found=True)  # R4: the teacher hears of it
    [while_active] = _deliveries_to(people, "t-tom").values()
    assert while_active == ["email", "webhook"]

    _deactivate(people, people.school)
    before = set(_deliveries_to(people, "t-tom"))
    people.involve(child_id, people.key_worker, is_key_worker=True)  # R4 again
    after = _deliveries_to(people, "t-tom")
    [new] = set(after) - before
    assert after[new] == []  # raised, and sent nowhere
