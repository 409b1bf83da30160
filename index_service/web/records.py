"""A data manager's pages: find a child of my authority, see and correct the record
(with the API's version check: a change made since the form was opened is shown, theirs
beside yours, never overwritten), register a child behind the duplicate guard (its
candidates beside the new record, and "this is a different child" with a reason),
shield and unshield, and the authority's data-quality gaps and overdue flags.

Thin views, as `pages.py`'s are: each calls what `api/children.py` and `api/flags.py`
call (`children/flows.py`, `children/service.py`, `flags/service.py`) and renders a
template; whose children these are is `access/scope.py`'s (another authority's child is
the same 404 as no child), which fields are shown `access/views.py`'s (through
`service.present`). Ids are in the URLs, never child data; the look-up is POSTed."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from index_service.access.policy import Permission
from index_service.alerts.flows import timing_of
from index_service.api.opening import children_opened
from index_service.children import flows, lifecycle, quality, service, subject_access
from index_service.children.age import AgeLimit
from index_service.children.models import NhsNumberStatus
from index_service.children.schemas import ChildCreate, ChildPublic, ChildUpdate
from index_service.enquiries.models import EnquiryPublic
from index_service.errors import NotFound, PreconditionFailed
from index_service.feeds import reviews
from index_service.flags import service as flags
from index_service.web import forms, record_form, sessions
from index_service.web.pages import look_up
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LISTED = 200
SHIELD_CONSEQUENCE = (
    "Everyone else who looks this child up will learn only that a record exists and whom "
    "to contact here: not the child's name, date of birth, address, school or GP. Only "
    "your authority's data managers go on seeing the record in full, and every look-up "
    "of it is reported to you."
)
UNSHIELD_CONSEQUENCE = (
    "Practitioners who look this child up will again see the record as for any other "
    "child: names, date of birth, address, school, GP and who works with the child."
)
RECORD_FIELDS = (  # the names, date of birth and identifiers; the rest: `record_form.py`
    *("given_names", "family_name", "dob_day", "dob_month", "dob_year"),
    *("nhs_number", "nhs_number_status", "upn", "la_reference"),
)
LABELS = {
    "given_names": "Given names",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
    "upn": "Unique pupil number (UPN)",
    "la_reference": "Your reference",
}
MESSAGES = {
    "names": "Enter the child's given names and family name using letters",
    "given_names": "Enter the child's given names using letters",
    "family_name": "Enter the child's family name using letters",
    "date_of_birth": "Date of birth must be a real date in the past",
    "nhs_number": forms.MESSAGES["nhs_number"],
    "nhs_number_status": "Choose whether the NHS number was verified by a trace",
    "upn": forms.MESSAGES["upn"],
    "la_reference": "Your reference must be at most 40 characters",
    "reason": "Say why this is a different child",
}


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


# --- Find a child of my authority ------------------------------------------------------


@router.get("/records", **page(needs=Permission.CHILD_SHIELD))
def find_form(page: PageDep) -> Response:
    """Allowed to the data managers (those who shield: `CHILD_SHIELD`'s grant). The form
    shows nothing of any child, so opening it writes no audit row (one would have to
    name an act, a shield, that did not happen); the look-up it posts is audited."""
    viewer = page.viewer
    assert viewer is not None
    if viewer.purpose is None:
        return RedirectResponse("/purpose?next=/records", status_code=303)
    return _find_again(page, forms.SearchForm(values={}), 200)


def _find_again(page: PageContext, form: forms.SearchForm, status: int) -> Response:
    return render(
        page.request,
        "records_find.html",
        status_code=status,
        form=form,
        minimum=forms.MINIMUM,
        waiting=_reviews_waiting(page),
    )


def _reviews_waiting(page: PageContext) -> int | None:
    """How many feed rows wait for the authority's decision (a count, no child data: not
    audited), for the link to `/records/reviews`; None to one who may not decide them.
    Read in the page's unit of work when it has one (the look-up posted, shown again);
    the bare form has none (it writes no audit row), so it reads in a transaction of its
    own."""
    viewer = page.viewer
    assert viewer is not None
    if not viewer.may(Permission.FEED_REVIEW):
        return None
    if page.ctx is not None:
        return reviews.waiting(session=page.ctx.session, caller=viewer.principal)
    with page.request.app.state.db.transaction() as session:
        return reviews.waiting(session=session, caller=viewer.principal)


@router.post("/records/find", **page(Permission.ENQUIRY_CREATE))
def find(page: PageDep) -> Response:
    """The practitioner's look-up (`web/pages.look_up`), answered with links to records."""
    return look_up(
        page,
        again=lambda form, status: _find_again(page, form, status),
        answered_at="/records/found/{id}",
    )


@router.get("/records/found/{enquiry_id}", **page())
def found(enquiry_id: uuid.UUID, page: PageDep) -> Response:
    answer = EnquiryPublic.model_validate(kept_page(page, f"enquiry:{enquiry_id}"))
    return render(page.request, "records_found.html", answer=answer)


# --- A new record, behind the duplicate guard ------------------------------------------


@router.get("/records/new", **page(needs=Permission.CHILD_CREATE))
def new_form(page: PageDep) -> Response:
    """An empty form: no audit row (registering one is audited)."""
    return render(page.request, "record_new.html", values={}, errors={}, candidates=None)


@router.post("/records/new", **page(Permission.CHILD_CREATE))
def create(page: PageDep) -> Response:
    """`flows.register_child`, as the API's POST: possible duplicates are shown beside
    the new record (nothing is created); "this is a different child" sends it again with
    their ids confirmed distinct, the reason kept in the audit row."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    values, data, errors = _read_form(page)
    reason = page.field("reason")
    confirmed = [
        v for v in (page.form.getlist if page.form else list)("confirmed") if isinstance(v, str)
    ]
    try:
        distinct = [uuid.UUID(v) for v in confirmed]
    except ValueError:
        distinct = []
    if distinct and not reason:
        errors["reason"] = MESSAGES["reason"]
    new: ChildCreate | None = None
    if not errors:
        data["responsible_authority"] = viewer.principal.local_authority
        data["confirmed_distinct_from"] = distinct
        try:
            new = ChildCreate.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as invalid:
            for error in invalid.errors():
                name = _field(error)
                errors.setdefault(name, MESSAGES.get(name, "Check this answer"))
    if errors or new is None:
        unit.audit.reason = "invalid_input"
        return render(
            page.request,
            "record_new.html",
            status_code=422,
            values=values,
            errors=errors,
            candidates=None,
            reason=reason,
            confirmed=confirmed,
        )
    outcome = flows.register_child(
        session=unit.session,
        caller=viewer.principal,
        data=new,
        request_id=unit.audit.request_id,
        age_limit=AgeLimit.of(page.settings),
    )
    if distinct:
        unit.audit.detail["confirmed_distinct_from"] = [str(i) for i in distinct]
        unit.audit.detail["distinct_reason"] = reason
    if isinstance(outcome, flows.PossibleDuplicates):
        unit.audit.children(*outcome.child_ids, *distinct)
        unit.audit.reason = "possible_duplicate"
        return render(
            page.request,
            "record_new.html",
            status_code=409,
            values=values,
            errors={},
            candidates=outcome.candidates,
            reason=reason,
        )
    unit.audit.children(outcome.child.id, *distinct)
    return RedirectResponse(f"/records/{outcome.child.id}", status_code=303)


# --- Data quality and overdue flags ----------------------------------------------------


@router.get("/records/gaps", **page(Permission.CHILD_READ))
def gaps(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    found = quality.gaps_of_my_children(session=unit.session, caller=viewer.principal, limit=LISTED)
    unit.audit.children(*(g.child_id for g in found))
    return render(page.request, "record_gaps.html", gaps=found, listed=LISTED)


@router.get("/records/overdue", **page(Permission.FLAG_OVERDUE_READ, purpose=True))
def overdue(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    items = flags.overdue_flags(session=unit.session, caller=viewer.principal, limit=LISTED)
    unit.audit.children(*(item.child_id for item in items))
    return render(page.request, "record_overdue.html", items=items)


# --- The record ------------------------------------------------------------------------


def read_record(page: PageContext, child_id: uuid.UUID) -> ChildPublic:
    """The record as the API's GET answers it: in the caller's scope (404 otherwise),
    counted towards the many-children anomaly, presented per `access/views.py`."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.children(child_id)
    record = service.get_child(session=unit.session, caller=viewer.principal, child_id=child_id)
    children_opened(
        session=unit.session,
        settings=page.settings,
        ctx=unit,
        caller=viewer.principal,
        child_ids=[child_id],
    )
    return service.present(
        session=unit.session,
        caller=viewer.principal,
        record=record,
        action=unit.audit.action,
        request_id=unit.audit.request_id,
    )


@router.get("/records/{child_id}", **page(Permission.CHILD_READ))
def record_page(child_id: uuid.UUID, page: PageDep) -> Response:
    child = read_record(page, child_id)
    return render(
        page.request,
        "record.html",
        child=child,
        shield=SHIELD_CONSEQUENCE,
        unshield=UNSHIELD_CONSEQUENCE,
        merges=_merges(page, child_id),
    )


def _merges(page: PageContext, child_id: uuid.UUID) -> list[Any] | None:
    """The merges into this record, for the links to undo them; None (no merging
    offered) to one who may not merge."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    if not viewer.may(Permission.CHILD_MERGE):
        return None
    return lifecycle.merges_into(
        session=unit.session, caller=viewer.principal, survivor_id=child_id
    )


@router.get("/records/{child_id}/subject-access", **page(Permission.CHILD_SUBJECT_ACCESS))
def subject_access_page(child_id: uuid.UUID, page: PageDep) -> Response:
    """The subject access report, printable: what `GET /v1/children/{id}/subject-access`
    answers (`children/subject_access.report`), for the responsible authority's data
    managers; audited as that route is."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.children(child_id)
    report = subject_access.report(
        session=unit.session,
        caller=viewer.principal,
        child_id=child_id,
        action=unit.audit.action,
        request_id=unit.audit.request_id,
    )
    children_opened(
        session=unit.session,
        settings=page.settings,
        ctx=unit,
        caller=viewer.principal,
        child_ids=[child_id],
    )
    return render(page.request, "record_subject_access.html", report=report)


def legal_name(child: ChildPublic) -> tuple[str, str]:
    for name in child.names or []:
        if name.kind == "legal":
            return name.given_names, name.family_name
    return "", ""


def values_of(child: ChildPublic) -> dict[str, str]:
    given, family = legal_name(child)
    born = child.date_of_birth
    return {
        "given_names": given,
        "family_name": family,
        "dob_day": str(born.day) if born else "",
        "dob_month": str(born.month) if born else "",
        "dob_year": str(born.year) if born else "",
        "nhs_number": child.nhs_number or "",
        "nhs_number_status": (child.nhs_number_status or NhsNumberStatus.UNVERIFIED).value,
        "upn": child.upn or "",
        "la_reference": child.la_reference or "",
    }


def all_values_of(child: ChildPublic) -> dict[str, str]:
    """The whole correction form's answers for the record as it is."""
    return {**values_of(child), **record_form.values_of(child)}


@router.get("/records/{child_id}/edit", **page(Permission.CHILD_READ))
def edit_form(child_id: uuid.UUID, page: PageDep) -> Response:
    child = read_record(page, child_id)
    return _edit(page, child, all_values_of(child), {}, child.version or 0)


def _edit(
    page: PageContext,
    child: ChildPublic,
    values: dict[str, str],
    errors: dict[str, str],
    version: int,
    *,
    status_code: int = 200,
    theirs: dict[str, str] | None = None,
) -> Response:
    return render(
        page.request,
        "record_edit.html",
        status_code=status_code,
        child=child,
        values=values,
        errors=errors,
        version=version,
        theirs=theirs,
        labels=LABELS,
        compared=_compared(theirs, values) if theirs is not None else [],
        nhs_statuses=record_form.nhs_number_statuses(
            child.nhs_number_status.value if child.nhs_number_status else None
        ),
        statuses={
            "carers": record_form.CARERS_STATUSES,
            "gp": record_form.GP_STATUSES,
            "education": record_form.EDUCATION_STATUSES,
        },
    )


def _compared(theirs: dict[str, str], yours: dict[str, str]) -> list[tuple[str, str, str]]:
    """After a conflict: each part of the record as it is now and as the form has it."""
    now, mine = record_form.described(theirs), record_form.described(yours)
    return [(label, now[label], mine[label]) for label in now]


def _read_form(page: PageContext) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """The form's answers, the record's fields they give, and the errors to show."""
    values = {name: page.field(name) for name in RECORD_FIELDS}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if values["given_names"] and values["family_name"]:
        data["names"] = [
            {
                "kind": "legal",
                "given_names": values["given_names"],
                "family_name": values["family_name"],
            }
        ]
    else:
        errors["given_names" if not values["given_names"] else "family_name"] = MESSAGES["names"]
    try:
        data["date_of_birth"] = date(
            int(values["dob_year"]), int(values["dob_month"]), int(values["dob_day"])
        )
    except ValueError:
        errors["date_of_birth"] = MESSAGES["date_of_birth"]
    for name in ("nhs_number", "upn", "la_reference"):
        data[name] = values[name].replace(" ", "") if name == "nhs_number" else values[name]
        data[name] = data[name] or None
    return values, data, errors


def _field(error: Any) -> str:
    names = [part for part in error["loc"] if isinstance(part, str)]
    name = names[0] if names else "names"
    return "given_names" if name == "names" else name


@router.post("/records/{child_id}/edit", **page(Permission.CHILD_UPDATE))
def correct(child_id: uuid.UUID, page: PageDep) -> Response:
    """`flows.change_child` with the version the form was opened at (the API's If-Match):
    if someone changed the record since, nothing is saved and both versions are shown,
    with the form to reapply the correction to the record as it is now."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    assert unit.purpose is not None
    unit.audit.children(child_id)
    values, data, errors = _read_form(page)
    more, more_data, more_errors, rows = record_form.read(page.field)
    values, errors = {**values, **more}, {**errors, **more_errors}
    data.update(more_data)
    version_sent = page.field("version")
    update: ChildUpdate | None = None
    held = service.get_child(session=unit.session, caller=viewer.principal, child_id=child_id)
    status = record_form.nhs_number_status_sent(
        number=data["nhs_number"],
        chosen=values["nhs_number_status"],
        held_number=held.child.nhs_number,
        held_status=held.child.nhs_number_status,
    )
    if status is not None:
        data["nhs_number_status"] = status
    # The form corrects the legal name: the record's other names are kept as they are
    # (the API replaces a list as a whole). Validated whatever the form's own checks
    # found, so that every problem is shown at once.
    if "names" in data:
        data["names"] += [
            {"kind": n.kind, "given_names": n.given_names, "family_name": n.family_name}
            for n in held.names
            if n.kind != "legal"
        ]
    try:
        update = ChildUpdate.model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors():
            placed = record_form.error_field(tuple(error["loc"]), rows)
            if placed is not None:
                errors.setdefault(*placed)
                continue
            name = _field(error)
            errors.setdefault(name, MESSAGES.get(name, "Check this answer"))
    version = forms.whole_number(version_sent)
    if version is None:  # the form's hidden field, as the page wrote it, unless altered
        errors.setdefault("version", "Open the record again to correct it")
    if errors or update is None or version is None:
        unit.audit.reason = "invalid_input"
        child = read_record(page, child_id)
        return _edit(page, child, values, errors, version or 0, status_code=422)
    try:
        record, changed, raised = flows.change_child(
            session=unit.session,
            caller=viewer.principal,
            purpose=unit.purpose,
            child_id=child_id,
            data=update,
            expected_version=version,
            timing=timing_of(page.settings),
            age_limit=AgeLimit.of(page.settings),
        )
    except PreconditionFailed:
        unit.audit.reason = "version_conflict"
        now = read_record(page, child_id)
        return _edit(
            page, now, values, {}, now.version or 0, status_code=409, theirs=all_values_of(now)
        )
    unit.audit.detail["changed_fields"] = sorted(changed)
    unit.audit.detail["changes"] = changed
    unit.note_alerts(raised)
    return RedirectResponse(f"/records/{record.child.id}", status_code=303)


@router.post("/records/{child_id}/shield", **page(Permission.CHILD_SHIELD))
def shield(child_id: uuid.UUID, page: PageDep) -> Response:
    """`service.set_shielded` at the version the record page showed (the API's PUT or
    DELETE `/shield` with If-Match)."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.children(child_id)
    shielded = page.field("shielded") == "yes"
    version = page.field("version")
    try:
        service.set_shielded(
            session=unit.session,
            caller=viewer.principal,
            child_id=child_id,
            shielded=shielded,
            expected_version=int(version) if version.isdigit() else -1,
        )
    except PreconditionFailed:
        unit.audit.reason = "version_conflict"
        child = read_record(page, child_id)
        return render(
            page.request,
            "record.html",
            status_code=409,
            child=child,
            conflict=True,
            shield=SHIELD_CONSEQUENCE,
            unshield=UNSHIELD_CONSEQUENCE,
            merges=_merges(page, child_id),
        )
    unit.audit.detail["shielded"] = shielded
    return RedirectResponse(f"/records/{child_id}", status_code=303)


def kept_page(page: PageContext, key: str) -> dict[str, Any]:
    viewer = page.viewer
    assert viewer is not None
    with page.request.app.state.db.transaction() as session:
        body = sessions.kept_page(session=session, session_hash=viewer.row.id_hash, key=key)
    if body is None:
        raise NotFound("this page is no longer available: it is kept only while you stay signed in")
    return body
