"""The load bench's database and what it asks: a population loaded by the matching
bench's loader (kept between runs: a database of its own per size, marked with its size
and seed once loaded, is reused as it is), the organisations its users work in, key workers for
the children whose enquiries must raise alerts, and the enquiry mix, made by the matching
bench's generator from children read back from the database."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import ValidationError

from bench.matching.load import BENCH_REFERENCE, count_terms, fresh_database, load
from bench.matching.population import (
    Child,
    Enquiry,
    Population,
    absent_child_enquiry,
    enquiry_about,
)
from bench.matching.reuse import child_of, existing_database, searchable
from index_service.access.need_to_know import CriteriaInsufficient, require_sufficient_criteria
from index_service.database import open_database, start_embedded_postgres
from index_service.enquiries.models import EnquiryCreate
from index_service.matching.records import MatchScope
from index_service.matching.resolver import load_people
from index_service.settings import DEV_ISSUER


def database_name(children: int) -> str:
    """One database per population size, so a quick run leaves the million in place."""
    return f"index_bench_load_{children}"


KEY_WORKERS_ORG = "BENCH-CSC"  # children's social care: its key workers are alerted (R1)
OPERATOR_ORG = "BENCH-OPS"  # the index operator: its administrator registers the webhook
# The agencies whose practitioners enquire, with the purpose each states.
ENQUIRER_ORGS = (
    ("BENCH-ED", "emergency_department", "health_care"),
    ("BENCH-GP", "gp_practice", "health_care"),
    ("BENCH-HV", "health_visiting", "health_care"),
    ("BENCH-SCH", "school", "education_welfare"),
    ("BENCH-POL", "police", "police_investigation"),
)
KEY_WORKER_SERVICE = "Child in need (load bench key worker)"


def _marker(children: int, seed: int) -> str:
    return f"bench.load population: children={children} seed={seed}"


def population_database(
    database_url: str | None, *, children: int, seed: int, reload: bool
) -> tuple[str, float | None]:
    """The URL of a database holding `children` children of `seed`, and the seconds the
    load took (None: an earlier run's population was reused)."""
    maintenance = database_url or start_embedded_postgres(Path(".data"))
    name, marker = database_name(children), _marker(children, seed)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if not reload and row is not None and row[0] == marker:
        return existing_database(database_url, name), None
    started = datetime.now(UTC)
    url = fresh_database(database_url, name)
    with psycopg.connect(url) as conn:
        load(conn, Population(seed).children(children))
        count_terms(conn)  # as the matching bench does: v4 weighs names by them
        conn.execute("ANALYZE")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        # Written last: only a population loaded to the end is ever reused.
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(marker)
            )
        )
    return url, (datetime.now(UTC) - started).total_seconds()


def add_organisations(url: str) -> None:
    """The enquirers' agencies and the operator (children's social care is the loader's)."""
    rows = [(code, kind) for code, kind, _ in ENQUIRER_ORGS] + [(OPERATOR_ORG, "index_operator")]
    with psycopg.connect(url) as conn:
        for code, kind in rows:
            conn.execute(
                "INSERT INTO organisation (id, code, name, type, local_authority, contact_phone,"
                " created_at) VALUES (%s, %s, %s, %s, 'E09000009', '020 7946 0991', now())"
                " ON CONFLICT (code) DO NOTHING",
                (uuid.uuid4(), code, f"Benchmark {kind}", kind),
            )


def add_key_workers(url: str, child_ids: list[uuid.UUID]) -> None:
    """A key worker of children's social care for each child (rule R1 tells them of another
    agency's enquiry). They sign in and have no email: their alerts go to the webhook of
    their organisation only. Children that already have one (a reused database) keep it."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO involvement (id, child_id, organisation_id, service, practitioner_name,"
            " practitioner_phone, practitioner_issuer, practitioner_subject, is_key_worker,"
            " is_lead_professional, is_allocated_worker, sensitive, start_date, created_at)"
            " SELECT %s, %s, o.id, %s, 'Bench Key Worker', '020 7946 0992', %s, %s,"
            " true, false, false, false, current_date - 30, now()"
            " FROM organisation o WHERE o.code = %s AND NOT EXISTS"
            " (SELECT 1 FROM involvement i WHERE i.child_id = %s AND i.is_key_worker)",
            [
                (uuid.uuid4(), child_id, KEY_WORKER_SERVICE, DEV_ISSUER, f"bench-kw-{n % 50}",
                 KEY_WORKERS_ORG, child_id)
                for n, child_id in enumerate(child_ids)
            ],
        )  # fmt: skip


def read_children(url: str, keys: list[int]) -> dict[int, tuple[uuid.UUID, Child]]:
    """The children of `keys` as stored (id, and as the generator's `Child`), read back
    from the database instead of generating the whole population again."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT la_reference, id FROM child WHERE la_reference = ANY(%s)",
            ([f"{BENCH_REFERENCE}{k}" for k in keys],),
        ).fetchall()
    ids = {int(reference.removeprefix(BENCH_REFERENCE)): child_id for reference, child_id in rows}
    db = open_database(url, pool_size=1, application_name="bench-load-setup")
    found: dict[int, tuple[uuid.UUID, Child]] = {}
    try:
        ordered = sorted(ids)
        for start in range(0, len(ordered), 2000):
            chunk = ordered[start : start + 2000]
            with db.session() as session:
                people = load_people(
                    session=session, child_ids=[ids[k] for k in chunk], scope=MatchScope()
                )
            for key in chunk:
                found[key] = (ids[key], child_of(key, people[ids[key]].person))
    finally:
        db.close()
    return found


def acceptable(enquiry: Enquiry) -> bool:
    """Whether the service would take the enquiry (201): enough to search on, no future
    date. The mix holds only these, so every other answer is an error of the service."""
    body = enquiry.as_json()
    if searchable(enquiry, datetime.now(UTC).date()) is None:
        return False
    try:
        require_sufficient_criteria(EnquiryCreate(**body).model_dump())
    except (CriteriaInsufficient, ValidationError):
        return False
    return True


@dataclass
class Mix:
    enquiries: list[Enquiry]  # the load: known children (some alerting) and unknown ones
    alert_enquiries: list[Enquiry]  # certain matches on children with a key worker
    alerting_children: list[uuid.UUID]  # every child given a key worker
    known: int = 0
    unknown: int = 0
    alerting_in_mix: int = 0


def enquiry_mix(
    url: str,
    *,
    children: int,
    seed: int,
    size: int,
    absent_share: float,
    alerting_share: float,
    alerts: int,
) -> Mix:
    """`size` enquiries (a share about children the index does not hold, the rest about
    children it does, with the generator's corruptions: 0, 1, 1 or 2 of them), and
    `alerts` exact enquiries (NHS number, names, date of birth) about children kept apart
    for timing alerts. `alerting_share` of the mix's children and all the alert children
    get a key worker."""
    rng = random.Random(seed)
    known_count = round(size * (1 - absent_share))
    reserve = 2 * alerts + 10  # about 70% have an NHS number
    keys = rng.sample(range(children), k=min(children, known_count + reserve))
    stored = read_children(url, keys)
    alert_keys = [k for k in keys[known_count:] if stored[k][1].nhs_number][:alerts]
    mix_keys = keys[:known_count]
    alerting = set(rng.sample(mix_keys, k=math.ceil(len(mix_keys) * alerting_share)))

    enquiries = []
    for key in mix_keys:
        enquiry = enquiry_about(stored[key][1], rng, rng.choice((0, 1, 1, 2)))
        if acceptable(enquiry):
            enquiries.append(enquiry)
    known = len(enquiries)
    strangers = Population(seed + 1)
    while len(enquiries) < known / (1 - absent_share):
        enquiry = absent_child_enquiry(strangers, rng)
        if acceptable(enquiry):
            enquiries.append(enquiry)
    rng.shuffle(enquiries)
    alert_enquiries = [
        replace(enquiry_about(stored[k][1], rng, 0), nhs_number=stored[k][1].nhs_number)
        for k in alert_keys
    ]
    return Mix(
        enquiries=enquiries,
        alert_enquiries=alert_enquiries,
        alerting_children=[stored[k][0] for k in sorted(alerting) + alert_keys],
        known=known,
        unknown=len(enquiries) - known,
        alerting_in_mix=sum(1 for e in enquiries if e.child_key in alerting),
    )
