"""Rows of one feed about one child (Laming R78: one record per child). A batch is matched
against the index as it stood before the batch, so two rows about a child the index does
not hold yet would each find nothing and each create an entry. Instead, a row that may be
about a child an earlier row of its batch creates is *held back*: the earlier rows are
written first, and the held rows are matched again against the index that now holds
them, by the same resolver (`matching/batch.py`), so the second row updates the entry the
first made (a confident match) or waits for review (anything less). No new rule decides
who is the same child: this module only says which rows must wait, by the batch
resolver's own blocking keys (`matching/blocking.Probe` and `matching/keys.name_keys`,
as `matching/batch._CANDIDATES` joins them), so that every row the resolver could find
as a candidate of an earlier one waits for it."""

from __future__ import annotations

from collections.abc import Hashable

from index_service.matching.blocking import Probe
from index_service.matching.keys import name_keys
from index_service.matching.records import Person

Key = tuple[Hashable, ...]


def probe_keys(person: Person, probe: Probe | None = None) -> set[Key]:
    """The keys by which the batch resolver looks for candidates of this row (the
    `nhs_number`, `upn`, `family_dob`, `given_dob` and `postcode_*` rules)."""
    probe = probe or Probe.of(person)
    keys: set[Key] = set()
    if probe.nhs_number:
        keys.add(("nhs", probe.nhs_number))
    if probe.upn:
        keys.add(("upn", probe.upn))
    for born in probe.dates:
        if probe.family_phonetic:
            keys.add(("family", probe.family_phonetic, born))
        keys.update(("given", form, born) for form in probe.given_forms)
    for postcode in probe.postcodes:
        keys.update(("postcode_born", postcode, born) for born in probe.dates)
        if probe.family_phonetic:
            keys.add(("postcode_family", postcode, probe.family_phonetic))
        keys.update(("postcode_given", postcode, form) for form in probe.given_forms)
    return keys


def entry_keys(person: Person) -> set[Key]:
    """The keys by which the batch resolver would find the entry this row creates as a
    candidate: its identifiers, and every name's keys (`child_name` rows) with its date
    of birth and postcodes."""
    keys: set[Key] = set()
    if person.nhs_number:
        keys.add(("nhs", person.nhs_number))
    if person.upn:
        keys.add(("upn", person.upn))
    born = person.date_of_birth
    for name in person.names:
        found = name_keys(name.given, name.family)
        if born is not None:
            keys.add(("family", found.family_phonetic, born))
            keys.add(("given", found.given_key, born))
        for postcode in person.postcodes:
            keys.add(("postcode_family", postcode, found.family_phonetic))
            keys.add(("postcode_given", postcode, found.given_key))
    if born is not None:
        keys.update(("postcode_born", postcode, born) for postcode in person.postcodes)
    return keys


class Round:
    """Which rows of one round of a batch are held back: a row whose probe keys meet the
    entry keys of a child an earlier row of the round creates, or that repeats the row
    key (`source_record_id`) of an earlier row of the round that was applied."""

    def __init__(self) -> None:
        self._entries: set[Key] = set()
        self._sources: set[str] = set()

    def holds(self, source_record_id: str, person: Person, *, creates: bool) -> bool:
        if source_record_id in self._sources:
            return True
        return creates and not self._entries.isdisjoint(probe_keys(person))

    def applied(self, source_record_id: str, person: Person, *, created: bool) -> None:
        self._sources.add(source_record_id)
        if created:
            self._entries |= entry_keys(person)
