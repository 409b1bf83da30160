"""Writing a batch of feed rows to the index: new children and updates to matched ones,
each as a handful of multi-row statements rather than a unit of work per child.

Provenance is kept per field group (`child.provenance`, as `POST /v1/children` keeps
it): which organisation supplied the group, when, and from which feed. An update
replaces the groups a row supplied and confirms the others it repeats; the legal name
and the date of birth of an existing entry are identity, not a feed's to change: a name
the entry does not hold yet is added as one it is also known by, and a new current
address closes the old one (address history, DOMAIN.md)."""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, column, delete, select, table, text, update
from sqlmodel import Session, col

from index_service.children.models import (
    RECORD_COLUMNS,
    Carer,
    Child,
    ChildAddress,
    ChildName,
    ChildStatus,
    NameKind,
    NhsNumberStatus,
)
from index_service.children.schemas import ChildCreate
from index_service.common import new_id
from index_service.feeds.moves import Move
from index_service.matching.frequencies import name_tokens, postcode_tokens
from index_service.matching.keys import name_keys

_CHILD = Child.__table__  # type: ignore[attr-defined]
_NAME = ChildName.__table__  # type: ignore[attr-defined]
_ADDRESS = ChildAddress.__table__  # type: ignore[attr-defined]
_CARER = Carer.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Supplied:
    """A record as a feed row gave it: the record, its field groups, who sent it, when."""

    record: ChildCreate
    groups: frozenset[str]
    organisation: str
    feed_id: uuid.UUID
    at: datetime
    # How far the sending system vouches for the NHS number (`feeds.records
    # .nhs_number_status_of`); None: the row sent no number.
    nhs_number_status: NhsNumberStatus | None = None

    def provenance(self) -> dict[str, Any]:
        stamp = _stamp(self.organisation, self.feed_id, self.at)
        return dict.fromkeys(sorted(self.groups | {"names"}), stamp)


@functools.lru_cache(maxsize=16)
def _stamp(organisation: str, feed_id: uuid.UUID, at: datetime) -> dict[str, str]:
    """One batch's provenance stamp, made once (rows of a batch share it; it is only
    ever serialised, never changed)."""
    return {"organisation": organisation, "confirmed_at": at.isoformat(), "feed_id": str(feed_id)}


def create_children(session: Session, rows: list[Supplied]) -> list[uuid.UUID]:
    """A child per row, with its names, addresses and carers; their ids, in order."""
    if not rows:
        return []
    children, names, addresses, carers = [], [], [], []
    ids = []
    for row in rows:
        data = row.record
        child_id = new_id()
        ids.append(child_id)
        children.append(
            {
                "id": child_id,
                "status": ChildStatus.ACTIVE.value,
                "date_of_birth": data.date_of_birth,
                "date_of_birth_precision": data.date_of_birth_precision.value,
                "nhs_number": data.nhs_number,
                "nhs_number_status": (row.nhs_number_status or NhsNumberStatus.UNVERIFIED).value,
                "upn": data.upn,
                "la_reference": data.la_reference,
                "responsible_authority": data.responsible_authority,
                "carers_status": data.carers.status.value,
                "gp_status": data.gp_practice.status.value,
                "gp_ods_code": data.gp_practice.ods_code,
                "gp_phone": data.gp_practice.phone,
                "education_status": data.education.status.value,
                "school_urn": data.education.urn,
                "school_phone": data.education.phone,
                "shielded": False,
                "version": 1,
                "provenance": row.provenance(),
                "created_by_organisation": row.organisation,
                "created_at": row.at,
                "updated_at": row.at,
            }
        )
        names += _names(child_id, data, 0, data.date_of_birth)
        addresses += [_address(child_id, a.model_dump()) for a in data.addresses]
        carers += _carers(child_id, data)
    insert_rows(session, _CHILD, children)
    insert_rows(session, _NAME, names)
    insert_rows(session, _ADDRESS, addresses)
    insert_rows(session, _CARER, carers)
    _count_terms(session, names, addresses)
    return ids


def _count_terms(
    session: Session, names: list[dict[str, Any]], addresses: list[dict[str, Any]]
) -> None:
    """Keep model v4's term frequencies in step with the rows written (names and
    addresses are only ever added by a feed: a moved child's old address stays, closed).
    The tokens are `matching/frequencies.py`'s; they are added as `record_change` adds
    them (per token, in a fixed order), but in one statement for the batch: a statement
    per token was a tenth of a feed's time."""
    added = name_tokens((n["given_names"], n["family_name"]) for n in names)
    added.update(postcode_tokens(a["postcode"] for a in addresses))
    delta: Counter[tuple[str, str]] = Counter()
    for (kind, token), count in added.items():
        delta[kind, token[:100]] += count  # the column's width, as record_change cuts it
    rows = sorted((kind, token, count) for (kind, token), count in delta.items() if count)
    if rows:
        kinds, tokens, counts = (list(column) for column in zip(*rows, strict=True))
        session.execute(_ADD_TERMS, {"kinds": kinds, "tokens": tokens, "counts": counts})


_ADD_TERMS = text(
    """
    INSERT INTO term_frequency AS f (kind, token, count)
    SELECT kind, token, count
    FROM unnest(CAST(:kinds AS text[]), CAST(:tokens AS text[]), CAST(:counts AS bigint[]))
        AS added(kind, token, count)
    ORDER BY kind, token
    ON CONFLICT (kind, token) DO UPDATE SET count = f.count + excluded.count
    """
)


def update_children(session: Session, updates: list[tuple[uuid.UUID, Supplied]]) -> list[Move]:
    """Apply each row to its matched child (at most one row per child in a call). The
    children whose current address the rows moved to another authority are returned, for
    R5 (`feeds/moves.py`)."""
    if not updates:
        return []
    ids = [child_id for child_id, _ in updates]
    stored = {
        c.id: c
        for c in session.execute(
            select(Child)
            .where(col(Child.id).in_(ids))
            .with_for_update(of=Child)
            .execution_options(populate_existing=True)
        ).scalars()
    }
    held_names: dict[uuid.UUID, list[tuple[str, str]]] = {i: [] for i in ids}
    for child_id, given, family in session.execute(
        select(col(ChildName.child_id), col(ChildName.given_names), col(ChildName.family_name))
        .where(col(ChildName.child_id).in_(ids))
        .order_by(col(ChildName.position))
    ):
        held_names[child_id].append((given.casefold(), family.casefold()))
    current: dict[uuid.UUID, tuple[str, str]] = {}
    authority: dict[uuid.UUID, str] = {}
    for child_id, line1, postcode, local_authority in session.execute(
        select(
            col(ChildAddress.child_id),
            col(ChildAddress.line1),
            col(ChildAddress.postcode),
            col(ChildAddress.local_authority),
        )
        .where(col(ChildAddress.child_id).in_(ids))
        .where(col(ChildAddress.to_date).is_(None))
    ):
        current[child_id] = (line1.casefold(), postcode)
        authority[child_id] = local_authority
    rows, names, addresses, carers, closed, carers_of = [], [], [], [], [], []
    moves: list[Move] = []
    for child_id, row in updates:
        child = stored[child_id]
        data, groups = row.record, row.groups
        rows.append(_updated_columns(child, row))
        held = held_names[child_id]
        new = [
            n
            for n in data.names
            if (n.given_names.casefold(), n.family_name.casefold()) not in held
        ]
        for position, name in enumerate(new, start=len(held)):
            kind = NameKind.ALIAS.value if name.kind == NameKind.LEGAL else name.kind.value
            names.append(
                _name_row(
                    child_id,
                    kind,
                    name.given_names,
                    name.family_name,
                    position,
                    child.date_of_birth,
                )
            )
        if "addresses" in groups:
            now = next((a for a in data.addresses if a.to_date is None), None)
            if now is not None and current.get(child_id) != (now.line1.casefold(), now.postcode):
                if child_id in current:
                    closed.append({"b_child": child_id, "b_to": now.from_date or row.at.date()})
                    if authority[child_id] != now.local_authority:
                        shielded = child.responsible_authority if child.shielded else None
                        moves.append(
                            Move(child_id, authority[child_id], now.local_authority, shielded)
                        )
                addresses.append(_address(child_id, now.model_dump()))
        if "carers" in groups:
            carers_of.append(child_id)
            carers += _carers(child_id, data)
    _update_rows(session, rows)
    if closed:
        session.execute(_CLOSE_ADDRESS, closed)
    if carers_of:
        session.execute(delete(_CARER).where(_CARER.c.child_id.in_(carers_of)))
    insert_rows(session, _NAME, names)
    insert_rows(session, _ADDRESS, addresses)
    insert_rows(session, _CARER, carers)
    _count_terms(session, names, addresses)
    return moves


# The child row's columns an update writes: the record's (`children.models
# .RECORD_COLUMNS`, which a merge's diff compares too) and the stamp of the change.
_UPDATED = (*RECORD_COLUMNS, "provenance", "version", "updated_at")


# An update of a batch's children: their new columns copied into a temporary table
# (`COPY`), then one `UPDATE ... FROM` it, not a statement per child. The columns are
# the constant `_UPDATED`, never input.
_STAGE_UPDATES = text(
    f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS feed_child_update
    ON COMMIT DELETE ROWS
    AS SELECT id, {", ".join(_UPDATED)} FROM child WITH NO DATA
    """  # noqa: S608
)
_STAGED = table("feed_child_update", column("id"), *(column(name) for name in _UPDATED))
_APPLY_UPDATES = (
    update(_CHILD)
    .where(_CHILD.c.id == _STAGED.c.id)
    .values({name: _STAGED.c[name] for name in _UPDATED})
)


def _update_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    session.execute(_STAGE_UPDATES)
    session.execute(text("TRUNCATE feed_child_update"))
    insert_rows(session, _STAGED, rows)
    session.execute(_APPLY_UPDATES)


_CLOSE_ADDRESS = (
    update(_ADDRESS)
    .where(_ADDRESS.c.child_id == bindparam("b_child"), _ADDRESS.c.to_date.is_(None))
    .values(to_date=bindparam("b_to"))
)


# Whose word on an NHS number counts for more, weakest first.
_TRUST = [NhsNumberStatus.UNVERIFIED, NhsNumberStatus.TRUSTED_FEED, NhsNumberStatus.VERIFIED_TRACE]


def _updated_columns(child: Child, row: Supplied) -> dict[str, Any]:
    data, groups = row.record, row.groups
    values: dict[str, Any] = {name: getattr(child, name) for name in _UPDATED}
    for name in ("nhs_number", "upn", "la_reference"):
        if name in groups:
            values[name] = getattr(data, name)
    if "nhs_number" in groups:
        sent = row.nhs_number_status or NhsNumberStatus.UNVERIFIED
        if data.nhs_number == child.nhs_number:
            # The same number keeps the strongest word on it: a trace the index's data
            # manager recorded is not replaced by a feed's, nor any by "not traced".
            held = NhsNumberStatus(child.nhs_number_status or NhsNumberStatus.UNVERIFIED)
            sent = max(sent, held, key=_TRUST.index)
        values["nhs_number_status"] = sent.value  # a new number: as the sender says
    if "carers" in groups:
        values["carers_status"] = data.carers.status.value
    if "gp_practice" in groups:
        gp = data.gp_practice
        values["gp_status"], values["gp_ods_code"], values["gp_phone"] = (
            gp.status.value,
            gp.ods_code,
            gp.phone,
        )
    if "education" in groups:
        ed = data.education
        values["education_status"], values["school_urn"], values["school_phone"] = (
            ed.status.value,
            ed.urn,
            ed.phone,
        )
    values["provenance"] = {**child.provenance, **row.provenance()}
    values["version"] = child.version + 1
    values["updated_at"] = row.at
    return {"id": child.id, **values}


def _names(child_id: uuid.UUID, data: ChildCreate, start: int, born: date) -> list[dict[str, Any]]:
    return [
        _name_row(child_id, n.kind.value, n.given_names, n.family_name, start + i, born)
        for i, n in enumerate(data.names)
    ]


def _name_row(
    child_id: uuid.UUID, kind: str, given: str, family: str, position: int, born: date
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "child_id": child_id,
        "kind": kind,
        "given_names": given,
        "family_name": family,
        "position": position,
        "date_of_birth": born,
        **vars(name_keys(given, family)),
    }


def _address(child_id: uuid.UUID, address: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "child_id": child_id, **address}


def _carers(child_id: uuid.UUID, data: ChildCreate) -> list[dict[str, Any]]:
    return [
        {"id": new_id(), "child_id": child_id, "position": i, **carer.model_dump()}
        for i, carer in enumerate(data.carers.people)
    ]


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows at once by COPY, in the session's transaction (several times faster
    than a multi-row INSERT for a batch of thousands)."""
    if not rows:
        return
    columns = list(rows[0])
    raw: Any = session.connection().connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_copyable(row[c]) for c in columns])


def _copyable(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value
