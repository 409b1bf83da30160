"""`index-service demo`: the Climbié scenario walked through the HTTP API of a running
service, as the demo personas, printing each step in plain English.

It is what the index is for, in five scenes: an emergency doctor who has never heard of
a girl finds who is working with her, under the other name she goes by; her key worker
hears of it and says what they did; the police look her up and record their work, and
everyone involved hears; a school asks about a child nobody holds, and learns that
housing asked before; Haringey's designated manager sees the alert, and both
enquiries, in the team inbox.

It goes through the API only, with tokens from the local development issuer (so it runs
only where that issuer is trusted: development), and needs `index-service seed-demo`'s
data. It prints the synthetic names of the demo children and nothing else of them (no
date of birth, address or identifier). Run again, it tells the same story: the index
makes one alert of one person's repeated enquiries about a child within 24 hours, and
an alert already acknowledged stays acknowledged with its first note."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from index_service.access.devkeys import mint_dev_token
from index_service.children.age import age_in_years
from index_service.common import utcnow
from index_service.demo.cases import SCENARIO, UNKNOWN, StoryChild
from index_service.demo.personas import Persona, persona
from index_service.settings import Settings

ACKNOWLEDGEMENT = "Called Dr Shah back; strategy discussion with police and health today."
POLICE_SERVICE = "Child abuse investigation team"
_FLAG_NAMES = {
    "child_protection_plan": "a child protection plan",
    "looked_after": "looked after",
    "unborn_child_protection_plan": "an unborn child protection plan",
    "child_in_need": "a child in need",
    "early_help": "early help in place",
    "concern_raised": "a concern raised",
    "missing_education": "missing education",
    "missing_from_home": "missing from home",
}

# What to do about the refusals a visitor is likely to meet.
_HINTS = {
    "organisation_not_participating": ". Load the demo data with `index-service seed-demo` first.",
    **dict.fromkeys(
        ("unknown_key", "issuer_not_trusted"),
        ". The service does not take this development issuer's tokens: run the demo in "
        "development, with the service's DATA_DIR.",
    ),
}


class DemoError(Exception):
    """The walk cannot go on: the message says why, in plain English."""


@dataclass
class Walk:
    client: httpx2.Client
    settings: Settings
    say: Callable[[str], None]
    steps: int = 0

    def run(self) -> None:
        self._check_service()
        self.say("The Climbié scenario, through the index's API (synthetic people and children).")
        child_id = self.doctor_looks_up()
        self.key_worker_acknowledges(child_id)
        self.police_look_up_and_record()
        self.key_worker_hears_again(child_id)
        self.school_asks_about_an_unknown_child()
        self.designated_manager_reads_the_team_inbox()
        self.say("")
        self.say(
            "That is the point of the index: each agency knew something, and now the people "
            "responsible hear of it. Sign in as these personas on the pages to see the same."
        )

    # The steps.

    def doctor_looks_up(self) -> uuid.UUID:
        doctor = persona("ed-doctor")
        alias_given, alias_family = SCENARIO.other_names[0]
        self._step(
            f"{doctor.name}, an emergency department doctor in Ealing, sees a girl of about "
            f"{_age(SCENARIO)} at night. Her carer calls her {alias_given} {alias_family}. "
            "The doctor looks her up by that name, her age and her postcode."
        )
        found = self._post(
            doctor,
            "/v1/enquiries",
            {
                "given_names": alias_given,
                "family_name": alias_family,
                "age_years": _age(SCENARIO),
                "postcode": SCENARIO.postcode,
            },
            purpose=("health_care", "Demo: ED attendance at night, injuries unexplained"),
        )
        entry = self._entry_from(doctor, found, SCENARIO, "health_care")
        self.say(f"   The record is {_legal_name(entry)}'s: one child, known by two names.")
        self._who_to_contact(entry)
        return uuid.UUID(entry["id"])

    def key_worker_acknowledges(self, child_id: uuid.UUID) -> None:
        worker, doctor = persona("key-worker"), persona("ed-doctor")
        self._step(f"{worker.name}, her key worker in Haringey, opens their alerts.")
        alert = self._find_alert(worker, child_id, rule="R1", actor=doctor.name)
        if alert is None:
            raise DemoError(f"{worker.name} has no alert of the doctor's enquiry (R1)")
        self._tell_alert(alert)
        if alert.get("acknowledged_at"):
            self.say(
                "   It was acknowledged on an earlier run of this walk, with the note: "
                f'"{alert.get("acknowledged_note")}" (repeats within 24 hours are one alert).'
            )
            return
        done = self._send(
            worker, "POST", f"/v1/alerts/{alert['id']}/acknowledge", {"note": ACKNOWLEDGEMENT}
        )
        self.say(f'   {worker.name} acknowledges it: "{done["acknowledged_note"]}"')

    def police_look_up_and_record(self) -> None:
        officer = persona("police-officer")
        self._step(
            f"{officer.name}, Ealing police, is called about the same girl. The police know her "
            f"as {SCENARIO.name} and have her date of birth and postcode."
        )
        assert SCENARIO.date_of_birth is not None
        found = self._post(
            officer,
            "/v1/enquiries",
            {
                "given_names": SCENARIO.given_names,
                "family_name": SCENARIO.family_name,
                "date_of_birth": SCENARIO.date_of_birth.isoformat(),
                "postcode": SCENARIO.postcode,
            },
            purpose=("police_investigation", "Demo: concern for welfare call"),
        )
        entry = self._entry_from(officer, found, SCENARIO, "police_investigation")
        self._who_to_contact(entry, brief=True)
        if any(i.get("practitioner_name") == officer.name for i in entry.get("involvements") or []):
            self.say(f"   {officer.name} is already recorded as working with her.")
            return
        self._post(
            officer,
            f"/v1/children/{entry['id']}/involvements",
            {"service": POLICE_SERVICE},
            purpose=("police_investigation", "Demo: investigating"),
        )
        self.say(
            f"   {officer.name} records that the {POLICE_SERVICE.lower()} is working with her: "
            "everyone already involved is told (R4)."
        )

    def key_worker_hears_again(self, child_id: uuid.UUID) -> None:
        worker, officer = persona("key-worker"), persona("police-officer")
        self._step(f"{worker.name} looks at their alerts again.")
        for rule in ("R1", "R4"):
            alert = self._find_alert(worker, child_id, rule=rule, actor=officer.name)
            if alert is not None:
                self._tell_alert(alert)

    def school_asks_about_an_unknown_child(self) -> None:
        school = persona("school-dsl")
        self._step(
            f"{school.name}, a Brent school's designated safeguarding lead, has a new pupil, "
            f"{UNKNOWN.name}, with no records from any school before. They look her up."
        )
        answer = self._post(
            school,
            "/v1/enquiries",
            {
                "given_names": UNKNOWN.given_names,
                "family_name": UNKNOWN.family_name,
                "date_of_birth": UNKNOWN.date_of_birth.isoformat(),
                "postcode": UNKNOWN.postcode,
            },
            purpose=("education_welfare", "Demo: new pupil, no previous school records"),
        )
        if answer["outcome"] != "not_found":
            raise DemoError(f"the index was not meant to hold {UNKNOWN.name}")
        self.say(f"   No record. The index says: {answer['advice']}")
        door = answer.get("front_door") or {}
        contact = door.get("contact") or {}
        if contact:
            self.say(
                f"   Whom to call: {contact['organisation_name']}, {contact['phone']} "
                f"(out of hours {contact.get('out_of_hours_phone')})."
            )
        for earlier in answer.get("earlier_enquiries") or []:
            self.say(
                f"   But someone asked before: {earlier['enquirer_name']} of "
                f"{earlier['organisation_name']} on {earlier['enquired_at'][:10]} "
                f"({earlier.get('phone') or earlier.get('email')}). Haringey's designated "
                "managers and that enquirer are told of this second enquiry (R3)."
            )

    def designated_manager_reads_the_team_inbox(self) -> None:
        manager = persona("designated-manager")
        self._step(f"{manager.name}, Haringey's designated manager, opens the team inbox.")
        inbox = self._send(manager, "GET", "/v1/alerts?unacknowledged=true&limit=200")["items"]
        second = [a for a in inbox if a["rule"] == "R3" and a.get("team")]
        for alert in second[:1]:
            self._tell_alert(alert)
        others = len(inbox) - len(second[:1])
        if others:
            self.say(f"   ({others} other unacknowledged alerts wait in the inbox.)")
        contacts = self._send(
            manager,
            "GET",
            "/v1/enquiry-contacts?limit=200",
            purpose=("safeguarding_concern", "Demo: reviewing enquiry-only contacts"),
        )["items"]
        about = [
            c
            for c in contacts
            if (c["criteria"].get("family_name") or "").lower() == UNKNOWN.family_name.lower()
        ]
        self.say(
            f"   {len(about)} enquiry-only contacts seem to be about {UNKNOWN.name}, a child "
            "no agency has referred:"
        )
        for contact in about:
            self.say(
                f"   - {contact['enquirer_name']} of {contact['organisation_name']}, "
                f"{contact['phone'] or contact['email']}, {_times(contact['enquiry_count'])}"
            )
        self.say(
            "   The manager decides whether this is a child in need, and closes them with a reason."
        )

    # Telling.

    def _step(self, text: str) -> None:
        self.steps += 1
        self.say("")
        self.say(f"{self.steps}. {text}")

    def _who_to_contact(self, entry: dict[str, Any], *, brief: bool = False) -> None:
        involved = entry.get("involvements") or []
        if not involved:
            self.say("   Nobody is recorded as working with her.")
            return
        first = involved[0]
        role = "key worker" if first.get("is_key_worker") else "lead professional"
        self.say(
            f"   Who to contact first: {first['practitioner_name']}, {role}, "
            f"{first['organisation_name']}, {first.get('practitioner_phone')}."
        )
        if brief:
            return
        for other in involved[1:]:
            if other.get("sensitive"):
                self.say(f"   Also: {other['notice']}")
            else:
                self.say(
                    f"   Also: {other['practitioner_name']}, {other['service']}, "
                    f"{other['organisation_name']}."
                )
        for flag in entry.get("flags") or []:
            self.say(
                f"   Flag: {_FLAG_NAMES.get(flag['kind'], flag['kind'])}; "
                f"contact {flag['contact_name']}."
            )

    def _tell_alert(self, alert: dict[str, Any]) -> None:
        actor = alert.get("actor") or {}
        who = actor.get("name") or "someone"
        where = actor.get("organisation_name") or "their organisation"
        reach = actor.get("phone") or actor.get("email") or "no contact given"
        child = f" About {alert['child_name']}." if alert.get("child_name") else ""
        self.say(
            f"   {alert['rule']}: {alert['reason_text']}{child} From {who}, {where} ({reach}); "
            f"purpose: {(alert.get('purpose') or 'none').replace('_', ' ')}."
        )

    # The API.

    def _check_service(self) -> None:
        try:
            self.client.get("/healthz").raise_for_status()
        except httpx2.HTTPError as exc:
            raise DemoError(
                f"no index service answers at {self.client.base_url} ({type(exc).__name__}): "
                "start it with `make run` (or `index-service serve`), or pass --base-url"
            ) from None

    def _entry_from(
        self, who: Persona, answer: dict[str, Any], child: StoryChild, purpose: str
    ) -> dict[str, Any]:
        """The child's entry: in the answer on a match; else the second, logged step,
        opening the candidate who is the child."""
        if answer["outcome"] == "match":
            self.say("   A match: the index shows her record.")
            entry: dict[str, Any] = answer["child"]
            return entry
        candidates = answer.get("candidates") or []
        chosen = next(
            (c for c in candidates if c.get("family_name") == child.family_name),
            None,
        )
        if chosen is None:
            raise DemoError(
                f"the index did not find {child.name}: load the demo data with "
                "`index-service seed-demo` first"
            )
        self.say(
            f"   {len(candidates)} possible match{'es' if len(candidates) > 1 else ''} "
            "(an age counts for less than a date of birth); they open the one who fits."
        )
        opened: dict[str, Any] = self._send(
            who,
            "GET",
            f"/v1/enquiries/{answer['id']}/children/{chosen['child_id']}",
            purpose=(purpose, "Demo: opening the possible match"),
        )
        return opened

    def _find_alert(
        self, who: Persona, child_id: uuid.UUID, *, rule: str, actor: str
    ) -> dict[str, Any] | None:
        """The newest alert of that rule about the child from that actor, unacknowledged
        first."""
        for query in ("unacknowledged=true&limit=200", "limit=200"):
            for alert in self._send(who, "GET", f"/v1/alerts?{query}")["items"]:
                if (
                    alert["rule"] == rule
                    and alert.get("child_id") == str(child_id)
                    and (alert.get("actor") or {}).get("name") == actor
                ):
                    found: dict[str, Any] = alert
                    return found
        return None

    def _post(
        self, who: Persona, path: str, body: dict[str, Any], *, purpose: tuple[str, str]
    ) -> dict[str, Any]:
        return self._send(who, "POST", path, body, purpose=purpose)

    def _send(
        self,
        who: Persona,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        purpose: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token(who)}"}
        if purpose is not None:
            headers |= {"Purpose-Of-Use": purpose[0], "Purpose-Text": purpose[1]}
        try:
            response = self.client.request(method, path, json=body, headers=headers)
        except httpx2.HTTPError as exc:
            raise DemoError(f"{method} {path.split('?')[0]} failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            problem = _json(response)
            code = str(problem.get("code", ""))
            raise DemoError(
                f"{method} {path.split('?')[0]} as {who.name} was refused: "
                f"{response.status_code} {code} {problem.get('detail', '')}{_HINTS.get(code, '')}"
            )
        return _json(response)

    def _token(self, who: Persona) -> str:
        return mint_dev_token(
            self.settings,
            subject=who.subject,
            name=who.name,
            email=who.email,
            organisation=who.organisation_code,
            roles=[role.value for role in who.roles],
            ttl_seconds=600,
        )


def walk(*, base_url: str, settings: Settings, say: Callable[[str], None]) -> None:
    """Tell the scenario against the service at `base_url`; DemoError if it cannot."""
    if not settings.dev_issuer_enabled:
        raise DemoError("the demo signs in through the development issuer, which is off here")
    with httpx2.Client(base_url=base_url, timeout=30.0, trust_env=False) as client:
        Walk(client=client, settings=settings, say=say).run()


def _age(child: StoryChild) -> int:
    assert child.date_of_birth is not None
    return age_in_years(child.date_of_birth, utcnow().date()) or 0


def _times(count: int) -> str:
    return "one enquiry" if count == 1 else f"{count} enquiries"


def _legal_name(entry: dict[str, Any]) -> str:
    for name in entry.get("names") or []:
        if name.get("kind") == "legal":
            return f"{name['given_names']} {name['family_name']}"
    return "the child"


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
