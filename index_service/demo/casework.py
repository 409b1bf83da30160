"""Casework for a share of the generated children: who is working with them and the
flags they carry, drawn from the seed. Each child gets one of a few ordinary shapes of
work (early help with a lead professional, a child in need, a child protection plan, a
looked-after child, a child missing from home or from education), with the agencies its
age calls for; now and then a sensitive service too. The personas hold some of it: the
key worker is Haringey's social worker on some plans, the school's safeguarding lead
leads early help for some Brent pupils, the police officer holds some Ealing cases.

Agencies look the child up and record their work before children's social care records
its worker, and the lead professional last of the agencies, so no enquiry made while
loading alerts anyone (`demo/acts.py`)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from index_service.access.purpose import PurposeCode
from index_service.children.age import age_in_years
from index_service.children.service import ChildRecord
from index_service.demo.acts import Acts
from index_service.demo.people import NamedWorker, Practitioner, Staff
from index_service.demo.places import BRENT, EALING, HARINGEY, DemoAuthority, org_code
from index_service.flags.schemas import (
    AreaOfConcern,
    ChildInNeedFlag,
    ChildProtectionPlanFlag,
    ConcernRaisedFlag,
    EarlyHelpFlag,
    LookedAfterFlag,
    MissingEducationFlag,
    MissingFromHomeFlag,
    ProtectionCategory,
)
from index_service.organisations.models import OrganisationType as T

SHARE = 0.4  # of the generated children, those with casework
# How many generated cases each persona holds at most (the story's children aside).
PERSONA_CASES = {"key-worker": 4, "school-dsl": 4, "police-officer": 3}


@dataclass
class Casework:
    acts: Acts
    staff: Staff
    rng: random.Random
    held: Counter[str] = field(default_factory=Counter)

    def add(self, children: list[tuple[DemoAuthority, ChildRecord]]) -> None:
        for authority, record in children:
            if self.rng.random() >= SHARE:
                continue
            age = age_in_years(record.child.date_of_birth, self.acts.today) or 0
            shapes = [work for fits, work in _SHAPES.values() if fits(age)]
            self.rng.choice(shapes)(Case(self, authority, record, age))

    def persona_if_free(self, key: str, wanted: bool) -> Practitioner | None:
        if not wanted or self.held[key] >= PERSONA_CASES[key]:
            return None
        self.held[key] += 1
        return self.staff.persona(key)


@dataclass
class Case:
    work: Casework
    authority: DemoAuthority
    record: ChildRecord
    age: int

    # The shapes of work.

    def _early_help(self) -> None:
        if self.age < 5:
            self._agency(T.GP_PRACTICE, "General practice", PurposeCode.HEALTH_CARE)
        elif self._chance(0.5):
            self._agency(T.SCHOOL_NURSING, "School nursing", PurposeCode.HEALTH_CARE)
        self._maybe_sensitive()
        lead = self._setting(lead=True)
        if lead is not None:
            who, since = lead
            self._flag(who, EarlyHelpFlag(kind="early_help", lead_professional=who.name), since)

    def _child_in_need(self) -> None:
        self._setting()
        self._maybe_sensitive()
        recorder, named, since = self._social_worker("Children in need", allocated=True)
        name = named.name if named else recorder.name
        flag = ChildInNeedFlag(kind="child_in_need", allocated_worker=name, **_contact(named))
        self._flag(recorder, flag, since)

    def _child_protection(self) -> None:
        setting = self._setting()
        if setting is not None and self._chance(0.3):
            area = self.work.rng.choice(list(AreaOfConcern))
            concern = ConcernRaisedFlag(kind="concern_raised", area_of_concern=area)
            self._flag(setting[0], concern, setting[1])
        if self._chance(0.5):
            self._police("Child abuse investigation team")
        self._maybe_sensitive()
        recorder, named, since = self._social_worker("Child protection", key_worker=True)
        plan = ChildProtectionPlanFlag(
            kind="child_protection_plan",
            category=self.work.rng.choice(list(ProtectionCategory)),
            key_worker=named.name if named else recorder.name,
            review_date=self._review_date(),
            **_contact(named),
        )
        self._flag(recorder, plan, since)

    def _looked_after(self) -> None:
        self._setting()
        recorder, named, since = self._social_worker("Looked-after children", allocated=True)
        flag = LookedAfterFlag(
            kind="looked_after", responsible_authority=self.authority.ons_code, **_contact(named)
        )
        self._flag(recorder, flag, since)

    def _missing_from_home(self) -> None:
        police = self._police("Missing persons unit")
        if police is not None:
            self._flag(police[0], MissingFromHomeFlag(kind="missing_from_home"), police[1])
        if self.age >= 12 and self._chance(0.5):
            self._agency(T.YOUTH_JUSTICE, "Youth offending team", PurposeCode.PROVIDING_A_SERVICE)
        self._maybe_sensitive()
        if self._chance(0.5):
            self._social_worker("Children in need", allocated=True)

    def _missing_education(self) -> None:
        ews = self._agency(T.EDUCATION_WELFARE, "Education welfare", PurposeCode.EDUCATION_WELFARE)
        if ews is not None:
            who, since = ews
            flag = MissingEducationFlag(
                kind="missing_education", education_welfare_contact=who.name
            )
            self._flag(who, flag, since)

    # Who does the work.

    def _agency(
        self,
        kind: T,
        service: str,
        purpose: PurposeCode,
        *,
        who: Practitioner | None = None,
        lead: bool = False,
        sensitive: bool = False,
    ) -> tuple[Practitioner, date] | None:
        """A practitioner of that agency in the child's authority looks the child up, then
        records their work; None if their enquiry did not find the child (no NHS number,
        and a look-alike the matcher could not tell apart)."""
        who = who or self.work.staff.member(org_code(self.authority, kind), self._pick())
        if not self.work.acts.look_up(who, self.record, purpose=purpose):
            return None
        since = self._since()
        self.work.acts.involve(
            who,
            self.record.child.id,
            service,
            since=since,
            lead_professional=lead,
            sensitive=sensitive,
        )
        return who, since

    def _setting(self, *, lead: bool = False) -> tuple[Practitioner, date] | None:
        """Where the child is seen every week, by age: health visiting, early years,
        school or college."""
        if self.age < 3:
            return self._agency(
                T.HEALTH_VISITING, "Health visiting", PurposeCode.HEALTH_CARE, lead=lead
            )
        if self.age < 5:
            return self._agency(
                T.EARLY_YEARS, "Early years", PurposeCode.EDUCATION_WELFARE, lead=lead
            )
        if self.age >= 16:
            return self._agency(
                T.COLLEGE, "Student support", PurposeCode.EDUCATION_WELFARE, lead=lead
            )
        dsl = self.work.persona_if_free("school-dsl", lead and self.authority == BRENT)
        return self._agency(
            T.SCHOOL,
            "Designated safeguarding lead",
            PurposeCode.EDUCATION_WELFARE,
            who=dsl,
            lead=lead,
        )

    def _police(self, service: str) -> tuple[Practitioner, date] | None:
        officer = self.work.persona_if_free("police-officer", self.authority == EALING)
        return self._agency(T.POLICE, service, PurposeCode.POLICE_INVESTIGATION, who=officer)

    def _maybe_sensitive(self) -> None:
        """Now and then a teenager is seen by a sensitive service: others are shown only
        that one is involved (`access/sensitive.py`)."""
        if self.age >= 13 and self._chance(0.2):
            kind, service = self.work.rng.choice(
                [
                    (T.SEXUAL_HEALTH, "Young people's sexual health"),
                    (T.SUBSTANCE_MISUSE, "Young people's substance misuse"),
                    (T.CAMHS, "Child and adolescent mental health"),
                ]
            )
            self._agency(kind, service, PurposeCode.HEALTH_CARE, sensitive=True)

    def _social_worker(
        self, service: str, *, key_worker: bool = False, allocated: bool = False
    ) -> tuple[Practitioner, NamedWorker | None, date]:
        """Children's social care records its worker last: Haringey's key-worker persona
        on some plans, an agency worker without a login on a quarter (named by a
        colleague), else one of its social workers."""
        code = org_code(self.authority, T.CHILDRENS_SOCIAL_CARE)
        persona = self.work.persona_if_free("key-worker", key_worker and self.authority == HARINGEY)
        recorder = persona or self.work.staff.member(code, self._pick())
        named = None
        if persona is None and self._chance(0.25):
            named = self.work.staff.agency_worker(code)
        since = self._since()
        self.work.acts.involve(
            recorder,
            self.record.child.id,
            service,
            since=since,
            key_worker=key_worker,
            allocated_worker=allocated,
            naming=named,
        )
        return recorder, named, since

    # Details drawn from the seed.

    def _flag(self, who: Practitioner, data: BaseModel, since: date) -> None:
        if getattr(data, "review_date", None) is None:
            data = data.model_copy(update={"review_date": self._review_date()})
        self.work.acts.flag(who, self.record.child.id, data, raised_on=since)

    def _review_date(self) -> date:
        """Some due within a fortnight, most within four months."""
        return self.work.acts.today + timedelta(days=self.work.rng.randint(3, 120))

    def _since(self) -> date:
        earliest = self.record.child.date_of_birth
        return max(earliest, self.work.acts.today - timedelta(days=self.work.rng.randint(14, 540)))

    def _pick(self) -> int:
        return self.work.rng.randrange(3)

    def _chance(self, p: float) -> bool:
        return self.work.rng.random() < p


def _contact(named: NamedWorker | None) -> dict[str, str]:
    """A flag raised for a worker without a login names them as its contact."""
    if named is None:
        return {}
    return {"contact_name": named.name, "contact_phone": named.phone, "contact_email": named.email}


# Each shape of work: the ages it fits, and the work.
_SHAPES: dict[str, tuple[Callable[[int], bool], Callable[[Case], None]]] = {
    "early_help": (lambda age: True, Case._early_help),
    "child_in_need": (lambda age: True, Case._child_in_need),
    "child_protection": (lambda age: True, Case._child_protection),
    "looked_after": (lambda age: True, Case._looked_after),
    "missing_from_home": (lambda age: age >= 11, Case._missing_from_home),
    "missing_education": (lambda age: 5 <= age <= 15, Case._missing_education),
}
