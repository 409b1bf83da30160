"""The outbox worker against a real SMTP server (aiosmtpd) and a real webhook receiver
(an HTTP server that checks Standard Webhooks signatures), both on 127.0.0.1.

The clock is passed in: backoff is never waited for, the test moves `now` past it."""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

import httpcore2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from sqlmodel import col, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from typer.testing import CliRunner

from index_service.alerts.delivery import deliver_due, retry_delay, run_worker
from index_service.alerts.models import (
    Alert,
    AlertDelivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
)
from index_service.alerts.wakeup import Wakeup
from index_service.cli import app
from index_service.common import utcnow
from index_service.database import Database
from index_service.organisations.models import Organisation
from index_service.settings import Settings
from tests.api.test_enquiry_rules import People
from tests.factories import HARINGEY, Factory

PUBLIC_URL = "https://index.example.test"
# Case detail an alert row holds and no email or webhook may carry.
PRIVATE = {
    "actor_name": "Robin Enquirer",
    "actor_email": "robin.enquirer@hospital.example",
    "actor_phone": "020 7946 0999",
    "actor_organisation_name": "St Synthetic Hospital",
    "purpose_text": "bruising seen at triage",
    "recipient_name": "Dana Manager",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def path_of(hook: WebhookEndpoint) -> str:
    return urlsplit(hook.url).path


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


# --- the SMTP server -------------------------------------------------------------------


@dataclass
class Mail:
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class Mailbox:
    """An aiosmtpd server that keeps every message it accepts (raw arrivals)."""

    def __init__(self, **smtp_options: Any) -> None:
        self.port = free_port()
        self.received: list[Mail] = []
        self.options = smtp_options
        self.controller: Controller | None = None
        self.arrived = threading.Event()  # set when a message is accepted

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        self.received.append(Mail(list(envelope.rcpt_tos), message, envelope.content))
        self.arrived.set()
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- the webhook receiver --------------------------------------------------------------


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """An agency's receiver: verifies each signature, acts once per `webhook-id`, and
    answers each path's queued status codes in turn (then 200)."""

    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)  # raw, duplicates included
    processed: list[str] = field(default_factory=list)  # webhook ids acted on, once each
    redirect_hits: int = 0
    holds: dict[str, threading.Event] = field(default_factory=dict)  # a path hangs till set
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def endpoint_path(self, secret: str) -> str:
        path = f"/hooks/{uuid.uuid4().hex[:8]}"
        self.secrets[path] = secret
        return path

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str | None]:
        with self.lock:
            if path == "/redirected":
                self.redirect_hits += 1
                return 200, None
            try:
                Webhook(self.secrets[path]).verify(body, headers)
                verified = True
            except (KeyError, WebhookVerificationError):
                verified = False
            self.arrivals.append(Arrival(path, headers, body, verified))
            if not verified:
                return 401, None
            if headers["webhook-id"] not in self.processed:
                self.processed.append(headers["webhook-id"])
            queued = self.answers.get(path)
            status = queued.pop(0) if queued else 200
            return status, self.url("/redirected") if status == 302 else None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                hold = receiver.holds.get(self.path)
                if hold is not None:
                    hold.wait(60)  # a receiver that hangs (bounded, so the test ends)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, location = receiver.handle(self.path, headers, body)
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST  # noqa: N815 (a followed redirect would arrive as a GET)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> Counter[str]:
        return Counter(a.headers["webhook-id"] for a in self.arrivals)


# --- fixtures and builders -------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def settings_for(settings: Settings, mailbox: Mailbox, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "public_url": PUBLIC_URL,
            "delivery_backoff_seconds": 5.0,
            "delivery_backoff_max_seconds": 3600.0,
            "delivery_max_attempts": 15,
            "delivery_timeout_seconds": 5.0,
            **changes,
        }
    )


def endpoint(
    db: Database,
    factory: Factory,
    receiver: Receiver,
    *,
    active: bool = True,
    organisation: Organisation | None = None,
) -> WebhookEndpoint:
    """`organisation`: whose endpoint (unset: a new children's social care's)."""
    organisation = organisation or factory.organisation()
    secret = new_secret()
    row = WebhookEndpoint(
        organisation_id=organisation.id,
        url=receiver.url(receiver.endpoint_path(secret)),
        secret=secret,
        active=active,
        created_by="test-admin",
    )
    with db.transaction() as session:
        session.add(row)
    return row


def raise_alert(
    db: Database,
    *,
    at: datetime,
    email_to: str | None = None,
    endpoints: tuple[WebhookEndpoint, ...] = (),
) -> tuple[Alert, list[AlertDelivery]]:
    """An alert full of case detail, and its outbox rows due at `at`."""
    alert = Alert(
        rule="R1",
        reason="enquiry_while_involved",
        occurred_at=at,
        dedupe_key=f"test:{uuid.uuid4()}",
        recipient_email=email_to,
        purpose="safeguarding_concern",
        **PRIVATE,
    )
    rows = [
        AlertDelivery(alert_id=alert.id, channel="webhook", webhook_endpoint_id=e.id)
        for e in endpoints
    ]
    if email_to:
        rows.append(AlertDelivery(alert_id=alert.id, channel="email", email_to=email_to))
    with db.transaction() as session:
        session.add(alert)
        session.flush()
        for row in rows:
            row.next_attempt_at = at
            session.add(row)
    return alert, rows


def deliveries(db: Database) -> dict[uuid.UUID, AlertDelivery]:
    with db.session() as session:
        return {d.id: d for d in session.exec(select(AlertDelivery)).all()}


def attempts_of(db: Database, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
    with db.session() as session:
        query = (
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id) == delivery_id)
            .order_by(col(DeliveryAttempt.attempted_at))
        )
        return list(session.exec(query).all())


def assert_no_case_detail(text: str) -> None:
    for value in PRIVATE.values():
        assert value not in text


# --- tests -----------------------------------------------------------------------------


def test_an_email_says_only_that_an_alert_is_waiting_and_is_sent_once(
    db: Database, settings: Settings, mailbox: Mailbox
) -> None:
    s = settings_for(settings, mailbox)
    now = utcnow()
    alert, [row] = raise_alert(db, at=now, email_to="duty.manager@ealing.example")

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1
    assert deliver_due(db=db, settings=s, worker_name="w1", now=now + timedelta(days=1)) == 0

    [mail] = mailbox.received
    assert mail.rcpt_tos == ["duty.manager@ealing.example"]
    assert mail.message["To"] == "duty.manager@ealing.example"
    assert mail.message["Subject"] == "An alert is waiting for you in the children's index"
    assert mail.message["Message-ID"].strip() == f"<alert.{row.id.hex}@index-service.invalid>"
    body = mail.message.get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert body == (
        "An alert is waiting for you in the children's index.\n\n"
        "Sign in to read it:\n"
        f"{PUBLIC_URL}/alerts/{alert.id}\n\n"
        f"Alert reference: {alert.id}\n\n"
        "This email carries no details of the alert. Please do not reply to it.\n"
    )
    assert_no_case_detail(mail.raw.decode())
    stored = deliveries(db)[row.id]
    assert (stored.status, stored.attempts, stored.delivered_at) == ("delivered", 1, now)
    [attempt] = attempts_of(db, row.id)
    assert (attempt.succeeded, attempt.worker, attempt.error) == (True, "w1", None)


def test_a_webhook_is_signed_and_carries_ids_and_codes_only(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver)
    now = utcnow()
    alert, [row] = raise_alert(db, at=now, endpoints=(hook,))

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1

    [arrival] = receiver.arrivals
    assert arrival.verified
    assert arrival.headers["webhook-id"] == str(row.id)
    assert arrival.headers["content-type"] == "application/json"
    assert Webhook(hook.secret).verify(arrival.body, arrival.headers) is not None
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(arrival.body, arrival.headers)
    payload = json.loads(arrival.body)
    assert payload == {
        "type": "alert.raised",
        "timestamp": payload["timestamp"],
        "data": {"alert_id": str(alert.id), "rule": "R1", "reason": "enquiry_while_involved"},
    }
    assert datetime.fromisoformat(payload["timestamp"]) == alert.created_at
    assert_no_case_detail(arrival.body.decode())
    assert deliveries(db)[row.id].status == "delivered"
    [attempt] = attempts_of(db, row.id)
    assert (attempt.succeeded, attempt.status_code) == (True, 200)


def test_nothing_is_lost_while_smtp_and_the_receiver_are_down(
    db: Database, settings: Settings, factory: Factory
) -> None:
    mailbox, receiver = Mailbox(), Receiver()  # neither listening yet
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver)
    clock = utcnow()
    for n in range(3):
        raise_alert(db, at=clock, email_to=f"manager{n}@ealing.example", endpoints=(hook,))
    rng = random.Random(3)
    previous = dict.fromkeys(deliveries(db), clock)
    try:
        for round_ in range(1, 4):
            assert deliver_due(db=db, settings=s, worker_name="w1", now=clock, rng=rng) == 6
            rows = deliveries(db).values()
            assert {(r.status, r.attempts) for r in rows} == {("pending", round_)}
            assert all(r.next_attempt_at > previous[r.id] for r in rows)
            previous = {r.id: r.next_attempt_at for r in rows}
            assert deliver_due(db=db, settings=s, worker_name="w1", now=clock, rng=rng) == 0
            clock = max(previous.values())
        for row in deliveries(db).values():
            failures = attempts_of(db, row.id)
            assert [a.succeeded for a in failures] == [False, False, False]
            assert all(a.error and "@" not in a.error for a in failures)

        mailbox.start()
        receiver.start()
        assert deliver_due(db=db, settings=s, worker_name="w1", now=clock, rng=rng) == 6
        later = clock + timedelta(days=2)
        assert deliver_due(db=db, settings=s, worker_name="w1", now=later, rng=rng) == 0
    finally:
        mailbox.stop()
        receiver.stop()

    rows = deliveries(db).values()
    assert {r.status for r in rows} == {"delivered"}
    webhook_ids = {str(r.id) for r in rows if r.channel == "webhook"}
    assert receiver.ids() == Counter(dict.fromkeys(webhook_ids, 1))
    assert all(a.verified for a in receiver.arrivals)
    assert sorted(m.rcpt_tos[0] for m in mailbox.received) == [
        f"manager{n}@ealing.example" for n in range(3)
    ]
    assert len({m.message["Message-ID"] for m in mailbox.received}) == 3


def test_a_retry_after_500_keeps_its_webhook_id_and_the_receiver_deduplicates(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver)
    receiver.answers[path_of(hook)] = [500]
    now = utcnow()
    _, [row] = raise_alert(db, at=now, endpoints=(hook,))

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1
    failed = deliveries(db)[row.id]
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 1, "http 500")
    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 0
    assert deliver_due(db=db, settings=s, worker_name="w2", now=failed.next_attempt_at) == 1

    assert receiver.ids() == Counter({str(row.id): 2})
    assert receiver.processed == [str(row.id)]
    first, second = receiver.arrivals
    assert first.body == second.body
    assert deliveries(db)[row.id].status == "delivered"
    codes = [(a.status_code, a.succeeded, a.worker) for a in attempts_of(db, row.id)]
    assert codes == [(500, False, "w1"), (200, True, "w2")]


@pytest.mark.parametrize("batch", [1, 20])
def test_410_disables_the_endpoint_and_abandons_its_queue(
    db: Database,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
    factory: Factory,
    batch: int,
) -> None:
    s = settings_for(settings, mailbox)
    gone, other = endpoint(db, factory, receiver), endpoint(db, factory, receiver)
    receiver.answers[path_of(gone)] = [410] * 5
    now = utcnow()
    queued = [raise_alert(db, at=now + timedelta(seconds=n), endpoints=(gone,)) for n in range(3)]
    _, [kept] = raise_alert(db, at=now + timedelta(seconds=5), endpoints=(other,))
    first = queued[0][1][0]

    later = now + timedelta(minutes=1)
    while deliver_due(db=db, settings=s, worker_name="w1", now=later, limit=batch):
        pass

    # One request reached the receiver that is gone (its 410 stopped the rest); the other
    # receiver got its own, concurrently (so in either order).
    assert Counter(a.path for a in receiver.arrivals) == Counter(
        {path_of(gone): 1, path_of(other): 1}
    )
    with db.session() as session:
        stored = session.get(WebhookEndpoint, gone.id)
        assert stored is not None
        assert (stored.active, stored.disabled_at) == (False, later)
        assert stored.disabled_reason == "410 Gone from receiver"
        still = session.get(WebhookEndpoint, other.id)
        assert still is not None
        assert still.active
    rows = deliveries(db)
    assert rows[kept.id].status == "delivered"
    for _, [row] in queued:
        assert rows[row.id].status == "abandoned"
        assert rows[row.id].attempts == (1 if row.id == first.id else 0)
    [attempt] = attempts_of(db, first.id)
    assert (attempt.status_code, attempt.succeeded) == (410, False)


def test_a_delivery_to_a_disabled_endpoint_is_abandoned_unsent(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver, active=False)
    now = utcnow()
    _, [row] = raise_alert(db, at=now, endpoints=(hook,))

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1

    assert receiver.arrivals == []
    stored = deliveries(db)[row.id]
    assert (stored.status, stored.attempts) == ("abandoned", 0)
    assert attempts_of(db, row.id) == []


def test_deliveries_queued_before_an_organisation_was_deactivated_are_abandoned_unsent(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    """Queued while the school took part, due after an administrator deactivated it: its
    webhook and its people's email are sent nothing (the alert stays in the index)."""
    s = settings_for(settings, mailbox)
    school = factory.organisation(type="school")
    hook = endpoint(db, factory, receiver, organisation=school)
    now = utcnow()
    alert, rows = raise_alert(db, at=now, email_to="t-tom@school.example", endpoints=(hook,))
    with db.transaction() as session:
        stored = session.get(Alert, alert.id)
        row = session.get(Organisation, school.id)
        assert stored is not None
        assert row is not None
        stored.recipient_organisation_id = school.id
        row.deactivated_at = now
        row.deactivated_by = "test-admin"
        row.deactivation_reason = "Closed in March"

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 2

    assert receiver.arrivals == []
    assert mailbox.received == []
    for queued in rows:
        kept = deliveries(db)[queued.id]
        assert (kept.status, kept.attempts) == ("abandoned", 0)
        assert kept.last_error == "the organisation no longer takes part"
    with db.session() as session:
        assert session.get(Alert, alert.id) is not None


def test_a_302_is_not_followed_and_counts_as_a_failure(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver)
    receiver.answers[path_of(hook)] = [302]
    now = utcnow()
    _, [row] = raise_alert(db, at=now, endpoints=(hook,))

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1

    assert receiver.redirect_hits == 0
    assert len(receiver.arrivals) == 1
    stored = deliveries(db)[row.id]
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.next_attempt_at > now
    assert stored.last_error == "http 302: redirect not followed"
    [attempt] = attempts_of(db, row.id)
    assert (attempt.status_code, attempt.succeeded) == (302, False)


def test_two_workers_at_once_deliver_each_alert_exactly_once(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    s = settings_for(settings, mailbox)
    hook = endpoint(db, factory, receiver)
    now = utcnow()
    for n in range(40):
        raise_alert(db, at=now, email_to=f"manager{n}@ealing.example", endpoints=(hook,))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            start.wait()
            while deliver_due(db=db, settings=s, worker_name=name, now=now, limit=5):
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    rows = deliveries(db).values()
    assert len(rows) == 80
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
    webhook_ids = {str(r.id) for r in rows if r.channel == "webhook"}
    assert receiver.ids() == Counter(dict.fromkeys(webhook_ids, 1))  # raw arrivals
    message_ids = Counter(m.message["Message-ID"] for m in mailbox.received)
    assert len(message_ids) == 40
    assert set(message_ids.values()) == {1}


def test_a_delivery_is_abandoned_after_the_maximum_attempts(
    db: Database, settings: Settings, receiver: Receiver, factory: Factory
) -> None:
    down = Mailbox()  # never started: every email attempt is refused
    s = settings_for(settings, down, delivery_max_attempts=3)
    hook = endpoint(db, factory, receiver)
    receiver.answers[path_of(hook)] = [500] * 10
    clock = utcnow()
    raise_alert(db, at=clock, email_to="manager@ealing.example", endpoints=(hook,))

    for attempt in range(1, 4):
        assert deliver_due(db=db, settings=s, worker_name="w1", now=clock) == 2
        rows = deliveries(db).values()
        expected = "abandoned" if attempt == 3 else "pending"
        assert {(r.status, r.attempts) for r in rows} == {(expected, attempt)}
        clock = max(r.next_attempt_at for r in rows)
    later = clock + timedelta(days=30)
    assert deliver_due(db=db, settings=s, worker_name="w1", now=later) == 0

    assert len(receiver.arrivals) == 3
    for row in deliveries(db).values():
        assert [a.succeeded for a in attempts_of(db, row.id)] == [False] * 3
        assert row.last_error


def test_the_backoff_doubles_up_to_the_maximum_with_jitter(settings: Settings) -> None:
    s = settings.model_copy(
        update={"delivery_backoff_seconds": 5.0, "delivery_backoff_max_seconds": 3600.0}
    )

    class Highest(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    ceilings = [retry_delay(n, settings=s, rng=Highest()).total_seconds() for n in range(1, 12)]
    assert ceilings == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    rng = random.Random(11)
    for n, ceiling in enumerate(ceilings, start=1):
        for _ in range(20):
            delay = retry_delay(n, settings=s, rng=rng).total_seconds()
            assert ceiling / 2 <= delay <= ceiling


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_uses_the_configured_login(db: Database, settings: Settings) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    mailbox = Mailbox(authenticator=authenticate, auth_require_tls=False, auth_required=True)
    s = settings_for(settings, mailbox, smtp_username="index", smtp_password="s3cret")
    now = utcnow()
    raise_alert(db, at=now, email_to="manager@ealing.example")
    mailbox.start()
    try:
        assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1
    finally:
        mailbox.stop()

    assert logins == [(b"index", b"s3cret")]
    assert len(mailbox.received) == 1


def test_without_an_smtp_server_email_deliveries_are_abandoned_unsent(
    db: Database, settings: Settings
) -> None:
    s = settings.model_copy(update={"smtp_host": None})
    now = utcnow()
    _, [row] = raise_alert(db, at=now, email_to="manager@ealing.example")

    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 1

    stored = deliveries(db)[row.id]
    assert (stored.status, stored.attempts) == ("abandoned", 0)
    assert stored.last_error == "email is not configured"


def test_the_worker_loop_delivers_then_runs_each_hook_until_stopped(
    db: Database, settings: Settings, mailbox: Mailbox
) -> None:
    s = settings_for(settings, mailbox)
    _, [row] = raise_alert(db, at=utcnow(), email_to="manager@ealing.example")
    stop = threading.Event()
    seen: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("a hook that fails")

    def last(now: datetime) -> None:
        seen.append(now)
        stop.set()

    run_worker(db=db, settings=s, worker_name="loop", stop=stop, tick_hooks=[broken, last])

    assert len(seen) == 1
    assert seen[0].tzinfo is not None
    assert deliveries(db)[row.id].status == DeliveryStatus.DELIVERED.value
    assert len(mailbox.received) == 1


def test_a_hanging_receiver_does_not_hold_up_an_email_queued_behind_it(
    db: Database, settings: Settings, mailbox: Mailbox, receiver: Receiver, factory: Factory
) -> None:
    """Three webhooks to a receiver that hangs (a minute's timeout) are due before an
    email: the email reaches the SMTP server while the receiver still hangs, because
    deliveries go out concurrently, and one at a time to any one receiver."""
    s = settings_for(settings, mailbox, delivery_timeout_seconds=60.0)
    hook = endpoint(db, factory, receiver)
    release = receiver.holds[path_of(hook)] = threading.Event()
    now = utcnow()
    for _ in range(3):
        raise_alert(db, at=now - timedelta(minutes=1), endpoints=(hook,))
    raise_alert(db, at=now, email_to="manager@ealing.example")
    worker = threading.Thread(
        target=deliver_due, kwargs={"db": db, "settings": s, "worker_name": "w1", "now": now}
    )
    worker.start()
    try:
        assert mailbox.arrived.wait(20)  # a bound on a hang, not a measure of speed
        assert [m.rcpt_tos for m in mailbox.received] == [["manager@ealing.example"]]
        assert not release.is_set()
        assert worker.is_alive()  # the receiver still hangs
        with receiver.lock:
            assert receiver.arrivals == []  # the first is still held
    finally:
        release.set()
        worker.join(timeout=60)
    assert len(receiver.arrivals) == 3
    assert {d.status for d in deliveries(db).values()} == {"delivered"}


def test_an_error_in_one_send_fails_that_delivery_not_the_batch(
    db: Database, settings: Settings, mailbox: Mailbox
) -> None:
    """An address no message can be built for (a line break in it) fails its own
    delivery; the other in the batch is sent and recorded, and nothing is sent twice."""
    s = settings_for(settings, mailbox)
    now = utcnow()
    _, [bad] = raise_alert(db, at=now, email_to="manager@ealing.example\nBcc: x@y.example")
    _, [good] = raise_alert(db, at=now, email_to="manager@ealing.example")
    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 2
    stored = deliveries(db)
    assert stored[good.id].status == "delivered"
    assert (stored[bad.id].status, stored[bad.id].attempts) == ("pending", 1)
    assert (stored[bad.id].last_error or "").startswith("error: ")
    assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 0
    assert [m.rcpt_tos for m in mailbox.received] == [["manager@ealing.example"]]


def test_a_queued_delivery_wakes_the_worker_before_its_poll_interval(
    db: Database, settings: Settings, mailbox: Mailbox
) -> None:
    """The worker LISTENs for `alert_delivery`: an alert queued after it went to sleep is
    delivered long before its five-minute poll would have come round."""
    s = settings_for(settings, mailbox, worker_poll_seconds=300.0)
    stop = threading.Event()
    wakeup = Wakeup(db.url)
    worker = threading.Thread(
        target=run_worker,
        kwargs={"db": db, "settings": s, "worker_name": "listener", "stop": stop, "wakeup": wakeup},
    )
    worker.start()
    try:
        assert wakeup.listening.wait(30), "the worker never started listening"
        _, [row] = raise_alert(db, at=utcnow(), email_to="manager@ealing.example")
        mailbox.arrived.wait(60)  # a bound on a hang (the poll is 300 s), not a measure
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert [m.rcpt_tos for m in mailbox.received] == [["manager@ealing.example"]]
    assert deliveries(db)[row.id].status == DeliveryStatus.DELIVERED.value


def test_the_cli_has_a_worker_command() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    assert "SIGTERM or SIGHUP" in result.output


# --- a sensitive service, to a practitioner without a login ---------------------------


def test_a_sensitive_involvements_email_and_webhook_name_no_service_nor_clinician(
    client: TestClient,
    db: Database,
    factory: Factory,
    settings: Settings,
    mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    """Children's social care names an allocated worker who has no login; a sexual health
    clinic enquires (R1) and records a sensitive involvement (R4). The emails to the
    allocated worker say what happened and whom to call, and the webhooks to social
    care's receiver carry codes: neither names the clinic, its number or its clinician.
    The R1 email names the enquirer (their own email) but not their service."""
    csc = factory.organisation(contact_phone="020 8825 0000", contact_email="dm@ealing.example")
    people = People(
        client=client,
        factory=factory,
        csc=csc,
        haringey_csc=factory.organisation(local_authority=HARINGEY),
        hospital=factory.organisation(type="emergency_department"),
        police=factory.organisation(type="police"),
        school=factory.organisation(type="school"),
    )
    clinic = factory.organisation(type="sexual_health", contact_phone="020 7946 0999")
    hook = endpoint(db, factory, receiver, organisation=csc)
    child_id = people.child()
    named = client.post(
        f"/v1/children/{child_id}/involvements",
        json={
            "service": "Children in need team",
            "practitioner_name": "Alex Allocated",
            "practitioner_email": "alex.allocated@ealing.example",
            "is_allocated_worker": True,
        },
        headers=people.key_worker,
    )
    assert named.status_code == 201, named.text
    nurse = people.as_(clinic, "nurse-sh")
    people.involve(
        child_id,
        nurse,
        found=True,
        service="Young people's clinic",
        practitioner_phone="07700 900123",
        sensitive=True,
    )
    s = settings_for(settings, mailbox)
    while deliver_due(db=db, settings=s, worker_name="w1", now=utcnow()):
        pass

    assert {m.rcpt_tos[0] for m in mailbox.received} == {"alex.allocated@ealing.example"}
    bodies = [m.message.get_content().replace("\r\n", "\n") for m in mailbox.received]
    [r1_body] = [b for b in bodies if b.startswith("Someone from another agency enquired")]
    [r4_body] = [b for b in bodies if b.startswith("Someone started working with a child")]
    assert "A sensitive service is involved: contact the data manager." in r4_body
    assert "Whom to contact: Test User, a health service (name withheld), nurse-sh@" in r1_body
    assert "Whom to contact: the data manager, Test childrens_social_care, 020 8825 0000, " in (
        r4_body
    )
    assert "nurse-sh" not in r4_body
    assert len(receiver.arrivals) == 2
    assert all(a.path == path_of(hook) and a.verified for a in receiver.arrivals)
    sent = [m.raw.decode() for m in mailbox.received] + [a.body.decode() for a in receiver.arrivals]
    for text in sent:
        for secret in (clinic.code, clinic.name, "020 7946 0999", "07700 900123", "Young"):
            assert secret not in text, secret
        for child_data in ("Aisha", "Testchild", "W5 2AA", child_id):
            assert child_data not in text, child_data


def test_webhook_to_a_name_that_now_resolves_to_loopback_is_not_connected(
    db: Database,
    settings: Settings,
    mailbox: Mailbox,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: a receiver's name was public when registered and points at this
    machine when the worker sends. Without the development allowance the worker vets the
    addresses it connects to: nothing reaches the listener on 127.0.0.1, the attempt is a
    failure saying why (and is retried). A name that still resolves to a public address
    is connected to, at that address."""
    s = settings_for(settings, mailbox, outbound_allow_private=False)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    answers = {"rebinding.agency.example": ["127.0.0.1"], "public.agency.example": ["8.8.8.8"]}
    real_getaddrinfo = socket.getaddrinfo

    def dns(host: str, p: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(answers.get(host, [host])[0], p, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    hooks = []
    for host in answers:
        row = WebhookEndpoint(
            organisation_id=factory.organisation().id,
            url=f"https://{host}:{port}/hook",
            secret=new_secret(),
            created_by="test-admin",
        )
        with db.transaction() as session:
            session.add(row)
        hooks.append(row)
    connected: list[str] = []

    def no_internet(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        connected.append(host)
        raise httpcore2.ConnectError("no internet in tests")

    real_connect = httpcore2.SyncBackend.connect_tcp
    monkeypatch.setattr(
        httpcore2.SyncBackend,
        "connect_tcp",
        lambda self, host, port, *a, **k: (
            no_internet(self, host, port)
            if host in {"8.8.8.8", "public.agency.example"}
            else real_connect(self, host, port, *a, **k)
        ),
    )
    now = utcnow()
    _, rows = raise_alert(db, at=now, endpoints=tuple(hooks))
    try:
        assert deliver_due(db=db, settings=s, worker_name="w1", now=now) == 2
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    stored = deliveries(db)
    rebound, public = (stored[r.id] for r in rows)
    assert (rebound.status, rebound.last_error) == ("pending", "address not public: not connected")
    assert connected == ["8.8.8.8"]
    assert public.last_error == "http: ConnectError"
