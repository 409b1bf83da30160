"""Why the matcher missed: regenerate a run's enquiries (the same seed and figures as
`bench.matching.run`), resolve each in process with a model version on a population an
earlier run loaded, and print every enquiry about a held child that did not end as a
`match` on it, with the true child's explanation (level and weight per field), whether
blocking retrieved it at all, and the best other candidate's total.

    .venv/bin/python -m bench.matching.misses --children 100000 --searches 3000 \\
        --corruption-model both --model 2026-12-v4 --database-url postgresql://...

The population is synthetic, so its names may be printed. One line of JSON per miss,
then counts of misses by kind (`not_retrieved`, `below_possible`, `possible`: shown but
not a match, and why: below the match threshold, within the margin, a name different).
"""

from __future__ import annotations

import collections
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from bench.matching.reuse import loaded_population, searchable
from bench.matching.run import Tally, enquiries_of, plan, report
from index_service.access.need_to_know import CriteriaInsufficient, require_sufficient_criteria
from index_service.database import open_database
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.blocking import find_candidates
from index_service.matching.frequencies import frequencies_of
from index_service.matching.model import load_model, score
from index_service.matching.records import MatchScope
from index_service.matching.resolver import Outcome, load_people, resolve


def main(
    children: Annotated[int, typer.Option()] = 100_000,
    searches: Annotated[int, typer.Option()] = 3000,
    seed: Annotated[int, typer.Option()] = 42,
    absent_share: Annotated[float, typer.Option()] = 0.1,
    corruption_model: Annotated[str, typer.Option()] = "both",
    model: Annotated[str, typer.Option(help="The model version to resolve with.")] = "",
    database_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    spec = load_model(model) if model else load_model()
    rng, asked, population = plan(children, searches, seed, absent_share)
    url, ids = loaded_population(database_url, children)
    kept = {c.key: c for c in population.children(children) if c.key in asked}
    enquiries = enquiries_of(rng, population, kept, ids, searches, corruption_model)
    today = datetime.now(UTC).date()
    kinds: collections.Counter[str] = collections.Counter()
    wrong, tally, longest = 0, Tally(), 0
    db = open_database(url, pool_size=1, application_name="bench-misses")
    with db.session() as session:
        for enquiry, truth in enquiries:
            person = searchable(enquiry, today)
            if person is None:
                continue
            try:
                require_sufficient_criteria(EnquiryCreate(**enquiry.as_json()).model_dump())
            except CriteriaInsufficient:
                continue
            scope = MatchScope()
            started = time.perf_counter()
            resolution = resolve(session=session, person=person, scope=scope, model=spec)
            elapsed = time.perf_counter() - started
            shown = [str(c.child_id) for c in resolution.candidates]
            longest = max(longest, len(shown))
            answer = {"outcome": resolution.outcome.value, "candidates": [
                {"child_id": child_id} for child_id in shown]}  # fmt: skip
            tally.add(enquiry, truth, answer, elapsed)
            if resolution.outcome is Outcome.MATCH and shown != [truth]:
                wrong += 1
                typer.echo(json.dumps({"wrong_child": repr(enquiry), "shown": shown}))
            if truth is None or (resolution.outcome is Outcome.MATCH and shown == [truth]):
                session.expunge_all()
                session.rollback()
                continue
            kinds[_kind(resolution.outcome, truth in shown)] += 1
            typer.echo(json.dumps(_miss(session, spec, person, enquiry, truth, resolution, scope)))
            session.expunge_all()
            session.rollback()
    db.close()
    figures = report(tally, [1.0, 1.0], 0, float("nan"))
    summary = {k: figures[k] for k in ("match", "match_or_possible", "recall_by_corruption")}
    summary["matching_latency"] = figures["api_latency"]  # in process: resolve() alone
    typer.echo(json.dumps({"model": spec.version, "misses": dict(kinds), "wrong_child": wrong,
                           "longest_possible_list": longest, **summary}))  # fmt: skip


def _kind(outcome: Outcome, shown: bool) -> str:
    if shown:
        return "possible"
    return "not_shown"


def _miss(
    session: Any, spec: Any, person: Any, enquiry: Any, truth: str, resolution: Any, scope: Any
) -> dict[str, Any]:
    truth_id = uuid.UUID(truth)
    retrieved = truth_id in find_candidates(session=session, person=person, scope=scope)
    stored = load_people(session=session, child_ids=[truth_id], scope=scope)[truth_id]
    explanation = score(spec, person, stored.person, frequencies_of(session, person))
    others = [c for c in resolution.candidates if c.child_id != truth_id]
    return {
        "corruptions": enquiry.corruptions,
        "enquiry": enquiry.as_json(),
        "held": {
            "names": [f"{n.given} {n.family}" for n in stored.person.names],
            "date_of_birth": str(stored.person.date_of_birth),
        },
        "outcome": resolution.outcome.value,
        "retrieved": retrieved,
        "total": round(explanation.total, 2),
        "levels": {
            f: f"{level} {explanation.weights[f]:+.1f}"
            for f, level in explanation.levels.items()
            if level != "missing"
        },
        "may_match": explanation.may_match(),
        "best_other": round(others[0].explanation.total, 2) if others else None,
    }


if __name__ == "__main__":
    typer.run(main)
