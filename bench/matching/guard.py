"""The duplicate guard against a population the benchmark loaded: how many records of a
child the index already holds it catches (the same child sent again by another agency,
corrupted as enquiries are), and how many records of children it does not hold it
blocks. In process, through the guard's own rule (`children.duplicates`).

    .venv/bin/python -m bench.matching.guard --children 100000 --records 500
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Annotated

import typer

from bench.matching.population import (
    Population,
    absent_child_enquiry,
    agency_enquiry_about,
    enquiry_about,
)
from bench.matching.reuse import child_of, loaded_population, searchable
from index_service.children.duplicates import duplicate_reason
from index_service.database import open_database
from index_service.matching.model import load_model
from index_service.matching.records import MatchScope
from index_service.matching.resolver import load_people, rank


def main(
    children: Annotated[int, typer.Option(help="Size of the loaded population.")] = 100_000,
    records: Annotated[int, typer.Option(help="Records of each kind to try.")] = 500,
    seed: Annotated[int, typer.Option()] = 23,
    database_url: Annotated[str | None, typer.Option(help="Default: embedded PostgreSQL.")] = None,
) -> None:
    rng = random.Random(seed)
    url, ids = loaded_population(database_url, children)
    model, today, scope = load_model(), datetime.now(UTC).date(), MatchScope()
    db = open_database(url, pool_size=1, application_name="bench-guard")
    caught = tried = blocked = strangers = 0
    with db.session() as session:
        asked = rng.sample(sorted(ids), k=records)
        people = load_people(session=session, child_ids=[ids[k] for k in asked], scope=scope)
        for key in asked:
            child = child_of(key, people[ids[key]].person)
            make = rng.choice((enquiry_about, agency_enquiry_about))
            record = searchable(make(child, rng, rng.choice((0, 1))), today)
            if record is None or record.date_of_birth is None or not record.names:
                continue  # a record needs names and a date of birth
            tried += 1
            found = rank(session=session, person=record, scope=scope, model=model)
            caught += any(
                s.child_id == ids[key] and duplicate_reason(s, model) is not None for s in found
            )
        population = Population(seed)
        for _ in range(records):
            stranger = searchable(absent_child_enquiry(population, rng), today)
            if stranger is None or stranger.date_of_birth is None:
                continue
            strangers += 1
            found = rank(session=session, person=stranger, scope=scope, model=model)
            blocked += any(duplicate_reason(s, model) is not None for s in found)
            session.expunge_all()
    db.close()
    typer.echo(
        json.dumps(
            {
                "same_child_records": tried,
                "caught": caught,
                "caught_share": round(caught / tried, 4) if tried else None,
                "different_children": strangers,
                "blocked": blocked,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    typer.run(main)
