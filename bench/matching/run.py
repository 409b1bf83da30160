"""Matching benchmark: load a synthetic population, send labelled enquiries through the
API of a real `index-service serve`, and report quality and latency.

    .venv/bin/python -m bench.matching.run --children 100000 --searches 10000
    .venv/bin/python -m bench.matching.run --children 1000000
    .venv/bin/python -m bench.matching.run --england          # 11 million children
    .venv/bin/python -m bench.matching.run --children 1000000 --reuse   # search again only

Without --database-url it uses the embedded PostgreSQL under .data/ (database
index_service_bench, made afresh). Figures are printed as a table and as JSON.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx2
import psycopg
import typer

from bench.matching.load import count_terms, fresh_database, load
from bench.matching.population import (
    Enquiry,
    Population,
    absent_child_enquiry,
    agency_enquiry_about,
    enquiry_about,
)
from bench.matching.reuse import BENCH_DB, loaded_population, searchable
from index_service.access.devkeys import mint_dev_token
from index_service.access.need_to_know import CriteriaInsufficient, require_sufficient_criteria
from index_service.database import open_database
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.model import load_model
from index_service.matching.records import MatchScope
from index_service.matching.resolver import resolve
from index_service.settings import Settings

ENGLAND = 11_000_000


@dataclass
class Tally:
    present: int = 0
    absent: int = 0
    matches_right: int = 0
    matches_wrong: int = 0  # a match on the wrong child: a wrong-child disclosure
    shown_right: int = 0  # the true child among the candidates shown (match or possible)
    shown_any: int = 0
    refused: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)  # synthetic: safe to print
    # Per corruption: enquiries about a known child that had it, and those that missed them.
    with_corruption: collections.Counter[str] = field(default_factory=collections.Counter)
    missed_with: collections.Counter[str] = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)

    def add(
        self, enquiry: Enquiry, truth: str | None, answer: dict[str, Any], seconds: float
    ) -> None:
        self.latencies.append(seconds)
        shown = [c["child_id"] for c in answer["candidates"]]
        if truth is None:
            self.absent += 1
        else:
            self.present += 1
        if shown:
            self.shown_any += 1
        if truth is not None and truth in shown:
            self.shown_right += 1
        if truth is not None:
            for kind in enquiry.corruptions or ("none",):
                self.with_corruption[kind] += 1
                if truth not in shown:
                    self.missed_with[kind] += 1
        if answer["outcome"] == "match":
            if shown == [truth]:
                self.matches_right += 1
            else:
                self.matches_wrong += 1
                self.wrong.append(
                    {"enquiry": repr(enquiry), "truth": truth, "answer": answer["candidates"]}
                )


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


def report(t: Tally, baseline: list[float], children: int, load_seconds: float) -> dict[str, Any]:
    match_p = _ratio(t.matches_right, t.matches_right + t.matches_wrong)
    match_r = _ratio(t.matches_right, t.present)
    any_p = _ratio(t.shown_right, t.shown_any)
    any_r = _ratio(t.shown_right, t.present)
    api, sql = _percentiles(t.latencies), _percentiles(baseline)
    return {
        "children": children,
        "searches": t.present + t.absent,
        "refused_as_bad_input": t.refused,
        "load_seconds": round(load_seconds, 1),
        "match": {"precision": match_p, "recall": match_r, "f1": _f1(match_p, match_r)},
        "match_or_possible": {"precision": any_p, "recall": any_r, "f1": _f1(any_p, any_r)},
        "wrong_child_disclosures": t.matches_wrong,
        "wrong_child_cases": t.wrong[:10],
        "recall_by_corruption": {
            kind: round(1 - t.missed_with[kind] / n, 4)
            for kind, n in sorted(t.with_corruption.items())
        },
        "api_latency": api,
        "bare_sql_latency": sql,
        "api_over_bare_sql_p50": api["p50_ms"] / sql["p50_ms"],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `index-service serve` and return once it says it is serving: its output is
    read line by line (no polling, no sleeping), then drained by a thread."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "development",
        "RATE_LIMIT_SEARCHES": "1000000000",
        "RATE_LIMIT_READS": "1000000000",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("index-service")), "serve", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert server.stdout is not None
    for line in server.stdout:  # ends if the server exits
        if "Application startup complete" in line:
            drain = functools.partial(collections.deque, server.stdout, maxlen=0)
            threading.Thread(target=drain, daemon=True).start()
            return server, f"http://127.0.0.1:{port}"
    raise RuntimeError("the server did not start")


def main(
    children: Annotated[int, typer.Option(help="How many children to load.")] = 100_000,
    searches: Annotated[int, typer.Option(help="How many enquiries to send.")] = 10_000,
    england: Annotated[bool, typer.Option(help="Load 11 million children.")] = False,
    seed: Annotated[int, typer.Option()] = 42,
    absent_share: Annotated[
        float, typer.Option(help="Share of enquiries about unknown children.")
    ] = 0.1,
    database_url: Annotated[str | None, typer.Option(help="Default: embedded PostgreSQL.")] = None,
    reuse: Annotated[
        bool,
        typer.Option(help="Search the population an earlier run loaded (same size and seed)."),
    ] = False,
    corruption_model: Annotated[
        str, typer.Option(help="default (typed by a person), agency (agency data) or both.")
    ] = "default",
    models: Annotated[
        str | None,
        typer.Option(
            help="Also resolve every enquiry in process with each of these model "
            "versions (comma-separated), side by side: quality and matching time."
        ),
    ] = None,
) -> None:
    """Load, search through the API, and print precision, recall, F1, wrong-child
    disclosures, latency percentiles and the ratio to a bare indexed SQL lookup."""
    count = ENGLAND if england else children
    rng, asked, population = plan(count, searches, seed, absent_share)
    kept: dict[int, Any] = {}

    def remembered() -> Any:
        for child in population.children(count):
            if child.key in asked:
                kept[child.key] = child
            yield child

    started = time.perf_counter()
    if reuse:
        url, ids = loaded_population(database_url, count)
        collections.deque(remembered(), maxlen=0)  # the same children, regenerated
        load_seconds = float("nan")
    else:
        url = fresh_database(database_url, BENCH_DB)
        with psycopg.connect(url) as conn:
            ids = load(conn, remembered())
            count_terms(conn)
            conn.execute("ANALYZE")
        load_seconds = time.perf_counter() - started
    enquiries = enquiries_of(rng, population, kept, ids, searches, corruption_model)
    tally, baseline = Tally(), _baseline(url, [str(ids[k]) for k in sorted(asked)][:2000])
    with tempfile.TemporaryDirectory() as data_dir:
        server, base = _serve(url, Path(data_dir))
        try:
            _search(base, Path(data_dir), enquiries, tally)
            floor = _floor(base, Path(data_dir), count=500)
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = report(tally, baseline, count, load_seconds)
    figures["api_floor_latency"] = _percentiles(floor)
    if models:
        figures["in_process"] = _in_process(url, enquiries, models.split(","))
    typer.echo(json.dumps(figures, indent=2))


def plan(
    count: int, searches: int, seed: int, absent_share: float
) -> tuple[random.Random, set[int], Population]:
    """The seeded draw of which children are asked about (the same for every run with
    the same figures: `bench.matching.misses` regenerates a run's enquiries with it)."""
    rng = random.Random(seed)
    asked = set(rng.sample(range(count), k=min(count, int(searches * (1 - absent_share)))))
    return rng, asked, Population(seed)


def enquiries_of(
    rng: random.Random,
    population: Population,
    kept: dict[int, Any],
    ids: dict[int, Any],
    searches: int,
    corruption_model: str,
) -> list[tuple[Enquiry, str | None]]:
    """The run's enquiries, after the population was generated (the absent children are
    drawn from the population's generator where it stopped), shuffled."""
    makers = {
        "default": (enquiry_about,),
        "agency": (agency_enquiry_about,),
        "both": (enquiry_about, agency_enquiry_about),
    }[corruption_model]
    enquiries: list[tuple[Enquiry, str | None]] = [
        (rng.choice(makers)(kept[k], rng, rng.choice((0, 1, 1, 2))), str(ids[k]))
        for k in sorted(kept)
    ]
    enquiries += [
        (absent_child_enquiry(population, rng), None) for _ in range(searches - len(enquiries))
    ]
    rng.shuffle(enquiries)
    return enquiries


def _in_process(
    url: str, enquiries: list[tuple[Enquiry, str | None]], versions: list[str]
) -> dict[str, Any]:
    """Each enquiry resolved in this process by each model version, on one connection:
    the outcome figures per model (recall per corruption side by side) and the time
    matching took (blocking, loading, term frequencies, scoring), without HTTP."""
    today = datetime.now(UTC).date()
    tallies = {version: Tally() for version in versions}
    largest = dict.fromkeys(versions, 0)
    db = open_database(url, pool_size=1, application_name="bench-in-process")
    with db.session() as session:
        for enquiry, truth in enquiries:
            person = searchable(enquiry, today)
            if person is None:
                continue
            try:
                require_sufficient_criteria(EnquiryCreate(**enquiry.as_json()).model_dump())
            except CriteriaInsufficient:
                continue  # the API refuses it before matching
            for version in versions:
                started = time.perf_counter()
                resolution = resolve(
                    session=session, person=person, scope=MatchScope(), model=load_model(version)
                )
                elapsed = time.perf_counter() - started
                shown = [{"child_id": str(c.child_id)} for c in resolution.candidates]
                largest[version] = max(largest[version], len(shown))
                answer = {"outcome": resolution.outcome.value, "candidates": shown}
                tallies[version].add(enquiry, truth, answer, elapsed)
            session.expunge_all()
            session.rollback()
    db.close()
    out: dict[str, Any] = {}
    for version, t in tallies.items():
        figures = report(t, t.latencies, 0, float("nan"))
        out[version] = {
            "match": figures["match"],
            "match_or_possible": figures["match_or_possible"],
            "wrong_child_disclosures": figures["wrong_child_disclosures"],
            "wrong_child_cases": figures["wrong_child_cases"][:3],
            "longest_possible_list": largest[version],
            "recall_by_corruption": figures["recall_by_corruption"],
            "matching_latency": figures["api_latency"],
        }
    return out


def _search(
    base: str, data_dir: Path, enquiries: list[tuple[Enquiry, str | None]], tally: Tally
) -> None:
    settings = Settings(
        environment="development", data_dir=data_dir, database_url="postgresql://unused"
    )
    token = mint_dev_token(
        settings, subject="bench", name="Bench", email="bench@bench.example",
        organisation="BENCH-ED", roles=["practitioner"],
    )  # fmt: skip
    headers = {
        "Authorization": f"Bearer {token}",
        "Purpose-Of-Use": "health_care",
        "Purpose-Text": "matching benchmark",
    }
    with httpx2.Client(base_url=base, headers=headers, timeout=30) as client:
        for enquiry, truth in enquiries:
            started = time.perf_counter()
            response = client.post("/v1/enquiries", json=enquiry.as_json())
            elapsed = time.perf_counter() - started
            if response.status_code in (400, 422):
                tally.refused += 1  # too little to search on, or a future date: refused
                continue
            response.raise_for_status()
            tally.add(enquiry, truth, response.json(), elapsed)


def _floor(base: str, data_dir: Path, *, count: int) -> list[float]:
    """What any enquiry costs before matching has anything to do: an NHS number no child
    has (token check, rate count, one indexed lookup, the enquiry and audit rows, commit)."""
    tally = Tally()
    unknown = [Enquiry(None, None, None, None, None, _unused_nhs_number(i)) for i in range(count)]
    _search(base, data_dir, [(e, None) for e in unknown], tally)
    return tally.latencies


def _unused_nhs_number(i: int) -> str:
    """A valid NHS number outside the 999 range the population draws from."""
    n = 900_000_000 + i
    while True:
        body = str(n)
        total = sum(int(d) * (10 - k) for k, d in enumerate(body))
        check = 11 - total % 11
        if check == 11:
            return body + "0"
        if check != 10:
            return body + str(check)
        n += 1


def _baseline(url: str, child_ids: list[str]) -> list[float]:
    """A bare indexed lookup by primary key over the same connection type."""
    timings = []
    with psycopg.connect(url) as conn:
        for child_id in child_ids:
            started = time.perf_counter()
            conn.execute("SELECT id FROM child WHERE id = %s", (child_id,)).fetchone()
            timings.append(time.perf_counter() - started)
    return timings


if __name__ == "__main__":
    typer.run(main)
