"""Index entries: one per child, with names, date of birth, identifiers, addresses,
carers, GP, school, responsible authority and per-field provenance."""
