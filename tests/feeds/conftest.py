"""Feed test helpers: an agency system's headers, CSV rows from payload-like dicts, and the
index's state as plain rows (to prove that a re-sent feed changes nothing)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import text

from index_service.feeds.records import CSV_COLUMNS
from tests.factories import EALING, VALID_NHS_NUMBER, Factory

STANDARD_ROW = {
    "source_record_id": "SRC-1",
    "given_names": "Aisha",
    "family_name": "Testchild",
    "date_of_birth": "2016-02-11",
    "nhs_number": VALID_NHS_NUMBER,
    "address_line1": "1 Synthetic Row",
    "town": "London",
    "postcode": "W5 2AA",
    "responsible_authority": EALING,
}


def csv_of(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def agency_headers(factory: Factory, *, type: str = "gp_practice") -> tuple[dict[str, str], str]:
    """A service account of an agency in Ealing, and its organisation's code."""
    agency = factory.organisation(type=type, local_authority=EALING)
    return factory.headers_for(agency, roles=["service_account"]), agency.code


STATE = {
    "child": "SELECT id, version, nhs_number, gp_ods_code, school_urn, carers_status, "
    "provenance FROM child ORDER BY id",
    "child_name": "SELECT child_id, kind, given_names, family_name FROM child_name "
    "ORDER BY child_id, position",
    "child_address": "SELECT child_id, line1, postcode, to_date FROM child_address "
    "ORDER BY child_id, line1",
    "carer": "SELECT child_id, name FROM carer ORDER BY child_id, position",
    "feed_review": "SELECT id, status FROM feed_review ORDER BY id",
    "feed_row_key": "SELECT source_record_id, content_hash, outcome FROM feed_row_key "
    "ORDER BY 1, 2",
}


def index_state(factory: Factory) -> dict[str, Any]:
    with factory.db.session() as session:
        return {name: session.execute(text(q)).all() for name, q in STATE.items()}
