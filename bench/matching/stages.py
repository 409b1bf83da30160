"""Where a search's time goes, against a population the benchmark loaded: each blocking
rule on its own, the candidate search as the service runs it (all rules at once),
loading the candidates, and scoring them in Python. Prints p50/p95 per stage, in ms.

    .venv/bin/python -m bench.matching.stages --children 1000000 --enquiries 500
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import text

from bench.matching.population import enquiry_about
from bench.matching.reuse import child_of, loaded_population, searchable
from index_service.database import open_database
from index_service.matching.blocking import (
    TRIGRAM_SIMILARITY,
    Probe,
    blocking_rules,
    find_candidates,
)
from index_service.matching.model import load_model, score
from index_service.matching.records import MatchScope
from index_service.matching.resolver import load_people

# What a practitioner may match on (no shielded child's addresses): the view these
# figures describe.
EVERYONE = MatchScope()


def _cuts(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2)}


def main(
    children: Annotated[int, typer.Option(help="Size of the loaded population.")] = 1_000_000,
    enquiries: Annotated[int, typer.Option()] = 500,
    seed: Annotated[int, typer.Option()] = 11,
    database_url: Annotated[str | None, typer.Option(help="Default: embedded PostgreSQL.")] = None,
) -> None:
    rng = random.Random(seed)
    url, ids = loaded_population(database_url, children)
    model, today = load_model(), datetime.now(UTC).date()
    timings: dict[str, list[float]] = defaultdict(list)
    db = open_database(url, pool_size=1, application_name="bench-stages")
    with db.session() as session:
        asked = rng.sample(sorted(ids), k=enquiries)
        people = load_people(session=session, child_ids=[ids[k] for k in asked], scope=EVERYONE)
        for key in asked:
            person = searchable(
                enquiry_about(child_of(key, people[ids[key]].person), rng, 1), today
            )
            if person is None:
                continue
            session.execute(text(f"SET pg_trgm.similarity_threshold = {float(TRIGRAM_SIMILARITY)}"))
            for label, rule in blocking_rules(Probe.of(person), EVERYONE).items():
                started = time.perf_counter()
                session.execute(rule).all()
                timings[f"rule:{label}"].append(time.perf_counter() - started)
            started = time.perf_counter()
            found = find_candidates(session=session, person=person, scope=EVERYONE)
            timings["candidates (all rules)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            stored = load_people(session=session, child_ids=found, scope=EVERYONE)
            timings["load candidates"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for it in stored.values():
                score(model, person, it.person)
            timings["score in Python"].append(time.perf_counter() - started)
            timings["candidates per search"].append(len(found) / 1000)  # shown as n/1000
            session.rollback()
    db.close()
    typer.echo(json.dumps({stage: _cuts(v) for stage, v in sorted(timings.items())}, indent=2))


if __name__ == "__main__":
    typer.run(main)
