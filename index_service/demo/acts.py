"""What the seed's people do, each through the service a request would call, under that
service's own policy: a practitioner of another agency looks the child up (an enquiry)
before recording their involvement, since their own enquiry is what lets them reach it
(`access/scope.children_reached`); only a social worker is a key worker or names an
agency worker; each flag is raised by an agency allowed to raise its kind
(`access/objects.may_raise_flag`); only the responsible authority's data manager
shields a record. A refusal is a bug in the story, and stops the seed.

The seed is history told in a moment, so two things are dated after the service has
done its part: a flag's `raised_at` (the service stamps it now) is moved to the day
the story says it was raised, and the one overdue flag gets a review date in the past
(the service refuses one, rightly, from a person raising a flag today). Nothing else
is written around the services.

Involvements and flags go through the service functions, not the flows, so loading the
demo raises no R4 alerts, and the order of the story (other agencies look the child
up before children's social care records its key worker) means its enquiries raise no
R1 either: every inbox starts empty, and the first alert is the demo's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel
from sqlmodel import Session

from index_service.access.principal import Principal
from index_service.access.purpose import Purpose, PurposeCode
from index_service.alerts.service import AlertTiming
from index_service.children import service as children
from index_service.children.service import ChildRecord
from index_service.common import utcnow
from index_service.demo.people import NamedWorker, Practitioner
from index_service.enquiries import service as enquiries
from index_service.enquiries.models import EnquiryCreate
from index_service.flags import service as flags
from index_service.flags.models import Flag
from index_service.involvements import service as involvements
from index_service.involvements.models import Involvement
from index_service.involvements.schemas import InvolvementCreate, InvolvementEnd
from index_service.settings import Settings


@dataclass
class Tally:
    enquiries: int = 0
    involvements: int = 0
    flags: int = 0
    alerts: int = 0  # raised while loading: the story is ordered so that this stays 0


@dataclass
class Acts:
    session: Session
    settings: Settings
    began: datetime = field(default_factory=utcnow)
    tally: Tally = field(default_factory=Tally)

    @property
    def today(self) -> date:
        return self.began.date()

    def look_up(
        self,
        who: Practitioner,
        record: ChildRecord,
        *,
        purpose: PurposeCode = PurposeCode.PROVIDING_A_SERVICE,
        text: str = "Demo: starting to work with the child",
    ) -> bool:
        """`who` enquires about the child by what an agency would know (its NHS number, else
        its names, date of birth and postcode); whether the enquiry found it."""
        return record.child.id in self.enquire(who, criteria_of(record), purpose=purpose, text=text)

    def enquire(
        self,
        who: Practitioner,
        criteria: EnquiryCreate,
        *,
        purpose: PurposeCode,
        text: str,
    ) -> list[uuid.UUID]:
        """An enquiry as `POST /v1/enquiries` makes it; the children it found."""
        self.tally.enquiries += 1
        result = enquiries.make_enquiry(
            session=self.session,
            caller=who.principal,
            purpose=Purpose(purpose, text),
            data=criteria,
            request_id=f"seed-demo-{self.tally.enquiries}",
            policy=enquiries.EnquiryPolicy(
                timing=AlertTiming(
                    repeat_window=timedelta(hours=self.settings.alert_repeat_window_hours),
                    acknowledge_working_days=self.settings.alert_acknowledge_working_days,
                ),
                contact_window=timedelta(days=self.settings.enquiry_contact_window_days),
                contact_retention_days=self.settings.enquiry_contact_retention_days,
            ),
        )
        self.tally.alerts += len(result.alerts)
        return list(result.enquiry.candidate_ids)

    def involve(
        self,
        who: Practitioner,
        child_id: uuid.UUID,
        service: str,
        *,
        since: date,
        key_worker: bool = False,
        lead_professional: bool = False,
        allocated_worker: bool = False,
        sensitive: bool = False,
        naming: NamedWorker | None = None,
    ) -> Involvement:
        """`who` records their own involvement, or (a social worker) names `naming`."""
        data = InvolvementCreate(
            service=service,
            practitioner_name=naming.name if naming else None,
            practitioner_phone=naming.phone if naming else who.phone,
            practitioner_email=naming.email if naming else None,
            start_date=since,
            is_key_worker=key_worker,
            is_lead_professional=lead_professional,
            is_allocated_worker=allocated_worker,
            sensitive=sensitive,
        )
        involvement = involvements.start_own_involvement(
            session=self.session,
            caller=who.principal,
            child_id=child_id,
            data=data,
            enquiry_since=self.began,
        )
        self.tally.involvements += 1
        return involvement

    def end(self, who: Practitioner, involvement: Involvement, *, on: date) -> None:
        involvements.end_involvement(
            session=self.session,
            caller=who.principal,
            involvement_id=involvement.id,
            data=InvolvementEnd(end_date=on),
        )

    def flag(
        self,
        who: Practitioner,
        child_id: uuid.UUID,
        data: BaseModel,
        *,
        raised_on: date,
        overdue_since: date | None = None,
    ) -> Flag:
        """`who` raises the flag (`data`: one of `flags.schemas.FlagCreate`), dated to the
        day the story says; `overdue_since`: its review date, in the past."""
        flag = flags.raise_flag(
            session=self.session,
            caller=who.principal,
            child_id=child_id,
            data=data,
            enquiry_since=self.began,
        )
        flag.raised_at = datetime.combine(raised_on, time(10, 0), tzinfo=UTC)
        if overdue_since is not None:
            flag.review_date = overdue_since
        self.session.add(flag)
        self.session.flush()
        self.tally.flags += 1
        return flag

    def shield(self, data_manager: Principal, record: ChildRecord) -> ChildRecord:
        return children.set_shielded(
            session=self.session,
            caller=data_manager,
            child_id=record.child.id,
            shielded=True,
            expected_version=record.child.version,
        )


def criteria_of(record: ChildRecord) -> EnquiryCreate:
    if record.child.nhs_number:
        return EnquiryCreate(nhs_number=record.child.nhs_number)
    legal = next(n for n in record.names if n.kind == "legal")
    current = next((a for a in record.addresses if a.to_date is None), None)
    return EnquiryCreate(
        given_names=legal.given_names,
        family_name=legal.family_name,
        date_of_birth=record.child.date_of_birth,
        postcode=current.postcode if current else None,
    )
