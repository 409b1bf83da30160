"""Feed benchmark: rows per second through the feed path (`feeds/service.py`: read,
validate, recognise row keys, match in batches, write, audit), in process, on a real
PostgreSQL.

    .venv/bin/python -m bench.feeds.run --children 100000 --feed 100000
    .venv/bin/python -m bench.feeds.run --children 1000000 --feed 1000000   # the target

Two measurements, each on a database made afresh:
- into an existing index: `--children` loaded at COPY speed (bench/matching/load.py), then
  a CSV feed of `--feed` rows, half about children the index holds (their names, date of
  birth, NHS number where known, current address, and a GP practice the index did not
  know: confident matches, updated) and half new children (created);
- an initial load: the same number of new children into an empty index.
Without --database-url it uses the embedded PostgreSQL under .data/. Figures are printed
with the machine's load average (`uptime`), as JSON too.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from bench.matching.load import AUTHORITIES, fresh_database, load
from bench.matching.population import Child, Population
from index_service.database import open_database
from index_service.feeds.cli import import_file
from index_service.feeds.records import CSV_COLUMNS
from index_service.settings import Settings

BENCH_DB = "index_service_feeds_bench"
SUPPLIER = "BENCH-ED"  # an agency system (bench/matching/load.py makes it)


def write_feed(path: Path, children: list[Child]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for child in children:
            legal = child.names[0]
            authority = AUTHORITIES[child.key % len(AUTHORITIES)]
            writer.writerow(
                {
                    "source_record_id": f"BENCH-{child.key}",
                    "given_names": legal.given,
                    "family_name": legal.family,
                    "date_of_birth": child.date_of_birth.isoformat(),
                    "nhs_number": child.nhs_number or "",
                    "upn": child.upn or "",
                    "address_line1": "1 Synthetic Street",
                    "postcode": child.postcodes[0],
                    "address_local_authority": authority,
                    "gp_ods_code": "A81001",
                    "responsible_authority": authority,
                }
            )


def feed_into(url: str, feed: Path) -> tuple[float, dict[str, int]]:
    settings = Settings(environment="test", database_url=url, data_dir=Path(tempfile.mkdtemp()))
    db = open_database(url, pool_size=1, application_name="bench-feeds")
    try:
        started = time.perf_counter()
        with feed.open("rb") as stream:
            report = import_file(
                db=db, settings=settings, organisation_code=SUPPLIER, stream=stream, kind="csv"
            )
        return time.perf_counter() - started, report.counts
    finally:
        db.close()


def load_average() -> str:
    return subprocess.run(
        ["/usr/bin/uptime"], capture_output=True, text=True, check=True
    ).stdout.strip()


def main(
    children: Annotated[int, typer.Option(help="Children in the index before the feed.")] = 100_000,
    feed: Annotated[int, typer.Option(help="Rows in the feed.")] = 100_000,
    database_url: Annotated[
        str | None, typer.Option(help="A PostgreSQL server's maintenance URL.")
    ] = None,
    seed: Annotated[int, typer.Option()] = 18,
) -> None:
    population = Population(seed)
    known = feed // 2
    everyone = list(population.children(children + feed - known))
    rng = random.Random(seed)
    rows = rng.sample(everyone[:children], known) + everyone[children:]
    rng.shuffle(rows)
    results: dict[str, Any] = {"children": children, "feed": feed}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "feed.csv"
        write_feed(path, rows)
        url = fresh_database(database_url, BENCH_DB)
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            load(conn, everyone[:children])
            copy_seconds = time.perf_counter() - started
            conn.execute("ANALYZE")
            conn.commit()
        seconds, counts = feed_into(url, path)
        results["existing"] = {
            "copy_load_rows_per_s": round(children / copy_seconds),
            "seconds": round(seconds, 1),
            "rows_per_s": round(feed / seconds),
            "counts": counts,
            "uptime": load_average(),
        }
        initial = everyone[children:] + rng.sample(everyone[:children], known)
        write_feed(path, initial)
        url = fresh_database(database_url, BENCH_DB)
        seconds, counts = feed_into(url, path)
        results["initial_load"] = {
            "seconds": round(seconds, 1),
            "rows_per_s": round(len(initial) / seconds),
            "counts": counts,
            "uptime": load_average(),
        }
    target = 1_000_000 / 600
    for name in ("existing", "initial_load"):
        figures = results[name]
        typer.echo(
            f"{name:>13}: {figures['rows_per_s']:>6} rows/s ({figures['seconds']} s; "
            f"{dict(Counter(figures['counts']))}); target {target:.0f} rows/s "
            f"{'met' if figures['rows_per_s'] >= target else 'not met'}; {figures['uptime']}"
        )
    typer.echo(json.dumps(results, indent=1))


if __name__ == "__main__":
    typer.run(main)
