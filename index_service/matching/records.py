"""What the matcher compares: an enquiry's details, or a stored child, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str


@dataclass(frozen=True)
class Person:
    """A child as known to one side. `names`: every name (legal first, then aliases);
    `postcodes`: every address's normalised postcode, current first; an unknown field is
    None (or empty), which the model scores as neither for nor against."""

    names: tuple[PersonName, ...] = ()
    date_of_birth: date | None = None
    date_of_birth_precision: str = "exact"  # exact, month, year, estimated
    postcodes: tuple[str, ...] = ()
    nhs_number: str | None = None
    upn: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
