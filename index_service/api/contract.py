"""The API's contract as clients read it: which problem documents each operation can
answer, and what each operation is for, derived from what a route already declares.

A route declares its permission (and, with `raises=`, the domain errors its service can
raise that nothing else implies: a 409, a 404 of a route without a path id). Everything
else follows from the route itself, so a new route is documented without more work:

- every `/v1` route: 401 (token), 403 (role, organisation, suspension), 500 (audit row
  not written), 503 (busy, database or identity provider unreachable);
- a path id: 404; a body: 400 (malformed JSON), 413, 415, 422; query or path parameters
  or a body: 422; an `If-Match` header: 412 and 428; a permission on child data: 400
  (purpose of use); a rate-limited permission: 429.

Each of those statuses is documented with the one `Problem` schema as
`application/problem+json`, and the description says which codes it carries and when.
The summary is the endpoint docstring's first line, the description its remainder
followed by who may call it (from the access policy's grants) and the rules it triggers.
`AuditedRoute` records at run time any problem status a route answers that is not
documented (`undocumented_problems` on the app state; the test suite fails on one).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.dependencies.utils import get_flat_params
from pydantic import BaseModel, ConfigDict, Field

from index_service.access.policy import GRANTS, RATE_LIMITED, Permission
from index_service.api.problems import PROBLEM_JSON
from index_service.errors import (
    AuditUnavailable,
    Conflict,
    DatabaseUnavailable,
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedBody,
    MalformedIfMatch,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ServiceBusy,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from fastapi.routing import APIRoute

PROBLEM_REF = "#/components/schemas/Problem"
RAISES_KEY = "x-raises"  # taken out of openapi_extra by the route class


class ProblemError(BaseModel):
    """One thing wrong with the request (422): where, and what, never the value sent."""

    location: list[str] = Field(
        description="Where: `body`, `query`, `path` or `header`, then the field."
    )
    message: str
    type: str = Field(
        description="A machine-readable kind, such as `missing` or `date_from_datetime_parsing`."
    )


class Problem(BaseModel):
    """An RFC 9457 problem document: every error the API answers has this shape. `code`
    is stable and machine-readable; `detail` says, for a person, what to do about it.
    Some problems carry more members (a 409 `possible_duplicate` its `candidates`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem (ends with `code`).")
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = Field(None, description="Quote this to the service desk.")
    errors: list[ProblemError] | None = Field(None, description="On a 422: each field at fault.")
    retry_after: int | None = Field(
        None, description="On a 429 or 503: seconds to wait (also the Retry-After header)."
    )


@dataclass(frozen=True)
class ProblemCase:
    """One problem an operation can answer: its status, code and when."""

    status: int
    code: str
    title: str
    when: str

    @classmethod
    def of(cls, error: type[DomainError], when: str, code: str | None = None) -> ProblemCase:
        return cls(error.status, code or error.code, error.title, when)


# Work addressed to an entry merged into another (a change, an involvement, a flag, a
# hold): the problem's `merged_into` names the entry that answers for the child now.
CHILD_MERGED = ProblemCase.of(
    Conflict,
    "the entry was merged into another: `merged_into` names the one to use",
    "child_merged",
)


def raises(*errors: type[DomainError] | ProblemCase) -> dict[str, Any]:
    """The domain errors a route's service can raise beyond those the route implies."""
    return {RAISES_KEY: tuple(errors)}


_EVERY_ROUTE = (
    ProblemCase.of(
        Unauthenticated,
        "no bearer token, or one that is invalid, expired or not from a trusted issuer",
    ),
    ProblemCase.of(
        Forbidden,
        "your role, or your organisation's type, does not hold this operation's permission "
        "(see who may call it); the detail names the route to use instead when there is one",
        code="permission_denied",
    ),
    ProblemCase.of(
        Forbidden,
        "your organisation does not take part in the index",
        code="organisation_not_participating",
    ),
    ProblemCase.of(
        Forbidden, "you or your organisation are suspended from the index", code="user_suspended"
    ),
    ProblemCase.of(AuditUnavailable, "the audit row could not be written: nothing was done"),
    ProblemCase.of(ServiceBusy, "every connection is in use; retry after `Retry-After` seconds"),
    ProblemCase.of(DatabaseUnavailable, "the database cannot be reached; nothing was done"),
    ProblemCase.of(ServiceUnavailable, "the identity provider's keys cannot be fetched just now"),
)
_BODY = (
    ProblemCase.of(
        MalformedBody,
        "the body is not JSON, names a field twice in one object, or nests too deeply",
    ),
    ProblemCase.of(PayloadTooLarge, "the body is over the size limit"),
    ProblemCase.of(UnsupportedMediaType, "the body is not sent as `application/json`"),
)
_INPUT = ProblemCase.of(
    InvalidInput,
    "a field, parameter or header is missing or not valid: `errors` names each "
    "(dates are YYYY-MM-DD)",
)
_PURPOSE = ProblemCase(
    400,
    "purpose_required",
    "State the purpose of this access",
    "the `Purpose-Of-Use` or `Purpose-Text` header is missing or not valid "
    "(also `purpose_unknown`, `purpose_text_required`, `purpose_text_too_long`, "
    "`purpose_text_invalid`)",
)
_NOT_FOUND = ProblemCase.of(
    NotFound, "nothing with that id exists, or it is not one you may reach (the two look alike)"
)
_IF_MATCH = (
    ProblemCase.of(
        PreconditionFailed, "the record changed since you read it: read it again, then retry"
    ),
    ProblemCase.of(
        MalformedIfMatch, 'If-Match is not exactly an ETag this service wrote, such as `"3"`'
    ),
    ProblemCase.of(PreconditionRequired, "If-Match is missing: send the ETag of your last read"),
)
_RATE = ProblemCase.of(
    TooManyRequests, "you made more requests of this kind than your window allows"
)


def possible_problems(
    route: APIRoute,
    permission: Permission | None,
    declared: Iterable[type[DomainError] | ProblemCase],
) -> list[ProblemCase]:
    """Every problem `route` can answer: those it implies, then those declared."""
    cases: list[ProblemCase] = list(_EVERY_ROUTE)
    parameters = get_flat_params(route.dependant)  # sub-dependencies' parameters too
    has_body = route.body_field is not None
    if has_body:
        cases.extend(_BODY)
    if has_body or parameters:
        cases.append(_INPUT)
    if route.param_convertors:  # an id in the path
        cases.append(_NOT_FOUND)
    if any(p.alias.lower() == "if-match" for p in parameters):
        cases.extend(_IF_MATCH)
    if permission is not None and permission.touches_child_data:
        cases.append(_PURPOSE)
    if permission is not None and permission in RATE_LIMITED:
        cases.append(_RATE)
    for error in declared:
        cases.append(
            error if isinstance(error, ProblemCase) else ProblemCase.of(error, error.title.lower())
        )
    return cases


def problem_responses(cases: Iterable[ProblemCase]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses for `cases`, one per status, each naming its codes."""
    by_status: dict[int, list[ProblemCase]] = {}
    for case in cases:
        listed = by_status.setdefault(case.status, [])
        if all(c.code != case.code for c in listed):
            listed.append(case)
    return {
        status: {
            "description": "\n".join(f"- `{c.code}`: {c.when}." for c in listed),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status, listed in sorted(by_status.items())
    }


def who_may_call(permission: Permission) -> str:
    """The grants of `permission`, in words."""
    grants = GRANTS.get(permission, ())
    if not grants:
        return "nobody"
    parts = []
    for grant in grants:
        role = f"`{grant.role.value}`"
        if grant.organisation_types is not None and len(grant.organisation_types) <= 2:
            types = " or ".join(f"`{t.value}`" for t in sorted(grant.organisation_types))
            role += f" (in {types})"
        elif grant.organisation_types is not None:
            role += " (in any participating agency)"
        parts.append(role)
    return ", ".join(parts)


def describe(route: APIRoute, permission: Permission | None) -> tuple[str, str]:
    """The summary and description of `route`'s operation, from its docstring and its
    permission."""
    doc = inspect.cleandoc(route.endpoint.__doc__ or "").split("\f")[0].strip()
    first, _, rest = doc.partition("\n\n")
    summary = " ".join(first.split()).rstrip(".")
    parts = [rest.strip()] if rest.strip() else []
    if permission is not None:
        parts.append(
            f"**Who may call it:** {who_may_call(permission)} (permission `{permission.value}`)."
        )
        rules = ["every call, allowed or refused, is written to the audit trail"]
        if permission.touches_child_data:
            rules.append("send `Purpose-Of-Use` and `Purpose-Text` (recorded with the audit row)")
        bucket = RATE_LIMITED.get(permission)
        if bucket is not None:
            rules.append(f"counts towards your `{bucket.value}` rate limit (429 past it)")
        parts.append("**Rules:** " + "; ".join(rules) + ".")
    return summary, "\n\n".join(parts)


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the `Problem` schema to `openapi`, and put a route's own model of a problem
    status (a 409's candidates) beside it under `application/problem+json`."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if PROBLEM_JSON not in content or not status.startswith(("4", "5")):
                    continue
                own = content.pop("application/json", {}).get("schema")
                if own is not None:
                    content[PROBLEM_JSON] = {"schema": {"anyOf": [own, {"$ref": PROBLEM_REF}]}}
    paths = json.dumps(openapi.get("paths", {}))
    if "/HTTPValidationError" not in paths:  # FastAPI's own 422, if no route answers it
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return openapi
