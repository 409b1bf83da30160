"""What the matcher compares: an enquiry's details, or a stored child, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str


@dataclass(frozen=True)
class Place:
    """An address as model v4 compares it, after the shared address normaliser
    (`matching.addresses.place_of`): the postcode's normal form, the dwelling (flat and
    house number, "flat 3 12"), the street's words and the town, folded; each None (or
    empty) when not known."""

    postcode: str | None = None
    house: str | None = None
    street: tuple[str, ...] = ()
    town: str | None = None


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
    # The NHS number verified (a PDS trace, a trusted feed): only then is it decisive (v4).
    nhs_number_verified: bool = False
    # Every address as a `Place`, current first (model v4; v1-v3 compare `postcodes`).
    places: tuple[Place, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchScope:
    """What one search may be matched on, decided by the caller's access policy (access/)
    and handed to the matcher as plain data, so that blocking and scoring see the same
    thing. `shielded_addresses_of`: the authority whose shielded children's addresses
    count as candidates' keys (its data managers keep those records); for everyone else a
    shielded child's addresses are nobody's key, so no postcode can find or lift it.
    `max_shown`: the most candidates an answer shows."""

    shielded_addresses_of: str | None = None
    max_shown: int = 5

    def matches_addresses_of(self, *, shielded: bool, responsible_authority: str) -> bool:
        return not shielded or responsible_authority == self.shielded_addresses_of
