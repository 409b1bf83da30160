"""The administrator's pages: organisations (add, correct contacts, suspend one as a
whole), trusted identity providers (register with OpenID Connect settings and claim
mapping, test, withdraw), suspensions of people found by name in the audit trail, and
webhook endpoints. Thin views, as `pages.py`'s are: each calls the service the API's
route calls (`organisations/service`, `issuers/service`, `suspensions/service`,
`alerts/webhooks`) with the same checks (codes against the public lists, URLs vetted by
`outbound.py`), and each act is audited under its permission by `PageRoute`.

An administrator sees no child data: these pages show organisations, providers, who
acted and endpoints, never a child; every child page refuses an administrator (the access
policy grants them none of its permissions)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from index_service.access.policy import Permission
from index_service.access.tokens import TokenVerifier
from index_service.alerts import webhooks
from index_service.alerts.schemas import WebhookEndpointCreate
from index_service.errors import DomainError
from index_service.issuers import service as issuers
from index_service.issuers.models import TrustedIssuerCreate, TrustedIssuerRecord
from index_service.issuers.probe import probe
from index_service.organisations import service as organisations
from index_service.organisations.models import (
    OrganisationContacts,
    OrganisationCreate,
    OrganisationDeactivation,
    OrganisationType,
)
from index_service.suspensions import service as suspensions
from index_service.suspensions.models import SuspensionCreate
from index_service.suspensions.people import find_people
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LISTED = 200

ORGANISATION_FIELDS = (
    "code",
    "name",
    "type",
    "local_authority",
    "contact_phone",
    "contact_email",
    "out_of_hours_phone",
)
CONTACT_FIELDS = ("contact_phone", "contact_email", "out_of_hours_phone")
ISSUER_FIELDS = (
    "issuer",
    "jwks_url",
    "organisations",
    "display_name",
    "discovery_url",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "scopes",
    "claim_subject",
    "claim_name",
    "claim_email",
    "claim_organisation",
    "static_organisation",
    "claim_roles",
    "roles_field",
    "role_values",
)
CLAIM_DEFAULTS = {
    "claim_subject": "sub",
    "claim_name": "name",
    "claim_email": "email",
    "claim_organisation": "org",
    "claim_roles": "roles",
    "scopes": "openid profile email",
}


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


def _values(page: PageContext, names: tuple[str, ...]) -> dict[str, str]:
    return {name: page.field(name) for name in names}


def _errors(exc: ValidationError, where: Any = None) -> dict[str, str]:
    """A form's errors from the API's own validation: one message per field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc, msg = tuple(error["loc"]), str(error["msg"])
        name = where(loc, msg) if where else (str(loc[0]) if loc else "")
        message = msg.removeprefix("Value error, ")
        errors.setdefault(name or "form", message[:1].upper() + message[1:])
    return errors


def _refused(page: PageContext, exc: DomainError) -> tuple[str, str]:
    """A service's refusal, to show on the form: the field it names (if any) and its
    words. The work is rolled back; the audit row keeps the reason."""
    page.unit.audit.reason = exc.code
    page.unit.session.rollback()
    field = str(exc.extra.get("field") or "").split(".")[-1]
    return field, exc.detail[:1].upper() + exc.detail[1:]


# Organisations ---------------------------------------------------------------------


@router.get("/admin/organisations", **page(Permission.ORGANISATION_READ))
def organisation_list(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    found = organisations.list_organisations(
        session=unit.session, caller=viewer.principal, limit=LISTED, after=None
    )
    active = {
        s.organisation_code
        for s in suspensions.list_suspensions(
            session=unit.session, caller=viewer.principal, limit=LISTED, include_lifted=False
        )
        if s.organisation_code
    }
    return render(
        page.request,
        "admin_organisations.html",
        organisations=found,
        suspended=active,
        added=page.request.query_params.get("added") == "1",
    )


@router.get("/admin/organisations/new", **page(needs=Permission.ORGANISATION_CREATE))
def organisation_form(page: PageDep) -> Response:
    return _organisation_form(page, values={}, errors={})


def _organisation_form(
    page: PageContext, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        page.request,
        "admin_organisation_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        types=[t.value for t in OrganisationType],
    )


@router.post("/admin/organisations", **page(Permission.ORGANISATION_CREATE))
def add_organisation(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    values = _values(page, ORGANISATION_FIELDS)
    try:
        data = OrganisationCreate.model_validate({k: v or None for k, v in values.items()})
    except ValidationError as exc:
        unit.audit.reason = "invalid_input"
        return _organisation_form(page, values, _errors(exc, _organisation_field), 422)
    try:
        organisation = organisations.create_organisation(
            session=unit.session, caller=viewer.principal, data=data
        )
    except DomainError as exc:
        return _organisation_form(page, values, {"code": _refused(page, exc)[1]}, exc.status)
    unit.audit.detail["organisation_code"] = organisation.code
    return RedirectResponse(f"/admin/organisations/{organisation.id}?added=1", status_code=303)


def _organisation_field(loc: tuple[Any, ...], msg: str) -> str:
    """The model's own check (a front door reachable in hours and out of hours) is
    shown on the out-of-hours number."""
    return str(loc[0]) if loc else "out_of_hours_phone"


@router.get("/admin/organisations/{organisation_id}", **page(Permission.ORGANISATION_READ))
def organisation_page(organisation_id: uuid.UUID, page: PageDep) -> Response:
    return _organisation_page(page, organisation_id, values=None, errors={})


def _organisation_page(
    page: PageContext,
    organisation_id: uuid.UUID,
    values: dict[str, str] | None,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    organisation = organisations.get_organisation(
        session=unit.session, caller=viewer.principal, organisation_id=organisation_id
    )
    unit.audit.detail["organisation_code"] = organisation.code
    suspended = suspensions.active_suspension(
        session=unit.session, issuer=None, subject=None, organisation_code=organisation.code
    )
    query = page.request.query_params
    return render(
        page.request,
        "admin_organisation.html",
        status_code=status_code,
        organisation=organisation,
        values=values
        if values is not None
        else {name: getattr(organisation, name) or "" for name in CONTACT_FIELDS},
        errors=errors,
        suspension=suspended,
        added=query.get("added") == "1",
        saved=query.get("saved") == "1",
        changed=query.get("changed", ""),
        own=organisation.code == viewer.principal.organisation_code,
    )


@router.post(
    "/admin/organisations/{organisation_id}/contacts", **page(Permission.ORGANISATION_UPDATE)
)
def correct_contacts(organisation_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    values = _values(page, CONTACT_FIELDS)
    unit.audit.detail["organisation_id"] = str(organisation_id)
    try:
        data = OrganisationContacts.model_validate({k: v or None for k, v in values.items()})
        organisations.update_contacts(
            session=unit.session,
            caller=viewer.principal,
            organisation_id=organisation_id,
            data=data,
        )
    except ValidationError as exc:
        unit.audit.reason = "invalid_input"
        return _organisation_page(page, organisation_id, values, _errors(exc), 422)
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = {"out_of_hours_phone": _refused(page, exc)[1]}
        return _organisation_page(page, organisation_id, values, errors, exc.status)
    return RedirectResponse(f"/admin/organisations/{organisation_id}?saved=1", status_code=303)


@router.post(
    "/admin/organisations/{organisation_id}/deactivate",
    **page(Permission.ORGANISATION_DEACTIVATE),
)
def deactivate_organisation(organisation_id: uuid.UUID, page: PageDep) -> Response:
    """`organisations.deactivate`, as the API's PUT `/deactivation`: its people are
    refused at their next request and their page sessions end."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.detail["organisation_id"] = str(organisation_id)
    try:
        data = OrganisationDeactivation.model_validate({"reason": page.field("reason")})
        done = organisations.deactivate(
            session=unit.session,
            caller=viewer.principal,
            organisation_id=organisation_id,
            data=data,
        )
    except ValidationError:
        unit.audit.reason = "invalid_input"
        errors = {"deactivation_reason": "Say why you are deactivating it (at least 3 letters)"}
        return _organisation_page(page, organisation_id, None, errors, 422)
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = {"deactivation_reason": _refused(page, exc)[1]}
        return _organisation_page(page, organisation_id, None, errors, exc.status)
    unit.audit.detail.update(organisation_code=done.code, reason=data.reason)
    return RedirectResponse(
        f"/admin/organisations/{organisation_id}?changed=deactivated", status_code=303
    )


@router.post(
    "/admin/organisations/{organisation_id}/reactivate",
    **page(Permission.ORGANISATION_DEACTIVATE),
)
def reactivate_organisation(organisation_id: uuid.UUID, page: PageDep) -> Response:
    """`organisations.reactivate`, as the API's DELETE `/deactivation`."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.detail["organisation_id"] = str(organisation_id)
    try:
        done = organisations.reactivate(
            session=unit.session, caller=viewer.principal, organisation_id=organisation_id
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = {"deactivation_reason": _refused(page, exc)[1]}
        return _organisation_page(page, organisation_id, None, errors, exc.status)
    unit.audit.detail["organisation_code"] = done.code
    return RedirectResponse(
        f"/admin/organisations/{organisation_id}?changed=reactivated", status_code=303
    )


# Trusted identity providers ----------------------------------------------------------


def _verifier(page: PageContext) -> TokenVerifier:
    verifier: TokenVerifier = page.request.app.state.token_verifier
    return verifier


@router.get("/admin/identity-providers", **page(Permission.ISSUER_READ))
def issuer_list(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    found = issuers.list_issuers(session=unit.session, caller=viewer.principal, limit=LISTED)
    query = page.request.query_params
    return render(
        page.request,
        "admin_issuers.html",
        issuers=found,
        configured=sorted(_verifier(page).configured_issuers),
        registered=query.get("registered") == "1",
        withdrawn=query.get("withdrawn") == "1",
    )


@router.get("/admin/identity-providers/new", **page(needs=Permission.ISSUER_REGISTER))
def issuer_form(page: PageDep) -> Response:
    return _issuer_form(page, dict(CLAIM_DEFAULTS), {})


def _issuer_form(
    page: PageContext, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        page.request,
        "admin_issuer_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
    )


_CLAIM_FORM = {
    "subject": "claim_subject",
    "name": "claim_name",
    "email": "claim_email",
    "organisation": "claim_organisation",
    "roles": "claim_roles",
}


def _issuer_field(loc: tuple[Any, ...], msg: str) -> str:
    """Where the API's validation of a registration points, as the form's field."""
    parts = [str(p) for p in loc]
    if not parts:
        return "discovery_url"
    if parts[0] != "oidc":
        return parts[0]
    if len(parts) == 1:
        return "scopes" if "scopes" in msg else "client_secret_env"
    if parts[1] != "claims":
        return parts[1]
    if len(parts) == 2:
        return "claim_organisation"
    return _CLAIM_FORM.get(parts[2], parts[2])


def _issuer_body(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's registration body from the form, and the errors of what only the form
    has (the role values, one `their value = our role` a line)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "issuer": values["issuer"],
        "jwks_url": values["jwks_url"],
        "organisations": [c for c in values["organisations"].replace(",", " ").split() if c],
    }
    if not any(values[n] for n in ("display_name", "discovery_url", "client_id")):
        return body, errors
    role_values: dict[str, str] = {}
    for line in values["role_values"].splitlines():
        if not line.strip():
            continue
        theirs, equals, ours = line.partition("=")
        if not equals or not theirs.strip() or not ours.strip():
            errors["role_values"] = "Write each role value as: their value = our role"
            break
        role_values[theirs.strip()] = ours.strip()
    claims: dict[str, Any] = {
        "subject": values["claim_subject"] or "sub",
        "name": values["claim_name"] or "name",
        "email": values["claim_email"] or "email",
        "organisation": values["claim_organisation"] or None,
        "static_organisation": values["static_organisation"] or None,
        "roles": values["claim_roles"] or "roles",
        "roles_field": values["roles_field"] or None,
        "role_values": role_values,
    }
    body["oidc"] = {
        "display_name": values["display_name"],
        "discovery_url": values["discovery_url"],
        "client_id": values["client_id"],
        "client_secret_env": values["client_secret_env"] or None,
        "client_secret_file": values["client_secret_file"] or None,
        "scopes": values["scopes"].split() or ["openid"],
        "claims": claims,
    }
    return body, errors


@router.post("/admin/identity-providers", **page(Permission.ISSUER_REGISTER))
def register_issuer(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    values = _values(page, ISSUER_FIELDS)
    body, errors = _issuer_body(values)
    try:
        data = TrustedIssuerCreate.model_validate(body)
    except ValidationError as exc:
        errors = {**_errors(exc, _issuer_field), **errors}
    if errors:
        unit.audit.reason = "invalid_input"
        return _issuer_form(page, values, errors, 422)
    verifier = _verifier(page)
    try:
        record = issuers.register(
            session=unit.session,
            caller=viewer.principal,
            data=data,
            configured=verifier.configured_issuers,
            allow_private=page.settings.outbound_private_allowed,
        )
    except DomainError as exc:
        field, message = _refused(page, exc)
        field = field if field in ISSUER_FIELDS else "issuer"
        return _issuer_form(page, values, {field: message}, exc.status)
    unit.audit.detail["issuer"] = record.issuer
    unit.after_commit(verifier.invalidate_registered)
    return RedirectResponse("/admin/identity-providers?registered=1", status_code=303)


def _issuer(page: PageContext, issuer_id: uuid.UUID) -> TrustedIssuerRecord:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    found = issuers.list_issuers(session=unit.session, caller=viewer.principal, limit=2000)
    record = next((r for r in found if r.id == issuer_id), None)
    if record is None:
        from index_service.errors import NotFound

        raise NotFound("no such identity provider")
    unit.audit.detail["issuer"] = record.issuer
    return record


@router.post("/admin/identity-providers/{issuer_id}/test", **page(Permission.ISSUER_READ))
def test_issuer(issuer_id: uuid.UUID, page: PageDep) -> Response:
    """Fetch its discovery document and keys now, through the vetted client, and say
    what was found. The connection is made outside the unit of work's transaction."""
    record = _issuer(page, issuer_id)
    page.unit.session.rollback()  # no transaction held open across the fetch
    discovery = (record.oidc or {}).get("discovery_url")
    result = probe(
        issuer=record.issuer,
        discovery_url=str(discovery) if discovery else None,
        jwks_url=record.jwks_url,
        allow_private=page.settings.outbound_private_allowed,
    )
    page.unit.audit.detail["probe"] = "answered" if result.ok else "failed"
    return render(page.request, "admin_issuer_test.html", issuer=record, result=result)


@router.post("/admin/identity-providers/{issuer_id}/withdraw", **page(Permission.ISSUER_WITHDRAW))
def withdraw_issuer(issuer_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    record = issuers.withdraw(session=unit.session, caller=viewer.principal, issuer_id=issuer_id)
    unit.audit.detail["issuer"] = record.issuer
    unit.after_commit(_verifier(page).invalidate_registered)
    return RedirectResponse("/admin/identity-providers?withdrawn=1", status_code=303)


# Suspensions -------------------------------------------------------------------------


@router.get("/admin/suspensions", **page(Permission.SUSPENSION_READ))
def suspension_list(page: PageDep) -> Response:
    return _suspensions_page(page, errors={})


def _suspensions_page(
    page: PageContext, errors: dict[str, str], status_code: int = 200, reason: str = ""
) -> Response:
    """The active suspensions; with `person` in the query, the people whose name (or
    subject) contains it, from the audit trail: who acted, never what they saw."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    text = (page.request.query_params.get("person") or page.field("person"))[:200].strip()
    people = find_people(session=unit.session, text=text) if text else []
    if text:
        unit.audit.detail["person_search"] = text
    active = suspensions.list_suspensions(
        session=unit.session, caller=viewer.principal, limit=LISTED, include_lifted=False
    )
    query = page.request.query_params
    return render(
        page.request,
        "admin_suspensions.html",
        status_code=status_code,
        person=text,
        people=people,
        searched=bool(text),
        suspensions=active,
        errors=errors,
        reason=reason,
        suspended=query.get("suspended") == "1",
        lifted=query.get("lifted") == "1",
    )


@router.post("/admin/suspensions", **page(Permission.SUSPENSION_CREATE))
def suspend(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    kind = "organisation" if page.field("organisation_code") else "user"
    body = {
        "kind": kind,
        "issuer": page.field("issuer") or None,
        "subject": page.field("subject") or None,
        "organisation_code": page.field("organisation_code") or None,
        "reason": page.field("reason"),
    }
    try:
        data = SuspensionCreate.model_validate(body)
        suspension = suspensions.suspend(
            session=unit.session,
            caller=viewer.principal,
            data=data,
            configured_issuers=_verifier(page).configured_issuers,
        )
    except ValidationError as exc:
        unit.audit.reason = "invalid_input"
        errors = _errors(exc)
        message = errors.get("reason") or next(iter(errors.values()))
        if "reason" in errors:
            message = "Say why you are suspending them, in one line"
        return _suspensions_page(page, {"reason": message}, 422, page.field("reason"))
    except DomainError as exc:
        return _suspensions_page(page, {"reason": _refused(page, exc)[1]}, exc.status)
    unit.audit.detail["suspension_id"] = str(suspension.id)
    unit.audit.detail["suspended"] = (
        {"issuer": suspension.issuer, "subject": suspension.subject}
        if kind == "user"
        else {"organisation_code": suspension.organisation_code}
    )
    return RedirectResponse("/admin/suspensions?suspended=1", status_code=303)


@router.post("/admin/suspensions/{suspension_id}/lift", **page(Permission.SUSPENSION_LIFT))
def lift(suspension_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    suspensions.lift(session=unit.session, caller=viewer.principal, suspension_id=suspension_id)
    unit.audit.detail["suspension_id"] = str(suspension_id)
    return RedirectResponse("/admin/suspensions?lifted=1", status_code=303)


# Webhook endpoints -------------------------------------------------------------------


@router.get("/admin/webhooks", **page(Permission.WEBHOOK_READ))
def webhook_list(page: PageDep) -> Response:
    return _webhooks_page(page, values={}, errors={})


def _webhooks_page(
    page: PageContext,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    created: Any = None,
) -> Response:
    unit = page.unit
    found = webhooks.list_endpoints(session=unit.session, limit=LISTED)
    return render(
        page.request,
        "admin_webhooks.html",
        status_code=status_code,
        endpoints=found,
        values=values,
        errors=errors,
        created=created,
        withdrawn=page.request.query_params.get("withdrawn") == "1",
    )


@router.post("/admin/webhooks", **page(Permission.WEBHOOK_REGISTER))
def register_webhook(page: PageDep) -> Response:
    """The signing secret is shown once, on this answer (never kept with the session)."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    values = _values(page, ("organisation_code", "url"))
    try:
        data = WebhookEndpointCreate.model_validate(values)
        endpoint, organisation = webhooks.register(
            session=unit.session,
            caller=viewer.principal,
            data=data,
            allow_private=page.settings.outbound_private_allowed,
        )
    except ValidationError as exc:
        unit.audit.reason = "invalid_input"
        return _webhooks_page(page, values, _errors(exc), 422)
    except DomainError as exc:
        field, message = _refused(page, exc)
        errors = {("url" if field == "url" else "organisation_code"): message}
        return _webhooks_page(page, values, errors, exc.status)
    unit.audit.detail["webhook_endpoint_id"] = str(endpoint.id)
    unit.audit.detail["organisation_code"] = organisation.code
    created = {"url": endpoint.url, "organisation": organisation.code, "secret": endpoint.secret}
    return _webhooks_page(page, {}, {}, 200, created)


@router.post("/admin/webhooks/{endpoint_id}/withdraw", **page(Permission.WEBHOOK_WITHDRAW))
def withdraw_webhook(endpoint_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    webhooks.withdraw(session=unit.session, caller=viewer.principal, endpoint_id=endpoint_id)
    unit.audit.detail["webhook_endpoint_id"] = str(endpoint_id)
    return RedirectResponse("/admin/webhooks?withdrawn=1", status_code=303)
