"""What the benchmark scripts share when they work on a population loaded earlier: the
database, the children's ids by population key, a stored child as the generator's
`Child`, and an enquiry as the service would search it."""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import psycopg
import typer
from alembic import command
from pydantic import ValidationError

from bench.matching.load import loaded_ids
from bench.matching.population import Child, Enquiry
from index_service.database import start_embedded_postgres, with_database
from index_service.enquiries.criteria import person_of
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.records import Person
from index_service.migrations_state import alembic_config

# Another name (BENCH_DATABASE) lets two benches share one PostgreSQL server.
BENCH_DB = os.environ.get("BENCH_DATABASE", "index_service_bench")


def existing_database(database_url: str | None, name: str = BENCH_DB) -> str:
    maintenance = database_url or start_embedded_postgres(Path(".data"))
    url = with_database(maintenance, name)
    command.upgrade(alembic_config(url), "head")  # migrations added since it was loaded
    return url


def loaded_population(database_url: str | None, children: int) -> tuple[str, dict[int, uuid.UUID]]:
    """The bench database's URL and its children's ids by key; it must hold `children`."""
    url = existing_database(database_url)
    with psycopg.connect(url) as conn:
        ids = loaded_ids(conn)
    if len(ids) != children:
        raise typer.BadParameter(f"the bench database holds {len(ids)} children, not {children}")
    return url, ids


def child_of(key: int, person: Person) -> Child:
    """A stored child (as the resolver loads it) as the generator's `Child`."""
    assert person.date_of_birth is not None
    lines = tuple(" ".join(filter(None, (p.house, *p.street))) for p in person.places)
    towns = tuple(p.town or "" for p in person.places)
    return Child(
        key,
        person.names,
        person.date_of_birth,
        person.postcodes,
        person.nhs_number,
        person.upn,
        lines,
        towns,
    )


def searchable(enquiry: Enquiry, today: date) -> Person | None:
    """The enquiry as the service searches it, or None where the service would refuse it
    with 422 (a corruption made the date of birth a future one)."""
    try:
        return person_of(EnquiryCreate(**enquiry.as_json()), today=today)
    except ValidationError:
        return None
