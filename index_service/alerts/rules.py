"""The enquiry rules R1 to R7 (DOMAIN.md "The enquiry rules") and R8 (a flag past its
review date, issue 13), each a small pure function:
fed the facts of one event, it returns the alerts to raise. No rule alerts anyone about
their own act. Gathering the facts and storing the alerts is `alerts/flows.py`'s job;
suppressing repeats inside the window is `alerts/service.py`'s."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from index_service.alerts.models import Rule, Team


@dataclass(frozen=True)
class Actor:
    """Who enquired or acted. How to reach their organisation is looked up only when an
    alert is stored (`alerts/service.py`), so an event that alerts nobody costs nothing."""

    issuer: str
    subject: str
    name: str
    email: str | None
    organisation_id: uuid.UUID | None
    organisation_code: str
    organisation_type: str = ""
    # The actor's organisation holds a sensitive involvement with the child: what an
    # alert shows of them is decided in `access/sensitive.py`.
    sensitive_with_child: bool = False


@dataclass(frozen=True)
class Worker:
    """A practitioner currently involved with a child, from their involvement. One named
    by children's social care may have no login (no issuer, subject): they are reached
    by email, and their alerts are their authority's designated managers' to acknowledge
    (`access/inboxes.py`)."""

    issuer: str | None
    subject: str | None
    name: str
    email: str | None
    organisation_id: uuid.UUID
    is_key_worker: bool = False
    is_lead_professional: bool = False
    is_allocated_worker: bool = False
    sensitive: bool = False
    authority: str | None = None  # the local authority of the worker's organisation
    involvement_id: uuid.UUID | None = None

    @property
    def signs_in(self) -> bool:
        return self.issuer is not None and self.subject is not None

    @property
    def reachable(self) -> bool:
        return self.signs_in or self.email is not None


@dataclass(frozen=True)
class Recipient:
    """A practitioner (issuer + subject), or a team inbox of a local authority."""

    issuer: str | None = None
    subject: str | None = None
    name: str | None = None
    email: str | None = None
    organisation_id: uuid.UUID | None = None
    team: Team | None = None
    authority: str | None = None

    @classmethod
    def worker(cls, worker: Worker) -> Recipient:
        return cls(
            issuer=worker.issuer,
            subject=worker.subject,
            name=worker.name,
            email=worker.email,
            organisation_id=worker.organisation_id,
            authority=None if worker.signs_in else worker.authority,
        )

    @classmethod
    def inbox(cls, team: Team, authority: str) -> Recipient:
        return cls(team=team, authority=authority)

    @property
    def key(self) -> str:
        if self.team is not None:
            return f"team:{self.team.value}:{self.authority}"
        if self.issuer is None and self.email is not None:
            return f"email:{self.email.lower()}"
        return f"person:{self.issuer}|{self.subject}"

    def is_actor(self, actor: Actor) -> bool:
        return self.team is None and (self.issuer, self.subject) == (actor.issuer, actor.subject)


@dataclass(frozen=True)
class AlertDraft:
    rule: Rule
    reason: str
    recipient: Recipient
    child_id: uuid.UUID | None = None
    enquiry_contact_id: uuid.UUID | None = None
    about: str = ""  # what the alert is about, for telling repeats apart (a flag's id, ...)
    escalates: bool = True  # to be acknowledged in time, or R6 escalates it
    # About a sensitive involvement being recorded or ended: the actor is not shown.
    about_sensitive: bool = False


@dataclass(frozen=True)
class Neighbour:
    """A child with an active child protection plan at the same address (R2)."""

    child_id: uuid.UUID
    responsible_authority: str
    key_workers: tuple[Worker, ...]


@dataclass(frozen=True)
class EarlierContact:
    """An enquiry-only contact a new enquiry matched (R3)."""

    contact_id: uuid.UUID
    enquirer: Worker
    local_authority: str


def _not_actor(drafts: Iterable[AlertDraft], actor: Actor | None) -> list[AlertDraft]:
    """Nobody is alerted about their own act; each recipient once per event. With no
    actor (the scheduler's own acts), each recipient once."""
    seen: set[str] = set()
    kept = []
    for draft in drafts:
        mine = actor is not None and draft.recipient.is_actor(actor)
        if mine or draft.recipient.key in seen:
            continue
        seen.add(draft.recipient.key)
        kept.append(draft)
    return kept


def r1_enquiry_about_known_child(
    *, actor: Actor, child_id: uuid.UUID, workers: Iterable[Worker]
) -> list[AlertDraft]:
    """The key worker, the lead professional and the allocated worker (of a child in
    need) hear when another agency enquires, whether or not they sign in."""
    return _not_actor(
        (
            AlertDraft(Rule.R1, "enquiry_about_your_child", Recipient.worker(w), child_id)
            for w in workers
            if (w.is_key_worker or w.is_lead_professional or w.is_allocated_worker)
            and w.reachable
            and w.organisation_id != actor.organisation_id
        ),
        actor,
    )


def r2_enquiry_at_plan_address(
    *, actor: Actor, child_id: uuid.UUID, neighbours: Iterable[Neighbour]
) -> list[AlertDraft]:
    """The key worker of a child on a protection plan hears when a child at the same
    address is enquired about; with no key worker on record, the designated managers of
    that child's responsible authority. The enquirer is told nothing of the other child."""
    drafts: list[AlertDraft] = []
    for neighbour in neighbours:
        if neighbour.child_id == child_id:
            continue
        reachable = [w for w in neighbour.key_workers if w.reachable]
        recipients = [Recipient.worker(w) for w in reachable] or [
            Recipient.inbox(Team.DESIGNATED_MANAGERS, neighbour.responsible_authority)
        ]
        drafts.extend(
            AlertDraft(
                Rule.R2,
                "enquiry_at_address_of_child_on_plan",
                recipient,
                neighbour.child_id,
                about=str(child_id),
            )
            for recipient in recipients
        )
    return _not_actor(drafts, actor)


def r3_second_enquiry(
    *, actor: Actor, contact_id: uuid.UUID, lives_in: str, earlier: Iterable[EarlierContact]
) -> list[AlertDraft]:
    """A second enquiry about a child the index does not hold: the designated managers of
    the authority each earlier enquiry said the child lives in and of the one the newest
    says (`lives_in`), each team once; and each earlier enquirer. An earlier enquiry by the
    same person does not make a second enquiry.

    Each alert is about the contact its recipient knows the child by: an earlier
    enquirer's and its authority's, that earlier contact; the newest authority's, the
    newest enquirer's own contact (`contact_id`, which their repeats update). So one
    person's repeats about one child are one alert per recipient inside the repeat window
    (`alerts/service.dedupe_key`), while another person's enquiry is a new one."""
    others = [e for e in earlier if not Recipient.worker(e.enquirer).is_actor(actor)]
    if not others:
        return []
    drafts: list[AlertDraft] = []
    for contact in others:
        drafts.append(
            AlertDraft(
                Rule.R3,
                "second_enquiry_about_unknown_child",
                Recipient.inbox(Team.DESIGNATED_MANAGERS, contact.local_authority),
                enquiry_contact_id=contact.contact_id,
            )
        )
        drafts.append(
            AlertDraft(
                Rule.R3,
                "someone_else_enquired_about_your_unknown_child",
                Recipient.worker(contact.enquirer),
                enquiry_contact_id=contact.contact_id,
            )
        )
    drafts.append(
        AlertDraft(
            Rule.R3,
            "second_enquiry_about_unknown_child",
            Recipient.inbox(Team.DESIGNATED_MANAGERS, lives_in),
            enquiry_contact_id=contact_id,
        )
    )
    return _not_actor(drafts, actor)


R4_REASONS = frozenset({"flag_raised", "flag_ended", "involvement_started", "involvement_ended"})


def r4_change_to_child(
    *,
    actor: Actor,
    child_id: uuid.UUID,
    reason: str,
    about: str,
    workers: Iterable[Worker],
    about_sensitive: bool = False,
) -> list[AlertDraft]:
    """A flag raised or ended, an involvement started or ended: the key worker, the lead
    professional and every other current involvement hear of it (KCS ¶59); not the
    practitioner of the involvement itself (someone named by children's social care).
    `about_sensitive`: the involvement or flag is a sensitive service's, so its alerts do
    not say whose (`access/sensitive.py`)."""
    assert reason in R4_REASONS, reason
    ordered = _key_workers_first(workers)
    return _not_actor(
        (
            AlertDraft(
                Rule.R4,
                reason,
                Recipient.worker(w),
                child_id,
                about=about,
                about_sensitive=about_sensitive,
            )
            for w in ordered
            if w.reachable and str(w.involvement_id) != about
        ),
        actor,
    )


def _key_workers_first(workers: Iterable[Worker]) -> list[Worker]:
    """The workers to tell of a change, the key worker and the lead professional first:
    they are the ones who act on it (KCS ¶59), so theirs are the first alerts written."""
    return sorted(workers, key=lambda w: not (w.is_key_worker or w.is_lead_professional))


LIFECYCLE_REASONS = frozenset({"records_merged", "records_unmerged", "record_archived"})


def r4_record_lifecycle(
    *,
    actor: Actor | None,
    child_id: uuid.UUID,
    reason: str,
    about: str,
    workers: Iterable[Worker],
) -> list[AlertDraft]:
    """A change to the entry itself, told as R4 tells a change to a child (KCS ¶59): a
    data manager merged two entries into this one or undid a merge (`child_id` is each
    entry that answers for the child afterwards), or the scheduler archived it at the
    age limit. Every current worker of the child hears of it (key worker and lead
    professional first), so they look the child up by the entry that answers for it
    now. An archive asks nothing of anyone, so it is not escalated under R6."""
    assert reason in LIFECYCLE_REASONS, reason
    ordered = _key_workers_first(workers)
    return _not_actor(
        (
            AlertDraft(
                Rule.R4,
                reason,
                Recipient.worker(w),
                child_id,
                about=about,
                escalates=reason != "record_archived",
            )
            for w in ordered
            if w.reachable
        ),
        actor,
    )


def r5_moved_authority(
    *,
    actor: Actor,
    child_id: uuid.UUID,
    from_authority: str | None,
    to_authority: str | None,
    workers: Iterable[Worker],
    shielded_for: str | None = None,
) -> list[AlertDraft]:
    """The child's current address moved to another authority: the designated managers of
    both authorities and the key worker. `shielded_for`: the child is shielded and this
    is its responsible authority, whose designated managers alone are told (an alert to
    an authority it moved into or out of would say where it lives)."""
    if from_authority is None or to_authority is None or from_authority == to_authority:
        return []
    about = f"{from_authority}>{to_authority}"
    teams = (from_authority, to_authority) if shielded_for is None else (shielded_for,)
    drafts = [
        AlertDraft(
            Rule.R5,
            "child_moved_authority",
            Recipient.inbox(Team.DESIGNATED_MANAGERS, authority),
            child_id,
            about=about,
        )
        for authority in teams
    ]
    drafts.extend(
        AlertDraft(Rule.R5, "child_moved_authority", Recipient.worker(w), child_id, about=about)
        for w in workers
        if w.is_key_worker and w.reachable
    )
    return _not_actor(drafts, actor)


def r6_not_acknowledged(
    *, alert_id: uuid.UUID, child_id: uuid.UUID | None, responsible_authority: str
) -> list[AlertDraft]:
    """An alert nobody acknowledged in time goes to the designated managers of the
    responsible authority (Laming R50)."""
    return [
        AlertDraft(
            Rule.R6,
            "alert_not_acknowledged",
            Recipient.inbox(Team.DESIGNATED_MANAGERS, responsible_authority),
            child_id,
            about=str(alert_id),
            escalates=False,  # an escalation is not escalated again
        )
    ]


def r7_shielded_record_reached(
    *, actor: Actor, child_id: uuid.UUID, responsible_authority: str
) -> list[AlertDraft]:
    """Someone other than its data managers reached a shielded record: the data managers
    of the responsible authority hear of it."""
    return _not_actor(
        [
            AlertDraft(
                Rule.R7,
                "shielded_record_reached",
                Recipient.inbox(Team.DATA_MANAGERS, responsible_authority),
                child_id,
            )
        ],
        actor,
    )


def r8_flag_past_review(
    *,
    flag_id: uuid.UUID,
    child_id: uuid.UUID,
    review_date: date,
    raiser: Recipient,
    responsible_authority: str,
) -> list[AlertDraft]:
    """A flag passed its review date with no review: whoever raised it and the data
    managers of the child's responsible authority hear of it, once per review date (the
    scheduler marks the flag). Not escalated under R6: the flag stays on the overdue list
    until it is reviewed or ended."""
    about = f"{flag_id}@{review_date.isoformat()}"
    return [
        AlertDraft(
            Rule.R8, "flag_past_review_date", recipient, child_id, about=about, escalates=False
        )
        for recipient in (raiser, Recipient.inbox(Team.DATA_MANAGERS, responsible_authority))
    ]
