"""A child's entry as an enquiry needs it, read in one statement: the child, its names,
addresses, carers and expectant mother (`ChildRecord`), its current involvements and
active flags with their organisations, the organisations its entry names (its GP
practice's, its school's) and the children's social care of its responsible authority
and of every authority it lives in now (the answer's contact and front door), and the
other children at its current addresses who have an active child protection plan, with
their key workers (R2). Each part is a `jsonb` subquery of one row: one round trip where
there were nine, and `present` and the alert rules (R1, R2) draw on the same reading, so
nothing is read twice.

Only the reading changes: the parts come back as the same models the separate queries
gave (`children/service.load_record`, `involvements/queries.current_involvements`,
`flags/queries.active_flags`, `organisations/service.named_organisations`), in the same
order, and every decision about what the caller sees stays in `access/`.

Given a row to insert (an enquiry's), the statement writes it first, in the same round
trip (a data-modifying `WITH`): the enquiry that found the child costs no statement of
its own."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import RowMapping, Table, TextClause, bindparam, text
from sqlmodel import Session

from index_service.children.models import Carer, Child, ChildAddress, ChildMother, ChildName
from index_service.common import utcnow
from index_service.errors import NotFound
from index_service.flags.models import Flag
from index_service.involvements.models import Involvement
from index_service.organisations.models import Organisation, OrganisationType


@dataclass(frozen=True)
class Nearby:
    """A current address of another child at one of this child's current postcodes, that
    child on an active child protection plan: its responsible authority and key workers.
    Whether it is *the same* address is `alerts/flows.neighbours_on_plan`'s to say."""

    address: ChildAddress
    responsible_authority: str
    key_workers: list[tuple[Involvement, Organisation]]


@dataclass
class Entry:
    """What one statement read of a child (see the module's docstring)."""

    child: Child
    names: list[ChildName]
    addresses: list[ChildAddress]
    carers: list[Carer]
    mother: ChildMother | None
    involvements: list[tuple[Involvement, Organisation]]
    flags: list[tuple[Flag, Organisation]]
    # By code: the organisations the entry names, and the responsible authority's
    # children's social care (as `named_organisations` gives them).
    named: dict[str, Organisation]
    # Active children's social care of the responsible and current authorities, by code.
    offices: list[Organisation]
    nearby: list[Nearby] = field(default_factory=list)

    def authority_office(self, local_authority: str) -> Organisation | None:
        """`organisations.service.authority_contact` of an authority this entry names."""
        return next((o for o in self.offices if o.local_authority == local_authority), None)


# Ordered as the queries it replaces: names by position; addresses current first, then
# the most recently ended; involvements and flags oldest first; organisations by code.
# 'childrens_social_care' is `OrganisationType.CHILDRENS_SOCIAL_CARE` (asserted below).
_SELECT = """
SELECT
    to_jsonb(c) AS child,
    (SELECT coalesce(jsonb_agg(to_jsonb(n) ORDER BY n.position), '[]')
       FROM child_name n WHERE n.child_id = c.id) AS names,
    (SELECT coalesce(jsonb_agg(to_jsonb(a)
                               ORDER BY a.to_date DESC NULLS FIRST, a.from_date DESC), '[]')
       FROM child_address a WHERE a.child_id = c.id) AS addresses,
    (SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.position), '[]')
       FROM carer p WHERE p.child_id = c.id) AS carers,
    (SELECT to_jsonb(m) FROM child_mother m WHERE m.child_id = c.id) AS mother,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(to_jsonb(i), to_jsonb(o))
                               ORDER BY i.start_date, i.id), '[]')
       FROM involvement i JOIN organisation o ON o.id = i.organisation_id
      WHERE i.child_id = c.id AND (i.end_date IS NULL OR i.end_date > :today)) AS involvements,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(to_jsonb(f), to_jsonb(o))
                               ORDER BY f.raised_at, f.id), '[]')
       FROM flag f JOIN organisation o ON o.id = f.organisation_id
      WHERE f.child_id = c.id AND f.ended_at IS NULL) AS flags,
    (SELECT coalesce(jsonb_agg(to_jsonb(o) ORDER BY o.code), '[]')
       FROM organisation o
      WHERE o.code IN (upper(c.gp_ods_code), upper(c.school_urn))
         OR (o.local_authority = c.responsible_authority
             AND o.type = 'childrens_social_care' AND o.deactivated_at IS NULL)) AS named,
    (SELECT coalesce(jsonb_agg(to_jsonb(o) ORDER BY o.code), '[]')
       FROM organisation o
      WHERE o.type = 'childrens_social_care' AND o.deactivated_at IS NULL
        AND (o.local_authority = c.responsible_authority
             OR o.local_authority IN (SELECT a.local_authority FROM child_address a
                                       WHERE a.child_id = c.id AND a.to_date IS NULL)))
        AS offices,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(
                to_jsonb(n), other.responsible_authority,
                (SELECT coalesce(jsonb_agg(jsonb_build_array(to_jsonb(i), to_jsonb(o))
                                           ORDER BY i.start_date, i.id), '[]')
                   FROM involvement i JOIN organisation o ON o.id = i.organisation_id
                  WHERE i.child_id = n.child_id AND i.is_key_worker
                    AND (i.end_date IS NULL OR i.end_date > :today))
            ) ORDER BY n.child_id, n.id), '[]')
       FROM child_address n JOIN child other ON other.id = n.child_id
      WHERE n.postcode IN (SELECT a.postcode FROM child_address a
                            WHERE a.child_id = c.id AND a.to_date IS NULL)
        AND n.to_date IS NULL AND n.child_id <> c.id
        AND EXISTS (SELECT 1 FROM flag p WHERE p.child_id = n.child_id
                     AND p.kind = 'child_protection_plan' AND p.ended_at IS NULL)) AS nearby
FROM child c
WHERE c.id = :child_id
"""


assert OrganisationType.CHILDRENS_SOCIAL_CARE.value in _SELECT


@functools.cache
def _statement(table: Table | None) -> TextClause:
    """The statement, with `table`'s row written first if given (its columns as bound
    parameters of their own types, prefixed `row_`)."""
    binds = [bindparam("child_id", type_=Child.__table__.c.id.type)]  # type: ignore[attr-defined]
    if table is None:
        return text(_SELECT).bindparams(*binds)
    columns = list(table.columns)
    names = ", ".join(c.name for c in columns)
    values = ", ".join(f":row_{c.name}" for c in columns)
    # The table's own names, from its model: nothing here comes from a request.
    head = f"WITH written AS (INSERT INTO {table.name} ({names}) VALUES ({values}))"  # noqa: S608
    binds += [bindparam(f"row_{c.name}", type_=c.type) for c in columns]
    return text(head + _SELECT).bindparams(*binds)


def load_entry(
    *,
    session: Session,
    child_id: uuid.UUID,
    child: Child | None = None,
    today: date | None = None,
    write: tuple[Table, Mapping[str, Any]] | None = None,
) -> Entry:
    """The child's entry as stored now (404 if there is no such child). `child`: its row,
    when this unit of work has read it already (an enquiry's matched candidate); `write`:
    a row to insert in the same statement (its table, and a value for each column)."""
    parameters: dict[str, Any] = {"child_id": child_id, "today": today or utcnow().date()}
    table = None
    if write is not None:
        table, row = write
        parameters.update({f"row_{c.name}": row[c.name] for c in table.columns})
    found = session.execute(_statement(table), parameters).first()
    if found is None:
        raise NotFound("no such child")
    return _entry(found._mapping, child)


def _pairs(rows: list[list[dict[str, Any]]], model: type[Involvement] | type[Flag]) -> list[Any]:
    return [(model.model_validate(a), Organisation.model_validate(b)) for a, b in rows]


def _entry(row: RowMapping, child: Child | None) -> Entry:
    return Entry(
        child=child if child is not None else Child.model_validate(row["child"]),
        names=[ChildName.model_validate(n) for n in row["names"]],
        addresses=[ChildAddress.model_validate(a) for a in row["addresses"]],
        carers=[Carer.model_validate(p) for p in row["carers"]],
        mother=ChildMother.model_validate(row["mother"]) if row["mother"] else None,
        involvements=_pairs(row["involvements"], Involvement),
        flags=_pairs(row["flags"], Flag),
        named={o.code: o for o in map(Organisation.model_validate, row["named"])},
        offices=[Organisation.model_validate(o) for o in row["offices"]],
        nearby=[
            Nearby(
                address=ChildAddress.model_validate(address),
                responsible_authority=authority,
                key_workers=_pairs(workers, Involvement),
            )
            for address, authority, workers in row["nearby"]
        ],
    )
