"""Merging two entries found to be one child, and undoing it, as pages for the data
managers: from a record, "merge with another record" finds the other entry by the
look-up (POSTed, as the find page's is: no child data in a URL), shows both side by side
with which one is kept, and merges on a POSTed confirmation at the versions the page
showed (the API's If-Match); the merge's page then offers to undo it, with a reason.

Thin views: each calls what `api/children.py` calls (`children/lifecycle.py`:
`merge_telling_workers`, `unmerge_telling_workers`) and renders a template; audited as
those routes are (`child:record:merge`, both entries named, the field diff in the
detail), and each page that shows a record as `child:record:read` with its children.
Who may merge is the access policy's (`CHILD_MERGE`: anyone else is refused 403) and
`access/objects.py`'s; whose children these are `access/scope.py`'s (another
authority's entry is the same 404 as none)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from index_service.access.policy import Permission
from index_service.alerts.flows import timing_of
from index_service.children import lifecycle
from index_service.children.schemas import ChildPublic
from index_service.enquiries.models import EnquiryPublic
from index_service.errors import Conflict, InvalidInput, PreconditionFailed
from index_service.web import forms
from index_service.web.pages import look_up
from index_service.web.records import kept_page, read_record
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CONSEQUENCE = (
    "The record on the left is kept. It takes every name, address, carer, identifier, "
    "involvement, flag and alert of the record on the right, which then points to it. "
    "Everyone who works with the child is told. You can undo the merge from the kept "
    "record's page, as long as nobody changes it first."
)
PROBLEMS = {
    "version": "Someone changed one of these records since you opened this page. Nothing "
    "was merged: check both records as they are now, then merge them again.",
    "same_entry": "Choose a different record: a record cannot be merged with itself.",
    "not_active": "Only records in use can be merged: one of these was merged, archived "
    "or destroyed already.",
    "identifiers_conflict": "These records have different NHS numbers, unique pupil "
    "numbers or references of yours, so as recorded they are two children. Correct the "
    "wrong record first.",
    "not_responsible_authority": "Only the data managers of the authority responsible for "
    "both children can merge these records.",
    "undo_version": "Someone changed this record since you opened this page. Nothing was "
    "undone: check the record as it is now, then undo the merge again.",
    "changed_since_merge": "The kept record was changed after the merge. Undo those "
    "changes first, so that nothing is lost when both records are put back as they were.",
    "reason": "Say why the merge is being undone",
}


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


# --- Find the other record -------------------------------------------------------------


@router.get("/records/{child_id}/merge", **page(needs=Permission.CHILD_MERGE))
def find_other(child_id: uuid.UUID, page: PageDep) -> Response:
    """The look-up form, for the record to merge with this one. It shows nothing of any
    child, so opening it writes no audit row; the look-up is audited."""
    viewer = page.viewer
    assert viewer is not None
    if viewer.purpose is None:
        return RedirectResponse(f"/purpose?next=/records/{child_id}/merge", status_code=303)
    return _find_again(page, child_id, forms.SearchForm(values={}), 200)


def _find_again(
    page: PageContext, child_id: uuid.UUID, form: forms.SearchForm, status: int
) -> Response:
    return render(
        page.request,
        "record_merge_find.html",
        status_code=status,
        form=form,
        minimum=forms.MINIMUM,
        child_id=child_id,
    )


@router.post(
    "/records/{child_id}/merge/find",
    **page(Permission.ENQUIRY_CREATE, needs=Permission.CHILD_MERGE),
)
def find(child_id: uuid.UUID, page: PageDep) -> Response:
    """The data manager's look-up (`web/pages.look_up`), answered on a page of links to
    compare each record found with this one."""
    return look_up(
        page,
        again=lambda form, status: _find_again(page, child_id, form, status),
        answered_at=f"/records/{child_id}/merge/found/{{id}}",
    )


@router.get("/records/{child_id}/merge/found/{enquiry_id}", **page(needs=Permission.CHILD_MERGE))
def found(child_id: uuid.UUID, enquiry_id: uuid.UUID, page: PageDep) -> Response:
    """What the audited look-up disclosed, kept with the session (no second disclosure)."""
    answer = EnquiryPublic.model_validate(kept_page(page, f"enquiry:{enquiry_id}"))
    return render(page.request, "record_merge_found.html", answer=answer, child_id=child_id)


# --- Both side by side, and the merge ----------------------------------------------------


def _compare(
    page: PageContext,
    kept: uuid.UUID,
    other: uuid.UUID,
    *,
    status_code: int = 200,
    problem: str = "",
) -> Response:
    """Both records as the API's GET answers them (each audited and counted as opened),
    the kept one first, with the versions the confirmation will be checked against."""
    survivor, merged = read_record(page, kept), read_record(page, other)
    return render(
        page.request,
        "record_merge.html",
        status_code=status_code,
        survivor=survivor,
        merged=merged,
        consequence=CONSEQUENCE,
        problem=problem,
    )


@router.get(
    "/records/{child_id}/merge/{other_id}",
    **page(Permission.CHILD_READ, needs=Permission.CHILD_MERGE),
)
def compare(child_id: uuid.UUID, other_id: uuid.UUID, page: PageDep) -> Response:
    if child_id == other_id:
        page.unit.audit.reason = "same_entry"
        return _compare(page, child_id, other_id, status_code=422, problem=PROBLEMS["same_entry"])
    return _compare(page, child_id, other_id)


@router.post("/records/{child_id}/merge/{other_id}", **page(Permission.CHILD_MERGE))
def merge(child_id: uuid.UUID, other_id: uuid.UUID, page: PageDep) -> Response:
    """`lifecycle.merge_telling_workers` at the versions the page showed: a change made
    since (412 in the API) or a refusal is said in plain words beside both records as
    they are now, and nothing is merged."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.children(child_id, other_id)
    versions = (page.field("survivor_version"), page.field("merged_version"))
    if not all(v.isdigit() for v in versions):
        unit.audit.reason = "invalid_input"
        return _compare(page, child_id, other_id, status_code=422, problem=PROBLEMS["version"])
    try:
        outcome, raised = lifecycle.merge_telling_workers(
            session=unit.session,
            caller=viewer.principal,
            purpose=unit.purpose,
            timing=timing_of(page.settings),
            survivor_id=child_id,
            survivor_version=int(versions[0]),
            merged_id=other_id,
            merged_version=int(versions[1]),
        )
    except PreconditionFailed:
        return _refused(page, child_id, other_id, 409, "version", "version_conflict")
    except (Conflict, InvalidInput) as refused:
        return _refused(page, child_id, other_id, refused.status, refused.code, refused.code)
    _audit_outcome(page, outcome)
    unit.note_alerts(raised)
    return RedirectResponse(f"/records/{child_id}/merges/{outcome.merge.id}", status_code=303)


def _refused(
    page: PageContext, kept: uuid.UUID, other: uuid.UUID, status: int, problem: str, reason: str
) -> Response:
    page.unit.audit.reason = reason
    words = PROBLEMS.get(problem, PROBLEMS["version"])
    return _compare(page, kept, other, status_code=status, problem=words)


def _audit_outcome(page: PageContext, outcome: lifecycle.MergeOutcome) -> None:
    """As the API's answer does: both entries, the merge, and each entry's field diff."""
    audit = page.unit.audit
    audit.children(outcome.survivor.child.id, outcome.merged.child.id)
    audit.detail["merge_id"] = str(outcome.merge.id)
    audit.detail["changes"] = outcome.changes


# --- The merge's page, and undoing it -----------------------------------------------------


def _merge_page(
    page: PageContext,
    child_id: uuid.UUID,
    merge_id: uuid.UUID,
    *,
    status_code: int = 200,
    problem: str = "",
    reason: str = "",
) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    record = lifecycle.merge_of(
        session=unit.session, caller=viewer.principal, survivor_id=child_id, merge_id=merge_id
    )
    survivor: ChildPublic = read_record(page, child_id)
    unit.audit.children(record.merged_id)
    return render(
        page.request,
        "record_merged.html",
        status_code=status_code,
        child=survivor,
        merge=record,
        problem=problem,
        reason=reason,
    )


@router.get(
    "/records/{child_id}/merges/{merge_id}",
    **page(Permission.CHILD_READ, needs=Permission.CHILD_MERGE),
)
def merged(child_id: uuid.UUID, merge_id: uuid.UUID, page: PageDep) -> Response:
    """The kept record after the merge, and the form to undo it (or, once undone, that)."""
    return _merge_page(page, child_id, merge_id)


@router.post("/records/{child_id}/merges/{merge_id}/undo", **page(Permission.CHILD_MERGE))
def undo(child_id: uuid.UUID, merge_id: uuid.UUID, page: PageDep) -> Response:
    """`lifecycle.unmerge_telling_workers` at the version the page showed, with the
    reason kept in the audit row."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    unit.audit.children(child_id)
    unit.audit.detail["merge_id"] = str(merge_id)
    reason, version = page.field("reason")[:500], page.field("version")
    if not reason or not version.isdigit():
        unit.audit.reason = "invalid_input"
        words = PROBLEMS["reason"] if not reason else PROBLEMS["undo_version"]
        return _merge_page(page, child_id, merge_id, status_code=422, problem=words, reason=reason)
    unit.audit.detail["unmerge_reason"] = reason
    try:
        outcome, raised = lifecycle.unmerge_telling_workers(
            session=unit.session,
            caller=viewer.principal,
            purpose=unit.purpose,
            timing=timing_of(page.settings),
            survivor_id=child_id,
            merge_id=merge_id,
            survivor_version=int(version),
        )
    except (PreconditionFailed, Conflict) as refused:
        stale = isinstance(refused, PreconditionFailed)
        unit.audit.reason = "version_conflict" if stale else refused.code
        words = PROBLEMS["undo_version" if stale else refused.code]
        return _merge_page(page, child_id, merge_id, status_code=409, problem=words, reason=reason)
    _audit_outcome(page, outcome)
    unit.note_alerts(raised)
    return RedirectResponse(f"/records/{child_id}/merges/{merge_id}", status_code=303)
