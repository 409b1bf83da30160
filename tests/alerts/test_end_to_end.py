"""Through the HTTP API: an enquiry raises an alert whose email and webhook wait in the
outbox while the SMTP server and the agency's receiver are down, and are delivered once
each when they return, carrying the alert's id and nothing about the child."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient

from index_service.alerts.delivery import deliver_due
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import Settings
from tests.alerts.test_delivery import Mailbox, Receiver, settings_for
from tests.factories import Factory, child_payload, create_confirming

FULL = {
    "given_names": "Aisha",
    "family_name": "Testchild",
    "date_of_birth": "2016-02-11",
    "nhs_number": "9992914173",
}


def test_an_enquirys_alert_survives_an_outage_and_arrives_once_by_email_and_webhook(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    csc = factory.organisation()
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw-kate")
    child_id = create_confirming(
        client, factory.headers_for(csc, roles=["data_manager"], sub="dm"), child_payload()
    )
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Child protection", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text

    mailbox, receiver = Mailbox(), Receiver()  # neither is listening yet
    admin = factory.headers(roles=["administrator"], type="index_operator")
    path = f"/hooks/{csc.code.lower()}"
    registered = client.post(
        "/v1/webhook-endpoints",
        json={"organisation_code": csc.code, "url": receiver.url(path)},
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    receiver.secrets[path] = registered.json()["secret"]

    nurse = factory.headers(roles=["practitioner"], type="emergency_department")
    assert client.post("/v1/enquiries", json=FULL, headers=nurse).json()["outcome"] == "match"
    [alert] = client.get("/v1/alerts", headers=key_worker).json()["items"]

    worker_settings = settings_for(settings, mailbox)
    clock = utcnow()
    try:
        for _ in range(3):  # down: attempts fail and are retried later, nothing is dropped
            assert deliver_due(db=db, settings=worker_settings, worker_name="w", now=clock) == 2
            clock += timedelta(hours=2)
        mailbox.start()
        receiver.start()
        assert deliver_due(db=db, settings=worker_settings, worker_name="w", now=clock) == 2
        assert deliver_due(db=db, settings=worker_settings, worker_name="w", now=clock) == 0
    finally:
        mailbox.stop()
        receiver.stop()

    [mail] = mailbox.received
    assert mail.rcpt_tos == ["sw-kate@test.example"]
    body = mail.message.get_content()
    assert alert["id"] in body
    for detail in ("Aisha", "Testchild", "2016-02-11", "9992914173", child_id):
        assert detail not in body
    [arrival] = receiver.arrivals
    assert arrival.verified
    assert Counter(receiver.processed) == Counter({arrival.headers["webhook-id"]: 1})
    payload = arrival.body.decode()
    assert alert["id"] in payload
    for detail in ("Aisha", "Testchild", "2016-02-11", "9992914173", child_id):
        assert detail not in payload


def test_two_workers_deliver_each_alert_raised_through_the_api_exactly_once(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    csc = factory.organisation()
    key_worker = factory.headers_for(csc, roles=["social_worker"], sub="sw-kate")
    child_id = create_confirming(
        client, factory.headers_for(csc, roles=["data_manager"], sub="dm"), child_payload()
    )
    involved = client.post(
        f"/v1/children/{child_id}/involvements",
        json={"service": "Child protection", "is_key_worker": True},
        headers=key_worker,
    )
    assert involved.status_code == 201, involved.text
    mailbox, receiver = Mailbox(), Receiver()
    admin = factory.headers(roles=["administrator"], type="index_operator")
    registered = client.post(
        "/v1/webhook-endpoints",
        json={"organisation_code": csc.code, "url": receiver.url("/hooks/csc")},
        headers=admin,
    )
    receiver.secrets["/hooks/csc"] = registered.json()["secret"]
    hospital = factory.organisation(type="emergency_department")
    for n in range(12):  # twelve people enquire: twelve alerts, each by email and webhook
        nurse = factory.headers_for(hospital, roles=["practitioner"], sub=f"nurse-{n}")
        assert client.post("/v1/enquiries", json=FULL, headers=nurse).status_code == 201
    alerts = client.get("/v1/alerts", headers=key_worker).json()["items"]
    assert len(alerts) == 12

    worker_settings = settings_for(settings, mailbox)
    mailbox.start()
    receiver.start()
    try:

        def work(name: str) -> None:
            while deliver_due(db=db, settings=worker_settings, worker_name=name, limit=3):
                pass

        threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        mailbox.stop()
        receiver.stop()

    delivered = Counter(json.loads(a.body)["data"]["alert_id"] for a in receiver.arrivals)
    assert delivered == Counter({a["id"]: 1 for a in alerts})  # raw arrivals, no de-dupe
    mailed = Counter(m.message["Message-ID"] for m in mailbox.received)
    assert len(mailed) == 12
    assert set(mailed.values()) == {1}
