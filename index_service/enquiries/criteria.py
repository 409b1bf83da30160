"""What an enquiry gave, as the matcher compares it."""

from __future__ import annotations

from datetime import date

from index_service.enquiries.models import EnquiryCreate
from index_service.matching.addresses import place_of, postcode_key
from index_service.matching.normalise import approximate_date_of_birth
from index_service.matching.records import Person, PersonName


def person_of(data: EnquiryCreate, *, today: date) -> Person:
    names = []
    if data.family_name or data.given_names:
        names.append(PersonName(data.given_names or "", data.family_name or ""))
    names.extend(PersonName(n.given_names, n.family_name) for n in data.other_names)
    approximate = approximate_date_of_birth(
        year_of_birth=data.year_of_birth, age_years=data.age_years, today=today
    )
    born, precision = approximate or (data.date_of_birth, "exact")
    place = place_of(
        line1=data.address_line1, line2=data.address_line2, town=data.town, postcode=data.postcode
    )
    return Person(
        names=tuple(names),
        date_of_birth=born,
        date_of_birth_precision=precision,
        postcodes=(postcode_key(data.postcode),) if data.postcode else (),
        places=(place,) if place.postcode or place.street or place.town else (),
        nhs_number=data.nhs_number,
        upn=data.upn,
    )
