"""The duplicate guard: one record per child (Laming R78). A new record that the match
model scores at or above its `duplicate` threshold against an existing child is not
created; the caller is shown the candidates, and creates the record only by confirming,
per candidate, that it is a different child (`confirmed_distinct_from`, kept in the
audit trail)."""

from __future__ import annotations

from sqlmodel import Session

from index_service.children.models import NhsNumberStatus
from index_service.children.schemas import ChildCreate
from index_service.matching.addresses import place_of, postcode_key
from index_service.matching.model import MatchModel, load_model
from index_service.matching.records import MatchScope, Person, PersonName
from index_service.matching.resolver import Scored, rank


def person_of_record(data: ChildCreate) -> Person:
    """A new record as the matcher sees it: every name, legal first; every address's
    postcode, the current one first (addresses are compared by postcode in the model, in
    the address normaliser's form, `matching.addresses.postcode_key`)."""
    names = sorted(data.names, key=lambda n: n.kind.value != "legal")
    addresses = sorted(data.addresses, key=lambda a: a.to_date is not None)
    return Person(
        names=tuple(PersonName(n.given_names, n.family_name) for n in names),
        date_of_birth=data.date_of_birth,
        date_of_birth_precision=data.date_of_birth_precision.value,
        postcodes=tuple(dict.fromkeys(postcode_key(a.postcode) for a in addresses)),
        places=tuple(
            place_of(line1=a.line1, line2=a.line2, town=a.town, postcode=a.postcode)
            for a in addresses
        ),
        nhs_number=data.nhs_number,
        nhs_number_verified=data.nhs_number_status != NhsNumberStatus.UNVERIFIED,
        upn=data.upn,
    )


def possible_duplicates(
    *, session: Session, data: ChildCreate, scope: MatchScope, model: MatchModel | None = None
) -> list[Scored]:
    """Existing children this record may be, best first (at most `scope.max_shown`),
    leaving out those the caller has confirmed are different children. A child whose NHS
    number or UPN agrees cannot be confirmed away: an identifier belongs to one child.
    `scope` (the caller's, from access/) says whose shielded addresses count."""
    model = model or load_model()
    confirmed = set(data.confirmed_distinct_from)
    return [
        scored
        for scored in rank(session=session, person=person_of_record(data), scope=scope, model=model)
        if duplicate_reason(scored, model) is not None
        and (scored.child_id not in confirmed or _identifier_agrees(scored))
    ][: scope.max_shown]


# Name levels that are the same name (a nickname, an accent or a barrel aside).
SAME_NAME = frozenset({"exact", "nickname", "one_part"})


def duplicate_reason(scored: Scored, model: MatchModel) -> str | None:
    """Why an existing child may be the new record's, in the words the 409 shows, or
    None if it is not a possible duplicate:
    - `identifier_agrees`: its UPN, or its verified NHS number, is the record's (this
      cannot be confirmed away);
    - `unverified_nhs_number_agrees`: the same NHS number, verified on neither record;
    - `same_names_and_date_of_birth`: both names the same (or a nickname) and the same
      date of birth, whatever the address (a child moves; the score alone, with a new
      address and a common name, may fall below the threshold);
    - `score_at_or_above_threshold`: the model's total reaches the `duplicate` threshold
      (a twin does: the same family name, date and home, another given name; the caller
      confirms it is a different child, nothing is merged)."""
    levels = scored.explanation.levels
    if _identifier_agrees(scored):
        return "identifier_agrees"
    if levels.get("nhs_number") == "agree_unverified":
        return "unverified_nhs_number_agrees"
    if (
        levels.get("given_name") in SAME_NAME
        and levels.get("family_name") in SAME_NAME
        and levels.get("date_of_birth") == "exact"
    ):
        return "same_names_and_date_of_birth"
    if scored.explanation.total >= model.thresholds.duplicate_at:
        return "score_at_or_above_threshold"
    return None


def _identifier_agrees(scored: Scored) -> bool:
    levels = scored.explanation.levels
    return "agree" in (levels.get("nhs_number"), levels.get("upn"))
