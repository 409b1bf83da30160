"""The outbox worker: claims due alert deliveries, sends them by email or webhook, and
records each attempt. A batch is claimed `FOR UPDATE SKIP LOCKED` and sent while its rows
stay locked, so two workers never send one row at once (hence small batches). Delivery is
at least once: a resend carries the same `Message-ID` or `webhook-id`. Nothing sent
carries case detail (an email: an alert is waiting, and a link; a webhook: the alert's id,
rule and reason code), and logs carry counts only."""

from __future__ import annotations

import json
import random
import smtplib
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import httpx2
import structlog
from sqlalchemy import update
from sqlmodel import Session, col, select
from standardwebhooks import Webhook

from index_service import outbound
from index_service.alerts.models import (
    Alert,
    AlertDelivery,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
)
from index_service.alerts.reasons import reason_text
from index_service.alerts.service import takes_part
from index_service.alerts.wakeup import Wakeup
from index_service.audit.service import record_system_event
from index_service.common import utcnow
from index_service.database import Database
from index_service.logging import error_fields
from index_service.outbound import NotPublic
from index_service.settings import Settings

log = structlog.get_logger("index_service.worker")

EMAIL_SUBJECT = "An alert is waiting for you in the children's index"
EMAIL_BODY = """\
An alert is waiting for you in the children's index.

Sign in to read it:
{link}

Alert reference: {alert_id}

This email carries no details of the alert. Please do not reply to it.
"""
# To a practitioner children's social care named without a login (an allocated worker,
# a key worker): they cannot sign in, so the email says what happened and whom to call,
# and still nothing of the child.
EMAIL_BODY_NO_LOGIN = """\
{reason}

Whom to contact: {contact}

You do not sign in to the children's index: the designated managers of your local
authority see this alert too, and acknowledge it once it is dealt with.

Alert reference: {alert_id}

This email carries no details of the child. Please do not reply to it.
"""
GONE_REASON = "410 Gone from receiver"
TickHook = Callable[[datetime], None]
BATCH_SIZE = 20  # small: rows stay locked while they are sent
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; `error` is short and never quotes what was sent."""

    succeeded: bool
    status_code: int | None = None
    error: str | None = None
    gone: bool = False  # the webhook receiver answered 410: stop sending to it


def claim_due(*, session: Session, now: datetime, limit: int) -> list[AlertDelivery]:
    """Lock up to `limit` pending deliveries that are due, oldest first, skipping rows
    another worker holds. The locks last until the session's transaction ends."""
    query = (
        select(AlertDelivery)
        .where(
            col(AlertDelivery.status) == DeliveryStatus.PENDING.value,
            col(AlertDelivery.next_attempt_at) <= now,
        )
        .order_by(col(AlertDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query).all())


def retry_delay(attempts: int, *, settings: Settings, rng: random.Random) -> timedelta:
    """Exponential backoff after `attempts` failures, with jitter: between half and all of
    `min(max, base * 2 ** (attempts - 1))`."""
    ceiling = min(
        settings.delivery_backoff_max_seconds,
        settings.delivery_backoff_seconds * 2.0 ** max(attempts - 1, 0),
    )
    return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


def contact_line(alert: Alert) -> str:
    """Whom the alert says to contact: who acted, as the alert keeps them (for a
    sensitive service, the data managers' contact: `access/sensitive.py`)."""
    if alert.actor_sensitive:
        parts = ["the data manager", alert.actor_organisation_name]
    else:
        parts = [alert.actor_name, alert.actor_organisation_name]
    found = [p for p in (*parts, alert.actor_phone, alert.actor_email) if p]
    return ", ".join(found) if found else "the designated managers of your local authority"


def to_practitioner_without_login(alert: Alert) -> bool:
    """Addressed to a named practitioner reached by email only (`alerts/rules.Worker`):
    no issuer and subject, no team, and the authority whose managers see it."""
    return (
        alert.recipient_issuer is None
        and alert.recipient_team is None
        and alert.recipient_authority is not None
    )


def email_body(*, alert: Alert | None, link: str, alert_id: object) -> str:
    if alert is not None and to_practitioner_without_login(alert):
        reason = reason_text(alert.reason, actor_sensitive=alert.actor_sensitive)
        return EMAIL_BODY_NO_LOGIN.format(
            reason=reason, contact=contact_line(alert), alert_id=alert_id
        )
    return EMAIL_BODY.format(link=link, alert_id=alert_id)


def email_message(
    *, delivery: AlertDelivery, settings: Settings, alert: Alert | None = None
) -> EmailMessage:
    """The notification email: that an alert is waiting, where, and its id. Nothing else;
    to a practitioner without a login, the reason and whom to contact instead."""
    assert delivery.email_to is not None
    message = EmailMessage()
    message["Subject"] = EMAIL_SUBJECT
    message["From"] = settings.smtp_sender
    message["To"] = delivery.email_to
    message["Date"] = format_datetime(utcnow())
    domain = settings.smtp_sender.rpartition("@")[2] or "index-service.invalid"
    message["Message-ID"] = f"<alert.{delivery.id.hex}@{domain}>"
    link = f"{settings.public_url.rstrip('/')}/alerts/{delivery.alert_id}"  # its page
    message.set_content(email_body(alert=alert, link=link, alert_id=delivery.alert_id))
    return message


def send_email(
    *, delivery: AlertDelivery, settings: Settings, alert: Alert | None = None
) -> Outcome:
    assert settings.smtp_host is not None
    message = email_message(delivery=delivery, settings=settings, alert=alert)
    timeout = settings.delivery_timeout_seconds
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, exc.smtp_code, f"smtp: {type(exc).__name__} {exc.smtp_code}")
    except Exception as exc:  # refused, timed out, recipients refused, ...: retried
        return Outcome(False, None, f"smtp: {type(exc).__name__}")
    return Outcome(True)


def webhook_body(alert: Alert) -> str:
    """The thin event: ids and codes only, the same bytes on every retry."""
    payload = {
        "type": "alert.raised",
        "timestamp": alert.created_at.isoformat(),
        "data": {"alert_id": str(alert.id), "rule": alert.rule, "reason": alert.reason},
    }
    return json.dumps(payload, separators=(",", ":"))


def send_webhook(
    *, client: httpx2.Client, delivery: AlertDelivery, endpoint: WebhookEndpoint, alert: Alert
) -> Outcome:
    """POST the signed event (Standard Webhooks). The `webhook-timestamp` is the wall
    clock at sending, which the receiver checks against its own clock."""
    body = webhook_body(alert)
    sent_at = utcnow()
    msg_id = str(delivery.id)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(msg_id, sent_at, body),
    }
    try:
        response = client.post(endpoint.url, content=body.encode(), headers=headers)
    except NotPublic:  # resolves (now) to this machine or a private network: retried
        return Outcome(False, None, "address not public: not connected")
    except Exception as exc:  # refused, timed out, bad URL, ...: retried
        return Outcome(False, None, f"http: {type(exc).__name__}")
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, code)
    if code == 410:
        return Outcome(False, code, GONE_REASON, gone=True)
    if 300 <= code < 400:
        return Outcome(False, code, f"http {code}: redirect not followed")
    return Outcome(False, code, f"http {code}")


def _timed_out(outcome: Outcome) -> bool:
    return bool(outcome.error and "Timeout" in outcome.error)


def disable_endpoint(*, session: Session, endpoint: WebhookEndpoint, now: datetime) -> None:
    """The receiver is gone: stop using the endpoint and abandon what is queued for it.
    Rows another worker holds are skipped; it abandons them when it meets the 410."""
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = GONE_REASON
    session.add(endpoint)
    queued = (
        select(AlertDelivery.id)
        .where(
            col(AlertDelivery.webhook_endpoint_id) == endpoint.id,
            col(AlertDelivery.status) == DeliveryStatus.PENDING.value,
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(
        update(AlertDelivery)
        .where(col(AlertDelivery.id).in_(queued))
        .values(status=DeliveryStatus.ABANDONED.value, last_error=GONE_REASON)
        .execution_options(synchronize_session=False)
    )


@dataclass
class Sending:
    """One delivery ready to send: what it needs, loaded before any thread sends it."""

    delivery: AlertDelivery
    lane: str  # "email", or "webhook:<endpoint id>": what a concurrency limit counts
    alert: Alert | None
    endpoint: WebhookEndpoint | None = None


@dataclass
class _Batch:
    """One claimed batch: the locking session, the HTTP client and the attempt's clock."""

    session: Session
    client: httpx2.Client
    settings: Settings
    worker_name: str
    now: datetime
    rng: random.Random

    def abandon(self, delivery: AlertDelivery, reason: str) -> None:
        """Give up on a delivery without sending it (nothing was attempted)."""
        delivery.status = DeliveryStatus.ABANDONED.value
        delivery.last_error = reason
        self.session.add(delivery)

    def prepare(self, delivery: AlertDelivery) -> Sending | None:
        """What sending one claimed delivery takes (read here, in the batch's session);
        None when it is abandoned without sending (also when the recipient's organisation
        was deactivated after it was queued: it is sent nothing)."""
        queued_for = self.session.get(Alert, delivery.alert_id)
        if queued_for is not None and not takes_part(
            self.session, queued_for.recipient_organisation_id
        ):
            self.abandon(delivery, "the organisation no longer takes part")
            return None
        if delivery.channel == Channel.EMAIL.value:
            if self.settings.smtp_host is None or delivery.email_to is None:
                self.abandon(delivery, "email is not configured")
                return None
            alert = self.session.get(Alert, delivery.alert_id)
            return Sending(delivery, lane="email", alert=alert)
        endpoint_id = delivery.webhook_endpoint_id
        endpoint = self.session.get(WebhookEndpoint, endpoint_id) if endpoint_id else None
        if delivery.channel != Channel.WEBHOOK.value or endpoint is None or not endpoint.active:
            self.abandon(delivery, "webhook endpoint is disabled")
            return None
        alert = self.session.get(Alert, delivery.alert_id)
        assert alert is not None  # the foreign key cascades
        return Sending(delivery, lane=f"webhook:{endpoint.id}", alert=alert, endpoint=endpoint)

    def transmit(self, sending: Sending) -> Outcome:
        """The network part alone (no database): run on the batch's sending threads."""
        if sending.endpoint is None:
            return send_email(
                delivery=sending.delivery, settings=self.settings, alert=sending.alert
            )
        assert sending.alert is not None
        return send_webhook(
            client=self.client,
            delivery=sending.delivery,
            endpoint=sending.endpoint,
            alert=sending.alert,
        )

    def send_all(self, sendings: list[Sending]) -> list[Outcome | None]:
        """Send concurrently, at most `DELIVERY_CONCURRENCY` at once: each email on its
        own, and each webhook receiver's deliveries in order on `DELIVERY_PER_ENDPOINT`
        threads (one). A receiver that times out or answers 410 is sent nothing more in
        this batch (None: left pending for the next, or abandoned after a 410), so one
        that hangs costs the batch one timeout and holds up nobody else's deliveries. An
        error of any kind in one send is that delivery's failed attempt, never the
        batch's. Outcomes in the order given."""
        queues: dict[str, list[int]] = {}
        per_receiver: dict[str, int] = {}
        for n, sending in enumerate(sendings):
            if sending.endpoint is None:
                queues[f"email:{n}"] = [n]
                continue
            seen = per_receiver[sending.lane] = per_receiver.get(sending.lane, 0) + 1
            spread = (seen - 1) % self.settings.delivery_per_endpoint
            queues.setdefault(f"{sending.lane}#{spread}", []).append(n)
        outcomes: list[Outcome | None] = [None] * len(sendings)

        def drain(queue: list[int]) -> None:
            for n in queue:
                outcome = outcomes[n] = self._transmit_safely(sendings[n])
                if outcome.gone or _timed_out(outcome):
                    return

        workers = max(1, min(self.settings.delivery_concurrency, len(queues)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery") as pool:
            list(pool.map(drain, queues.values()))
        return outcomes

    def _transmit_safely(self, sending: Sending) -> Outcome:
        try:
            return self.transmit(sending)
        except Exception as exc:  # e.g. a message that cannot be built: this one fails
            log.error("delivery.send_failed", delivery_id=str(sending.delivery.id),
                      **error_fields(exc))  # fmt: skip
            return Outcome(succeeded=False, error=f"error: {type(exc).__name__}")

    def after(self, sending: Sending, outcome: Outcome) -> None:
        """What an outcome does beyond its attempt row: a 410 disables the endpoint."""
        if outcome.gone and sending.endpoint is not None:
            disable_endpoint(session=self.session, endpoint=sending.endpoint, now=self.now)

    def audit(self, delivery: AlertDelivery) -> None:
        """A delivery that ended (delivered, or given up) is an audit event of the
        worker's, in the transaction that records it; a retry is only an attempt row."""
        if delivery.status == DeliveryStatus.PENDING.value:
            return
        alert = self.session.get(Alert, delivery.alert_id)
        record_system_event(
            session=self.session,
            action=f"alert:delivery:{delivery.status}",
            instance=self.settings.instance_name,
            part="worker:delivery",
            child_ids=[alert.child_id] if alert is not None and alert.child_id else [],
            detail={
                "alert_id": str(delivery.alert_id),
                "delivery_id": str(delivery.id),
                "channel": delivery.channel,
                "attempts": delivery.attempts,
            },
            status_code=200 if delivery.status == DeliveryStatus.DELIVERED.value else 502,
            reason=delivery.last_error,
        )

    def record(self, delivery: AlertDelivery, outcome: Outcome) -> None:
        """Write the attempt and move the delivery on: delivered, retried, or abandoned."""
        self.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempted_at=self.now,
                worker=self.worker_name[:100],
                succeeded=outcome.succeeded,
                status_code=outcome.status_code,
                error=outcome.error[:300] if outcome.error else None,
            )
        )
        delivery.attempts += 1
        if outcome.succeeded:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = self.now
            delivery.last_error = None
        else:
            delivery.last_error = (outcome.error or "failed")[:300]
            if outcome.gone or delivery.attempts >= self.settings.delivery_max_attempts:
                delivery.status = DeliveryStatus.ABANDONED.value
            else:
                delay = retry_delay(delivery.attempts, settings=self.settings, rng=self.rng)
                delivery.next_attempt_at = self.now + delay
        self.session.add(delivery)


def deliver_due(
    *,
    db: Database,
    settings: Settings,
    worker_name: str,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    rng: random.Random | None = None,
) -> int:
    """Claim one batch of due deliveries, send each, record the results and commit.
    Returns how many deliveries it claimed (sent, or abandoned without sending)."""
    now = now or utcnow()
    counts = {"delivered": 0, "pending": 0, "abandoned": 0}
    timeout = settings.delivery_timeout_seconds
    with (
        db.transaction() as session,
        outbound.client(allow_private=settings.outbound_private_allowed, timeout=timeout) as client,
    ):
        batch = _Batch(session, client, settings, worker_name, now, rng or _system_random)
        claimed = claim_due(session=session, now=now, limit=limit)
        prepared = [(delivery, batch.prepare(delivery)) for delivery in claimed]
        sendings = [sending for _, sending in prepared if sending is not None]
        outcomes = dict(zip((id(s) for s in sendings), batch.send_all(sendings), strict=True))
        gone: set[str] = set()
        for delivery, sending in prepared:
            outcome = outcomes[id(sending)] if sending is not None else None
            if sending is not None and sending.lane in gone:  # its receiver answered 410
                batch.abandon(delivery, "webhook endpoint is disabled")
            elif sending is not None and outcome is None:
                continue  # not sent in this batch: still pending and due, for the next
            elif sending is not None and outcome is not None:
                batch.after(sending, outcome)
                batch.record(delivery, outcome)
                if outcome.gone:
                    gone.add(sending.lane)
            batch.audit(delivery)
            session.flush()
            counts[delivery.status] += 1
    if claimed:
        log.info("deliveries.batch", worker=worker_name, claimed=len(claimed), **counts)
    return len(claimed)


def run_tick(
    *,
    db: Database,
    settings: Settings,
    worker_name: str,
    tick_hooks: Sequence[TickHook] = (),
    now: datetime | None = None,
) -> int:
    """One round of the worker: a batch of deliveries, then each hook with the time.
    A failing step is logged (type and place only) and does not stop the others."""
    now = now or utcnow()
    claimed = _deliver_logged(db=db, settings=settings, worker_name=worker_name, now=now)
    run_hooks(tick_hooks, now=now, worker_name=worker_name)
    return claimed


def _deliver_logged(
    *, db: Database, settings: Settings, worker_name: str, now: datetime | None = None
) -> int:
    try:
        return deliver_due(db=db, settings=settings, worker_name=worker_name, now=now)
    except Exception as exc:
        log.error("deliveries.failed", worker=worker_name, **error_fields(exc))
        return 0


def run_hooks(hooks: Sequence[TickHook], *, now: datetime, worker_name: str) -> None:
    """Each hook with the time; a failing one is logged and does not stop the others."""
    for hook in hooks:
        try:
            hook(now)
        except Exception as exc:
            hook_name = getattr(hook, "__name__", type(hook).__name__)
            log.error("worker.hook_failed", worker=worker_name, hook=hook_name, **error_fields(exc))


def run_worker(
    *,
    db: Database,
    settings: Settings,
    worker_name: str,
    stop: threading.Event,
    tick_hooks: Sequence[TickHook] = (),
    wakeup: Wakeup | None = None,
) -> None:
    """Deliver until `stop` is set: at once again after a full batch, else when `wakeup`
    says a delivery was queued (NOTIFY), or after `worker_poll_seconds` at the latest.
    The hooks (the scheduled rules, the sealer) run on a thread of their own at that
    cadence, after the first batch, so no delivery waits behind sealing."""
    log.info("worker.started", worker=worker_name, hooks=len(tick_hooks))
    claimed = _deliver_logged(db=db, settings=settings, worker_name=worker_name)
    hooks = threading.Thread(
        target=_hook_loop,
        kwargs={
            "hooks": tick_hooks,
            "settings": settings,
            "worker_name": worker_name,
            "stop": stop,
        },
        name=f"{worker_name}-hooks",
        daemon=True,
    )
    hooks.start()
    try:
        while not stop.is_set():
            if claimed < BATCH_SIZE:
                if wakeup is not None:
                    wakeup.wait(settings.worker_poll_seconds, stop)
                else:
                    stop.wait(settings.worker_poll_seconds)
                if stop.is_set():
                    break
            claimed = _deliver_logged(db=db, settings=settings, worker_name=worker_name)
    finally:
        hooks.join()
        if wakeup is not None:
            wakeup.close()
    log.info("worker.stopped", worker=worker_name)


def _hook_loop(
    *, hooks: Sequence[TickHook], settings: Settings, worker_name: str, stop: threading.Event
) -> None:
    while not stop.is_set():
        run_hooks(hooks, now=utcnow(), worker_name=worker_name)
        stop.wait(settings.worker_poll_seconds)
