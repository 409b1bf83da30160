"""Factories that build test data with readable traits, through the service functions."""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from index_service.access.devkeys import mint_dev_token
from index_service.common import utcnow
from index_service.database import Database
from index_service.organisations.models import Organisation, OrganisationCreate
from index_service.organisations.service import create_organisation
from index_service.settings import Settings

EALING = "E09000009"
HARINGEY = "E09000014"

# A valid NHS number from the 999 test range and a valid UPN (check letter A..Z computed).
VALID_NHS_NUMBER = "9992914173"
VALID_UPN = "Z307202311001"

CHILD = {
    "names": [
        {"kind": "legal", "given_names": "Aisha", "family_name": "Testchild"},
        {"kind": "alias", "given_names": "Ash", "family_name": "Testchild"},
    ],
    "date_of_birth": "2016-02-11",
    "date_of_birth_precision": "exact",
    "nhs_number": VALID_NHS_NUMBER,
    "upn": VALID_UPN,
    "addresses": [
        {
            "line1": "1 Synthetic Row",
            "town": "London",
            "postcode": "w5 2aa",
            "local_authority": EALING,
            "from_date": "2019-01-01",
        },
        {
            "line1": "9 Old Lane",
            "town": "London",
            "postcode": "N17 6AB",
            "local_authority": HARINGEY,
            "from_date": "2016-02-11",
            "to_date": "2018-12-31",
        },
    ],
    "carers": {
        "status": "known",
        "people": [{"name": "Morgan Testchild", "relationship": "mother", "phone": "07700 900123"}],
    },
    "gp_practice": {"status": "registered", "ods_code": "A81001", "phone": "020 7946 0001"},
    "education": {"status": "attending", "urn": "100001", "phone": "020 7946 0002"},
    "responsible_authority": EALING,
}


# The purpose headers every request touching child data carries.
PURPOSE = {"Purpose-Of-Use": "safeguarding_concern", "Purpose-Text": "synthetic test enquiry"}


def nhs_number(n: int) -> str:
    """The `n`th valid NHS number of the 999 test range (modulus-11 check digit), for
    tests that need many children an enquiry by NHS number matches."""
    for candidate in itertools.count(999_000_000 + n * 7):
        digits = [int(d) for d in str(candidate)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return f"{candidate}{check}"
    raise AssertionError("unreachable")


def child_payload(**changes: Any) -> dict[str, Any]:
    """The standard synthetic child, with fields replaced as given."""
    payload = copy.deepcopy(CHILD)
    payload.update(changes)
    return payload


_OTHER_GIVEN = ("Bilal", "Chidi", "Dorota", "Eilidh", "Farah", "Gethin", "Hamza", "Ioana")
_others = itertools.count()


def other_child(**changes: Any) -> dict[str, Any]:
    """A child the index would not take for the standard one (another given name, date of
    birth and no identifiers), for tests that need several records but not duplicates."""
    n = next(_others)
    name = _OTHER_GIVEN[n % len(_OTHER_GIVEN)] + "".join(chr(ord("a") + int(d)) for d in str(n))
    payload = child_payload(
        names=[{"kind": "legal", "given_names": name, "family_name": "Testchild"}],
        # Month 03-11 and day 12-27: never one digit from, nor the day/month swap of, the
        # standard child's 2016-02-11, however many others the session made before.
        date_of_birth=f"{2009 + n % 9}-{3 + n % 9:02d}-{12 + n % 16:02d}",
        nhs_number=None,
        upn=None,
    )
    payload.update(changes)
    return payload


def create_confirming(client: Any, headers: dict[str, str], payload: dict[str, Any]) -> str:
    """Create a record as a data manager who has checked that the possible duplicates the
    index names are different children (for tests that need look-alikes); its id."""
    confirmed: list[str] = []
    for _ in range(5):
        body = {**payload, "confirmed_distinct_from": confirmed}
        response = client.post("/v1/children", json=body, headers=headers)
        if response.status_code == 201:
            return str(response.json()["id"])
        assert response.status_code == 409, response.text
        confirmed += [c["child_id"] for c in response.json()["candidates"]]
    raise AssertionError("still a possible duplicate after confirming every candidate shown")


@dataclass
class Factory:
    db: Database
    settings: Settings

    def organisation(
        self,
        *,
        type: str = "childrens_social_care",
        local_authority: str = EALING,
        code: str | None = None,
        name: str | None = None,
        **contacts: str | None,
    ) -> Organisation:
        """An organisation; children's social care gets its in-hours and out-of-hours
        numbers (Ofcom's drama range) unless `contacts` says otherwise."""
        reachable = (
            {"contact_phone": "020 7946 0990", "out_of_hours_phone": "020 7946 0999"}
            if type == "childrens_social_care"
            else {}
        )
        data = OrganisationCreate.model_validate(
            {
                "code": code or f"T{uuid.uuid4().hex[:8].upper()}",
                "name": name or f"Test {type}",
                "type": type,
                "local_authority": local_authority,
                **reachable,
                **contacts,
            }
        )
        with self.db.transaction() as session:
            return create_organisation(session=session, caller=None, data=data)

    def token(
        self, *, organisation: Organisation, roles: list[str], sub: str = "user-1", ttl: int = 600
    ) -> str:
        return mint_dev_token(
            self.settings,
            subject=sub,
            name="Test User",
            email=f"{sub}@test.example",
            organisation=organisation.code,
            roles=roles,
            ttl_seconds=ttl,
        )

    def headers(
        self,
        *,
        roles: list[str],
        type: str = "childrens_social_care",
        local_authority: str = EALING,
    ) -> dict[str, str]:
        organisation = self.organisation(type=type, local_authority=local_authority)
        return {
            "Authorization": f"Bearer {self.token(organisation=organisation, roles=roles)}",
            **PURPOSE,
        }

    def headers_for(
        self, organisation: Organisation, *, roles: list[str], sub: str = "user-1"
    ) -> dict[str, str]:
        """Headers of one named user of an existing organisation."""
        token = self.token(organisation=organisation, roles=roles, sub=sub)
        return {"Authorization": f"Bearer {token}", **PURPOSE}

    def data_manager(self) -> dict[str, str]:
        return self.headers(roles=["data_manager"])

    def practitioner(self, *, type: str = "emergency_department") -> dict[str, str]:
        return self.headers(roles=["practitioner"], type=type)

    def enquiry_contact(self, organisation: Organisation, *, subject: str = "enquirer") -> str:
        """An open enquiry-only contact (and its `not_found` enquiry) made by a user of the
        organisation, about a child said to live in its authority; its id."""
        from index_service.enquiries.models import Enquiry, EnquiryContact
        from index_service.matching.model import CURRENT_VERSION
        from index_service.settings import DEV_ISSUER

        criteria = {"family_name": "Unknownchild", "date_of_birth": "2015-05-05"}
        enquiry = Enquiry(
            issuer=DEV_ISSUER,
            subject=subject,
            organisation_id=organisation.id,
            purpose=PURPOSE["Purpose-Of-Use"],
            purpose_text=PURPOSE["Purpose-Text"],
            criteria=criteria,
            outcome="not_found",
            candidate_ids=[],
            model_version=CURRENT_VERSION,
        )
        contact = EnquiryContact(
            enquiry_id=enquiry.id,
            issuer=DEV_ISSUER,
            subject=subject,
            enquirer_name="Sam Enquirer",
            organisation_id=organisation.id,
            purpose=enquiry.purpose,
            purpose_text=enquiry.purpose_text,
            criteria=criteria,
            advice="Test advice",
            local_authority=organisation.local_authority,
            expires_at=utcnow() + timedelta(days=30),
        )
        with self.db.transaction() as session:
            session.add(enquiry)
            session.flush()
            session.add(contact)
        return str(contact.id)

    def count(self, table: str) -> int:
        with self.db.session() as session:
            return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608

    def audit_rows(self) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.execute(
                text("SELECT * FROM audit_event ORDER BY occurred_at")
            ).mappings()
            return [dict(r) for r in rows]
