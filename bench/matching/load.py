"""Bulk load of a synthetic population with COPY (the API would take hours for millions):
child, child_name (with the matcher's blocking keys, computed by the same function the
service uses) and child_address rows, in batches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from alembic import command
from psycopg import sql

from bench.matching.population import Child
from index_service.database import ensure_database, start_embedded_postgres, with_database
from index_service.matching.keys import name_keys
from index_service.migrations_state import alembic_config

AUTHORITIES = ("E09000009", "E09000014", "E09000005", "E08000025", "E06000023")
BENCH_REFERENCE = "BENCH-"  # la_reference: the population key, so a loaded database can be reused


def fresh_database(database_url: str | None, name: str) -> str:
    """Database `name` made afresh (dropped if it was there) and migrated, with the two
    organisations the benchmarks act as; its URL. Without `database_url`, on the embedded
    PostgreSQL under .data/."""
    maintenance = database_url or start_embedded_postgres(Path(".data"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        dropped = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(dropped.format(sql.Identifier(name)))
    ensure_database(maintenance, name)
    url = with_database(maintenance, name)
    command.upgrade(alembic_config(url), "head")
    with psycopg.connect(url) as conn:
        for code, kind in (
            ("BENCH-CSC", "childrens_social_care"),
            ("BENCH-ED", "emergency_department"),
        ):
            # Ofcom's drama numbers: children's social care must give both (in and out of hours).
            conn.execute(
                "INSERT INTO organisation (id, code, name, type, local_authority, contact_phone,"
                " out_of_hours_phone, created_at)"
                " VALUES (%s, %s, %s, %s, 'E09000009', '020 7946 0990', '020 7946 0999', now())",
                (uuid.uuid4(), code, f"Benchmark {kind}", kind),
            )
    return url


def load(
    conn: psycopg.Connection, children: Iterable[Child], batch: int = 50_000
) -> dict[int, uuid.UUID]:
    """Insert every child; return child key -> id for the keys asked about later."""
    ids: dict[int, uuid.UUID] = {}
    buffer: list[Child] = []
    for child in children:
        buffer.append(child)
        if len(buffer) >= batch:
            ids.update(_copy(conn, buffer))
            buffer = []
    if buffer:
        ids.update(_copy(conn, buffer))
    return ids


def _copy(conn: psycopg.Connection, children: list[Child]) -> dict[int, uuid.UUID]:
    now = datetime.now(UTC)
    ids = {c.key: uuid.uuid4() for c in children}
    with conn.cursor() as cur:
        with cur.copy(
            "COPY child (id, status, date_of_birth, date_of_birth_precision, nhs_number,"
            " nhs_number_status, upn,"
            " la_reference, responsible_authority, carers_status, gp_status, education_status,"
            " shielded, version, provenance, created_by_organisation, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for c in children:
                copy.write_row(
                    (ids[c.key], "active", c.date_of_birth, "exact", c.nhs_number,
                     _nhs_number_status(c), c.upn,
                     f"{BENCH_REFERENCE}{c.key}", AUTHORITIES[c.key % len(AUTHORITIES)],
                     "unknown", "unknown", "unknown", False, 1, json.dumps({}), "BENCH-CSC",
                     now, now)
                )  # fmt: skip
        with cur.copy(
            "COPY child_name (id, child_id, kind, given_names, family_name, position,"
            " family_key, family_phonetic, given_key, given_phonetic, date_of_birth)"
            " FROM STDIN"
        ) as copy:
            for c in children:
                for position, name in enumerate(c.names):
                    keys = name_keys(name.given, name.family)
                    copy.write_row(
                        (uuid.uuid4(), ids[c.key], "legal" if position == 0 else "alias",
                         name.given, name.family, position, keys.family_key,
                         keys.family_phonetic, keys.given_key, keys.given_phonetic,
                         c.date_of_birth)
                    )  # fmt: skip
        with cur.copy(
            "COPY child_address (id, child_id, line1, town, postcode, local_authority, to_date)"
            " FROM STDIN"
        ) as copy:
            for c in children:
                for position, postcode in enumerate(c.postcodes):
                    ended = None if position == 0 else datetime(2020, 1, 1, tzinfo=UTC).date()
                    copy.write_row(
                        (uuid.uuid4(), ids[c.key], c.lines[position], c.towns[position],
                         postcode, AUTHORITIES[c.key % len(AUTHORITIES)], ended)
                    )  # fmt: skip
    conn.commit()
    return ids


def count_terms(conn: psycopg.Connection) -> None:
    """The term frequencies of what was loaded (COPY bypasses the children service that
    keeps them in step), as migration 0017 counts them."""
    conn.execute("TRUNCATE term_frequency")
    conn.execute(
        "INSERT INTO term_frequency (kind, token, count)"
        " SELECT 'given', given_key, count(*) FROM child_name WHERE given_key <> ''"
        " GROUP BY given_key"
        " UNION ALL SELECT 'family', family_key, count(*) FROM child_name"
        " WHERE family_key <> '' GROUP BY family_key"
        " UNION ALL SELECT 'postcode', postcode, count(*) FROM child_address GROUP BY postcode"
    )
    conn.commit()


def _nhs_number_status(child: Child) -> str:
    """Seven in ten numbers traced against PDS, the rest as received (by key: the same
    children whatever the run)."""
    return "verified_trace" if child.nhs_number and child.key % 10 < 7 else "unverified"


def loaded_ids(conn: psycopg.Connection) -> dict[int, uuid.UUID]:
    """Child key -> id of a population loaded earlier (for --reuse)."""
    rows = conn.execute(
        "SELECT la_reference, id FROM child WHERE la_reference LIKE %s", (BENCH_REFERENCE + "%",)
    )
    return {int(reference.removeprefix(BENCH_REFERENCE)): child_id for reference, child_id in rows}
